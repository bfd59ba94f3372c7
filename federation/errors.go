package federation

import "errors"

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
)

// PublicMessage is what a refused caller is told, whatever the reason:
// the text Exchange administrators see from Exchange. NOTES §4.3.
const PublicMessage = "An error occurred when processing the security tokens in the message."
