// Package fedtoken is the wire vocabulary of the Exchange delegation token
// (NOTES §4.3, §4.4), shared by the side that mints tokens (sts), the side
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

// Key transport: RSA-OAEP (MGF1 with SHA-1) and RSA PKCS#1 v1.5. NOTES
// §4.3 (GUESS: both accepted).
const (
	AlgRSAOAEP = "http://www.w3.org/2001/04/xmlenc#rsa-oaep-mgf1p"
	AlgRSA15   = "http://www.w3.org/2001/04/xmlenc#rsa-1_5"
)

// AlgAES256CBC is the data encryption Exchange asks for.
const AlgAES256CBC = "http://www.w3.org/2001/04/xmlenc#aes256-cbc"

// DataKeyLength is the key length in bytes of an accepted data encryption
// algorithm (AES-CBC with 128, 192 or 256-bit keys); false for any other.
func DataKeyLength(alg string) (int, bool) {
	switch alg {
	case "http://www.w3.org/2001/04/xmlenc#aes128-cbc":
		return 16, true
	case "http://www.w3.org/2001/04/xmlenc#aes192-cbc":
		return 24, true
	case AlgAES256CBC:
		return 32, true
	}
	return 0, false
}

// DataAlgorithms lists the accepted data encryption algorithms.
var DataAlgorithms = []string{
	"http://www.w3.org/2001/04/xmlenc#aes128-cbc",
	"http://www.w3.org/2001/04/xmlenc#aes192-cbc",
	AlgAES256CBC,
}

// Offers. NOTES §4.3, [DEC] Offer.cs.
const (
	OfferFreeBusy     = "MSExchange.SharingCalendarFreeBusy"
	OfferAutodiscover = "MSExchange.Autodiscover"
)

// OfferLifetime is how long a token for offer lives; false for an unknown
// offer.
func OfferLifetime(offer string) (time.Duration, bool) {
	switch offer {
	case OfferFreeBusy:
		return 5 * time.Minute, true
	case OfferAutodiscover:
		return 8 * time.Hour, true
	}
	return 0, false
}

// Claim names (WCF claim type = AttributeNamespace + "/" + AttributeName).
const (
	ClaimAction = "http://schemas.xmlsoap.org/ws/2006/12/authorization/claims/action"
	ClaimEmail  = "http://schemas.xmlsoap.org/claims/EmailAddress"
)

// SAMLTime is the xs:dateTime form the issuer writes.
const SAMLTime = "2006-01-02T15:04:05.000Z"

// AbsoluteURI is an ApplicationUri made absolute as Exchange's requester
// does: "http://" in front when it has no scheme. NOTES §4.3.
func AbsoluteURI(uri string) string {
	l := strings.ToLower(uri)
	if strings.Contains(l, "://") || strings.HasPrefix(l, "urn:") {
		return uri
	}
	return "http://" + uri
}
