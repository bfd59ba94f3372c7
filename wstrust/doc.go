// Package wstrust is the WS-Trust 2005/02 exchange by which an Exchange
// organisation obtains a delegation token from its token issuer (docs/protocol.md
// §4.4): the RequestSecurityToken (RST) envelope, signed with the
// requester's federation certificate over its wsu:Timestamp and a:To
// header, and the RequestSecurityTokenResponse (RSTR) carrying the
// encrypted token. Both sides use it: the development token issuer (sts)
// reads requests and writes responses; token acquisition (delegation)
// writes requests and reads responses.
//
// Both messages keep the layout of the real exchange between Exchange and
// the federation gateway (docs/gateway/DAuthRequest.xml,
// DAuthResponse.xml; FINDINGS §1); the tests hold them against it element
// by element, and docs/protocol.md §4.4 lists the deliberate differences.
package wstrust
