package federation

import (
	"errors"
	"fmt"
)

// Why a token was refused; match with errors.Is. The caller only ever sees
// the fixed public message (PublicMessage); these go to the log.
var (
	ErrNoToken      = errors.New("federation: no delegation token in the request")
	ErrMalformed    = errors.New("federation: malformed token")
	ErrAlgorithm    = errors.New("federation: algorithm not accepted")
	ErrUnknownKey   = errors.New("federation: token is encrypted to a key we do not hold")
	ErrDecrypt      = errors.New("federation: token does not decrypt")
	ErrSignature    = errors.New("federation: token signature does not verify against a trusted issuer")
	ErrExpired      = errors.New("federation: token is expired")
	ErrNotYetValid  = errors.New("federation: token is not yet valid")
	ErrAudience     = errors.New("federation: token is for another audience")
	ErrOffer        = errors.New("federation: token is for another offer")
	ErrClaims       = errors.New("federation: token lacks a required claim")
	ErrReplay       = errors.New("federation: token was already used")
	ErrNotFederated = errors.New("federation: no federation trust or certificate is set up")
	// ErrReplayStore: under RefuseReuse the Replay store did not answer,
	// so whether the token was used before is unknown; it is refused.
	ErrReplayStore = errors.New("federation: the replay store did not answer")
	// ErrCondition: the assertion carries a condition calfed does not
	// understand, which makes it Indeterminate (SAML 1.1 core §2.3.2.1).
	ErrCondition = errors.New("federation: token carries a condition calfed does not understand")
	// ErrUntrustedIssuer: the signature names a signer that is not one of
	// the token issuer's certificates. It is an ErrSignature too.
	ErrUntrustedIssuer = fmt.Errorf("%w: the signer is not a trusted issuer", ErrSignature)
)

// PublicMessage is the reason of the fault for a token that cannot be
// processed: WCF's text, which Exchange administrators see. docs/protocol.md §4.3,
// FINDINGS §5b. Other refusals are answered by answer.go.
const PublicMessage = "An error occurred when processing the security tokens in the message."
