// Package federation validates the WS-Security delegation tokens partners
// present (docs/protocol.md §4.3; docs/gateway/FINDINGS.md for the gateway's real
// token) and puts the verified caller into the request context: Validator
// decrypts the xenc:EncryptedData (RSA-OAEP, 3DES or AES-CBC), verifies
// the SAML 1.1 assertion's signature against the token issuer's
// certificates and checks its conditions (every audience restriction
// names us, none is one calfed does not understand), validity, the offer
// and its lifetime;
// Guard is the HTTP middleware that finds the token in one bounded pass
// over the request (envelope.go) and answers refusals as Exchange does
// (answer.go: the WS-Security fault, 401, or ErrorAccessDenied).
//
// The validator owns the one cache of the path (cache.go): tokens seen, by
// the digest of their bytes, and, when reuse is refused, the assertions
// the Replay store (the database, shared by every server) has recorded as
// used, each for as long as its token may be used, bounded in entries and
// bytes, and emptied whenever the trust it was validated under changes.
//
// No Microsoft specification documents the token; the notes reconstruct
// it, and where they say GUESS every variant they list is accepted. Each
// such choice is in variants.go. Minting tokens is the development token
// issuer's job (package sts), asking for them token acquisition's
// (package delegation).
package federation
