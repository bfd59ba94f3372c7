// Package certs keeps calfed's federation certificate: generated or
// imported, in Exchange's three slots (next, current, previous), rolled
// over the way Set-FederationTrust -PublishFederationCertificate rolls
// them (docs/protocol.md §5), with keys on disk readable only by their owner.
package certs
