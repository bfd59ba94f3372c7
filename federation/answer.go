package federation

import (
	"errors"
	"net/http"
	"strings"

	"github.com/calfed/calfed/internal/soap"
)

// Failure is the class of a refusal, which decides its answer: Exchange
// answers a token its WCF security layer cannot process with a WS-Security
// fault, a token its own checks refuse with an empty 401, and a valid token
// for another operation with ErrorAccessDenied on EWS (FINDINGS §5b,
// docs/protocol.md §4.3). The cause itself is only logged.
type Failure int

const (
	// FailToken: the token cannot be processed (malformed, algorithm,
	// key, decryption, signature, a signer that is not a trusted issuer).
	// A SOAP fault, subcode wsse:InvalidSecurityToken. An untrusted signer
	// is here, not under FailValidation: requesters report a gateway
	// certificate the receiver does not know (metadata not refreshed) as
	// "An error occurred when processing the security tokens in the
	// message." ([KB] "Resolve free/busy errors", LID 59916; FINDINGS §5b).
	FailToken Failure = iota
	// FailSecurity: the message has no token at all. A SOAP fault, subcode
	// wsse:InvalidSecurity, as WCF answers a message it cannot secure.
	FailSecurity
	// FailValidation: the token is genuine but its claims or conditions
	// are refused (expired, not yet valid, audience, a condition not
	// understood, missing or unknown claims, reuse refused, federation not
	// set up). HTTP 401, empty body.
	FailValidation
	// FailOffer: a valid token for another offer. On EWS an
	// ErrorAccessDenied SOAP fault; on Autodiscover 401.
	FailOffer
	// FailUnavailable: the token could not be judged now (the replay
	// store did not answer). HTTP 503, empty body, on either endpoint:
	// the requester may try again; nothing about the token is implied.
	FailUnavailable
)

// Classify is the one place a refusal's cause becomes its class.
func Classify(err error) Failure {
	switch {
	case errors.Is(err, ErrReplayStore):
		return FailUnavailable
	case errors.Is(err, ErrOffer):
		return FailOffer
	case errors.Is(err, ErrExpired), errors.Is(err, ErrNotYetValid),
		errors.Is(err, ErrAudience), errors.Is(err, ErrCondition), errors.Is(err, ErrClaims), errors.Is(err, ErrReplay), errors.Is(err, ErrNotFederated):
		return FailValidation
	case errors.Is(err, ErrNoToken):
		return FailSecurity
	}
	return FailToken
}

// Cause names a refusal's cause for the log: the text of the error it
// is (ErrMalformed, ErrExpired, …), one of a short fixed list where the
// error's own text carries details a sender chooses, so that the log can
// count refusals by cause (internal/lograte). Anything else is "other".
func Cause(err error) string {
	for _, c := range causes {
		if errors.Is(err, c) {
			return c.Error()
		}
	}
	return "other"
}

// causes, the more particular first.
var causes = []error{ErrOffer, ErrNoToken, ErrUntrustedIssuer, ErrMalformed, ErrAlgorithm, ErrUnknownKey, ErrDecrypt,
	ErrSignature, ErrExpired, ErrNotYetValid, ErrAudience, ErrCondition, ErrClaims, ErrReplay, ErrReplayStore, ErrNotFederated}

func (f Failure) String() string {
	switch f {
	case FailToken:
		return "token"
	case FailSecurity:
		return "security"
	case FailValidation:
		return "validation"
	case FailOffer:
		return "offer"
	case FailUnavailable:
		return "unavailable"
	}
	return "unknown"
}

// The reasons WCF gives with its WS-Security faults (FINDINGS §5b;
// SecurityUtils.CreateSecurityFaultCode in the .NET reference source).
const (
	reasonInvalidSecurity = "An error occurred when verifying security for the message."
	// AccessDeniedMessage is EWS's ErrorAccessDenied text (CoreResources).
	AccessDeniedMessage = "Access is denied. Check credentials and try again."
	nsEWSTypes          = "http://schemas.microsoft.com/exchange/services/2006/types"
	nsEWSErrors         = "http://schemas.microsoft.com/exchange/services/2006/errors"
)

// RefuseEWS answers a refused EWS request as Exchange does: the
// WS-Security fault, 401, or ErrorAccessDenied for another offer.
func RefuseEWS(w http.ResponseWriter, r *http.Request, err error) {
	switch Classify(err) {
	case FailUnavailable:
		Unavailable(w, r)
	case FailOffer:
		AccessDeniedFault(w, r)
	case FailValidation:
		Unauthorized(w, r)
	case FailSecurity:
		securityFault(w, r, "InvalidSecurity", reasonInvalidSecurity)
	default:
		SecurityFault(w, r)
	}
}

// RefuseAutodiscover answers a refused Autodiscover request as Exchange
// does: the WS-Security fault for a token it cannot process, 401 for
// everything else, another offer and a missing token included (Exchange's
// AutodiscoverAuthorizationManager answers 401 when it finds no SAML
// token, FINDINGS §5b).
func RefuseAutodiscover(w http.ResponseWriter, r *http.Request, err error) {
	switch Classify(err) {
	case FailUnavailable:
		Unavailable(w, r)
	case FailOffer, FailValidation, FailSecurity:
		Unauthorized(w, r)
	default:
		SecurityFault(w, r)
	}
}

// version is the SOAP version the request was sent in, by its content
// type (application/soap+xml is SOAP 1.2).
func version(r *http.Request) soap.Version {
	if strings.HasPrefix(strings.ToLower(strings.TrimSpace(r.Header.Get("Content-Type"))), "application/soap+xml") {
		return soap.V12
	}
	return soap.V11
}

// SecurityFault answers with the fault WCF gives for a token it cannot
// process: subcode wsse:InvalidSecurityToken, no detail, HTTP 500.
// FINDINGS §5b.
func SecurityFault(w http.ResponseWriter, r *http.Request) {
	securityFault(w, r, "InvalidSecurityToken", PublicMessage)
}

func securityFault(w http.ResponseWriter, r *http.Request, subcode, reason string) {
	v := version(r)
	f := soap.Fault{Code: "Sender", SubcodeNS: nsWSSE, Subcode: subcode, Reason: reason}
	soap.WriteResponse(w, v, http.StatusInternalServerError, f.Write(v, nil))
}

// AccessDeniedFault answers as EWS does when a valid token's offer does not
// suit the operation (ServiceAccessDeniedException): a SOAP fault with
// subcode t:ErrorAccessDenied, its detail the ResponseCode and Message in
// the errors namespace, HTTP 500. FINDINGS §5b.
func AccessDeniedFault(w http.ResponseWriter, r *http.Request) {
	v := version(r)
	f := soap.Fault{Code: "Sender", SubcodeNS: nsEWSTypes, Subcode: "ErrorAccessDenied", Reason: AccessDeniedMessage,
		Detail: func(w *soap.Writer) {
			w.Elem("e:ResponseCode", "ErrorAccessDenied", "xmlns:e", nsEWSErrors)
			w.Elem("e:Message", AccessDeniedMessage, "xmlns:e", nsEWSErrors)
		}}
	soap.WriteResponse(w, v, http.StatusInternalServerError, f.Write(v, nil))
}

// Unauthorized answers 401 with an empty body, as Exchange's authorization
// managers do (ReturnStatusCodeResponse). FINDINGS §5b.
func Unauthorized(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Length", "0")
	w.WriteHeader(http.StatusUnauthorized)
}

// Unavailable answers 503 with an empty body: the token could not be
// judged now.
func Unavailable(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Length", "0")
	w.WriteHeader(http.StatusServiceUnavailable)
}
