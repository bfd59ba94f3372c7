package federation

import (
	"crypto"
	"strings"

	"github.com/calfed/calfed/internal/fedtoken"
)

// The accepted variants of the token, docs/protocol.md §4.3 and
// docs/gateway/FINDINGS.md: what the gateway is seen to send, and the
// listed variants beside it where the sources leave the choice open, and
// nothing else.

// Key transport: RSA-OAEP (MGF1 with SHA-1), which the gateway uses
// (FINDINGS §1.2); RSA PKCS#1 v1.5 only when Validator.AcceptRSA15 is set
// (config federation.accept_rsa15_key_transport).
const (
	algRSAOAEP = fedtoken.AlgRSAOAEP
	algRSA15   = fedtoken.AlgRSA15
)

// Data encryption: 3DES-CBC, which the gateway answered with in 2010
// (FINDINGS §1.2), and AES-CBC with 128, 192 or 256-bit keys, which
// Exchange asks for (fedtoken.DataKeyLength).

// Signatures: RSA-SHA1 and RSA-SHA256 (goxmldsig's identifiers).
var signatureHashes = map[string]crypto.Hash{
	"http://www.w3.org/2000/09/xmldsig#rsa-sha1":        crypto.SHA1,
	"http://www.w3.org/2001/04/xmldsig-more#rsa-sha256": crypto.SHA256,
}

// The signature's KeyInfo may carry the signing certificate (X509Data) or
// only name it by Subject Key Identifier (a SecurityTokenReference, as the
// gateway does, FINDINGS §2): either way the signature is checked with that
// one certificate, and a signer that is not a trusted issuer is
// ErrUntrustedIssuer. With no KeyInfo, or one naming nothing we read, each
// trusted issuer certificate is tried in turn.

// Audience: our ApplicationUri made absolute, compared without regard to
// the case of ASCII letters (docs/protocol.md §4.3: "GUESS-safe"; no
// Unicode folding, which would make KELVIN SIGN a k), named by every
// AudienceRestrictionCondition. Conditions: AudienceRestrictionCondition
// and DoNotCacheCondition, nothing else (conditions in validate.go).

// Offers, each with its lifetime (fedtoken.OfferLifetime): a token is
// accepted until NotBefore + its offer's lifetime + Skew (Exchange adds no
// skew there; calfed does, to be liberal), whatever its 15-day
// NotOnOrAfter says. docs/protocol.md §4.3, [DEC] Offer.cs, FINDINGS §4.
const (
	OfferFreeBusy     = fedtoken.OfferFreeBusy
	OfferAutodiscover = fedtoken.OfferAutodiscover
	OfferMailTips     = fedtoken.OfferMailTips // GetMailTips; docs/protocol.md §8.4
)

// Claim names (WCF claim type = AttributeNamespace + "/" + AttributeName).
// ThirdPartyRequested, which Exchange needs to treat a token as a
// delegation token, and the holder-of-key proof key are not required: the
// gateway writes both, older issuers may not, and calfed uses neither
// (no Exchange requester signs with the proof key, FINDINGS §3).
const (
	claimAction          = fedtoken.ClaimAction
	claimEmail           = fedtoken.ClaimEmail
	claimRequestorDomain = fedtoken.ClaimRequestorDomain
)

// RelationshipDomain is the domain that selects our organisation
// relationship with the caller: the EmailAddress claim's domain, as
// Exchange looks it up (FreeBusyPermission.GetOrganizationRelationship,
// FINDINGS §5a). The RequestorDomain claim is recorded beside it but
// decides nothing: it is the requesting organisation's ApplicationUri,
// which for every Exchange Online tenant is outlook.com, and in a hybrid
// deployment differs from the user's domain by design (FINDINGS §2), so
// no rule over it could refuse a wrong caller without refusing right ones;
// the gateway's signature already binds it to the user. Any value, or
// none, is accepted; two values are refused as ambiguous.
// docs/protocol.md §4.3.
func RelationshipDomain(c Claims) string {
	return c.Email[strings.LastIndexByte(c.Email, '@')+1:]
}

// Namespaces.
const (
	nsSAML   = fedtoken.NSSAML
	nsDSig   = fedtoken.NSDSig
	nsXEnc   = fedtoken.NSXEnc
	nsWSSE   = fedtoken.NSWSSE
	valueSKI = fedtoken.ValueSKI
)
