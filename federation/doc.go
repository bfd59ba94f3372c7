// Package federation validates the WS-Security delegation tokens partners
// present (NOTES §4.3) and puts the verified caller into the request
// context: Validator decrypts the xenc:EncryptedData, verifies the SAML 1.1
// assertion's signature against the token issuer's certificates and checks
// audience, validity, offer and replay; Guard is the HTTP middleware that
// finds the token in one bounded pass over the request (envelope.go) and
// answers refusals with the WS-Security fault or 401.
//
// The validator owns the one cache of the path (cache.go): tokens seen, by
// their bytes, and assertion IDs, until they expire.
//
// No Microsoft specification documents the token; the notes reconstruct
// it, and where they say GUESS every variant they list is accepted. Each
// such choice is in variants.go. Minting tokens is the development token
// issuer's job (package sts), asking for them token acquisition's
// (package delegation).
package federation
