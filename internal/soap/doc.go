// Package soap holds the SOAP 1.1/1.2 plumbing shared by calfed's protocol
// endpoints: bounded, namespace-aware envelope decoding and the writing of
// envelopes and faults.
//
// Decoding never depends on namespace prefixes or header order, refuses
// document type declarations (so no entity expansion or external entities can
// happen), and bounds body size, element depth and element count.
package soap
