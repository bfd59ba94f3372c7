// Package fedtoken is the wire vocabulary of the Exchange delegation token
// (docs/protocol.md §4.3, §4.4), shared by the side that mints tokens (sts), the side
// that asks for them (delegation) and the side that validates them
// (federation): namespaces, algorithm identifiers, claim names, offers and
// their lifetimes. It holds names and rules, no behaviour beyond that.
package fedtoken

import (
	"strings"
	"time"
)

// Namespaces.
const (
	NSSAML  = "urn:oasis:names:tc:SAML:1.0:assertion"
	NSDSig  = "http://www.w3.org/2000/09/xmldsig#"
	NSXEnc  = "http://www.w3.org/2001/04/xmlenc#"
	NSWSSE  = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd"
	NSWSU   = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd"
	NSWSA   = "http://www.w3.org/2005/08/addressing"
	NSFed   = "http://schemas.xmlsoap.org/ws/2006/03/federation"
	NSAuth  = "http://schemas.xmlsoap.org/ws/2006/12/authorization"
	NSSOAP2 = "http://www.w3.org/2003/05/soap-envelope"

	// ValueSKI is the KeyIdentifier ValueType naming a certificate by its
	// Subject Key Identifier.
	ValueSKI = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-x509-token-profile-1.0#X509SubjectKeyIdentifier"
	// TypeElement is the EncryptedData Type of an encrypted element.
	TypeElement = "http://www.w3.org/2001/04/xmlenc#Element"
)

// Key transport: RSA-OAEP (MGF1 with SHA-1) and RSA PKCS#1 v1.5. docs/protocol.md
// §4.3 (GUESS: both accepted).
const (
	AlgRSAOAEP = "http://www.w3.org/2001/04/xmlenc#rsa-oaep-mgf1p"
	AlgRSA15   = "http://www.w3.org/2001/04/xmlenc#rsa-1_5"
)

// Data encryption. AlgAES256CBC is what Exchange asks for;
// AlgTripleDESCBC is what the gateway answered with in 2010 and what the
// development issuer uses by default (docs/gateway/FINDINGS.md §1.2).
const (
	AlgAES128CBC    = "http://www.w3.org/2001/04/xmlenc#aes128-cbc"
	AlgAES192CBC    = "http://www.w3.org/2001/04/xmlenc#aes192-cbc"
	AlgAES256CBC    = "http://www.w3.org/2001/04/xmlenc#aes256-cbc"
	AlgTripleDESCBC = "http://www.w3.org/2001/04/xmlenc#tripledes-cbc"
)

// DataKeyLength is the key length in bytes of an accepted data encryption
// algorithm (3DES-CBC, AES-CBC with 128, 192 or 256-bit keys); false for
// any other. XML Encryption 1.0 §5.2.
func DataKeyLength(alg string) (int, bool) {
	switch alg {
	case AlgAES128CBC:
		return 16, true
	case AlgAES192CBC, AlgTripleDESCBC:
		return 24, true
	case AlgAES256CBC:
		return 32, true
	}
	return 0, false
}

// DataAlgorithms lists the accepted data encryption algorithms.
var DataAlgorithms = []string{AlgTripleDESCBC, AlgAES128CBC, AlgAES192CBC, AlgAES256CBC}

// Offers. docs/protocol.md §4.3, [DEC] Offer.cs (docs/gateway/FINDINGS.md §4).
const (
	OfferFreeBusy     = "MSExchange.SharingCalendarFreeBusy"
	OfferAutodiscover = "MSExchange.Autodiscover"
	OfferMailTips     = "MSExchange.MailTips"
)

// offers are the offers Exchange recognises in a token, with their
// lifetimes ([DEC] Offer.cs, the Offer.offers table; FINDINGS §4).
var offers = []struct {
	name string
	life time.Duration
}{
	{"MSExchange.SharingInviteMessage", 15 * 24 * time.Hour},
	{OfferFreeBusy, 5 * time.Minute},
	{"MSExchange.SharingRead", 60 * time.Minute},
	{"MSExchange.MailboxMove", time.Hour},
	{OfferAutodiscover, 8 * time.Hour},
	{OfferMailTips, 5 * time.Minute},
	{"MSExchange.XropLogon", 8 * time.Hour},
	{"MSExchange.MailboxSearch", 8 * time.Hour},
	{"MSExchange.UserPhotoRetrieval", 10 * time.Minute},
}

// OfferLifetime is how long after its NotBefore a token for offer may be
// used; false for an offer Exchange does not recognise in tokens. Names
// are compared without regard to case, as Exchange does.
func OfferLifetime(offer string) (time.Duration, bool) {
	for _, o := range offers {
		if strings.EqualFold(o.name, offer) {
			return o.life, true
		}
	}
	return 0, false
}

// SameOffer reports whether two offer names are the same offer.
func SameOffer(a, b string) bool { return strings.EqualFold(a, b) }

// GatewayLifetime is how long after issue the gateway makes a token's
// NotOnOrAfter, whatever the offer (FINDINGS §1.2, §2); the offer's
// lifetime is what limits its use.
const GatewayLifetime = 15 * 24 * time.Hour

// Claim names (WCF claim type = AttributeNamespace + "/" + AttributeName)
// and the attributes the gateway writes, in its order (FINDINGS §2).
const (
	NSClaims         = "http://schemas.xmlsoap.org/claims"
	NSIdentityClaims = "http://schemas.microsoft.com/ws/2006/04/identity/claims"
	NSAuthzClaims    = "http://schemas.xmlsoap.org/ws/2006/12/authorization/claims"

	ClaimAction              = NSAuthzClaims + "/action"
	ClaimEmail               = NSClaims + "/EmailAddress"
	ClaimRequestorDomain     = NSIdentityClaims + "/RequestorDomain"
	ClaimThirdPartyRequested = NSIdentityClaims + "/ThirdPartyRequested"
)

// The subject of a gateway token: an opaque NameIdentifier
// "<base64>@MicrosoftOnline.com" in the lower-case upn format, confirmed
// holder-of-key by a clear BinarySecret in the WS-Trust 1.3 namespace
// (FINDINGS §2).
const (
	NameIDFormatUPN    = "http://schemas.xmlsoap.org/claims/upn"
	NameIDDomain       = "MicrosoftOnline.com"
	ConfirmHolderOfKey = "urn:oasis:names:tc:SAML:1.0:cm:holder-of-key"
	NSTrust13          = "http://docs.oasis-open.org/ws-sx/ws-trust/200512"
	EncodingBase64     = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-soap-message-security-1.0#Base64Binary"
)

// SAMLTime is the xs:dateTime form the issuer writes.
const SAMLTime = "2006-01-02T15:04:05.000Z"

// AbsoluteURI is an ApplicationUri made absolute as Exchange's requester
// does: "http://" in front when it has no scheme. docs/protocol.md §4.3.
func AbsoluteURI(uri string) string {
	l := strings.ToLower(uri)
	if strings.Contains(l, "://") || strings.HasPrefix(l, "urn:") {
		return uri
	}
	return "http://" + uri
}
