// Package federation is calfed's side of Exchange federation: validating
// the WS-Security delegation tokens partners present (NOTES §4.3) and
// putting the verified caller into the request context, and minting such
// tokens for the development token issuer and tests (NOTES §4.4).
//
// No Microsoft specification documents the token; the notes reconstruct
// it, and where they say GUESS every variant they list is accepted. Each
// such choice is in variants.go.
package federation
