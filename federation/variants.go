package federation

import (
	"crypto"
	"time"
)

// The accepted variants of the reconstructed token, NOTES §4.3 (GUESS):
// which the Microsoft Federation Gateway uses is not verified, so every
// listed one is accepted, and nothing else.

// Key transport: RSA-OAEP (MGF1 with SHA-1) and RSA PKCS#1 v1.5.
const (
	algRSAOAEP = "http://www.w3.org/2001/04/xmlenc#rsa-oaep-mgf1p"
	algRSA15   = "http://www.w3.org/2001/04/xmlenc#rsa-1_5"
)

// Data encryption: AES-CBC with 128, 192 or 256-bit keys (key length in
// bytes).
var dataAlgorithms = map[string]int{
	"http://www.w3.org/2001/04/xmlenc#aes128-cbc": 16,
	"http://www.w3.org/2001/04/xmlenc#aes192-cbc": 24,
	"http://www.w3.org/2001/04/xmlenc#aes256-cbc": 32,
}

// Signatures: RSA-SHA1 and RSA-SHA256 (goxmldsig's identifiers).
var signatureHashes = map[string]crypto.Hash{
	"http://www.w3.org/2000/09/xmldsig#rsa-sha1":        crypto.SHA1,
	"http://www.w3.org/2001/04/xmldsig-more#rsa-sha256": crypto.SHA256,
}

// The signature's KeyInfo may carry the signing certificate (X509Data) or
// only point at it (a SecurityTokenReference, or nothing at all); without a
// certificate each trusted issuer certificate is tried in turn.

// Audience: our ApplicationUri made absolute, compared case-insensitively
// (NOTES §4.3: "GUESS-safe").

// Offers and their lifetimes. NOTES §4.3, [DEC] Offer.cs.
const (
	OfferFreeBusy     = "MSExchange.SharingCalendarFreeBusy"
	OfferAutodiscover = "MSExchange.Autodiscover"
)

var offerLifetimes = map[string]time.Duration{
	OfferFreeBusy:     5 * time.Minute,
	OfferAutodiscover: 8 * time.Hour,
}

// Claim names (WCF claim type = AttributeNamespace + "/" + AttributeName).
const (
	claimAction = "http://schemas.xmlsoap.org/ws/2006/12/authorization/claims/action"
	claimEmail  = "http://schemas.xmlsoap.org/claims/EmailAddress"
)

// Namespaces.
const (
	nsSAML      = "urn:oasis:names:tc:SAML:1.0:assertion"
	nsDSig      = "http://www.w3.org/2000/09/xmldsig#"
	nsXEnc      = "http://www.w3.org/2001/04/xmlenc#"
	nsWSSE      = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd"
	valueSKI    = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-x509-token-profile-1.0#X509SubjectKeyIdentifier"
	typeElement = "http://www.w3.org/2001/04/xmlenc#Element"
)
