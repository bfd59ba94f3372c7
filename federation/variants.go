package federation

import (
	"crypto"

	"github.com/calfed/calfed/internal/fedtoken"
)

// The accepted variants of the reconstructed token, NOTES §4.3 (GUESS):
// which the Microsoft Federation Gateway uses is not verified, so every
// listed one is accepted, and nothing else.

// Key transport: RSA-OAEP (MGF1 with SHA-1) and RSA PKCS#1 v1.5.
const (
	algRSAOAEP = fedtoken.AlgRSAOAEP
	algRSA15   = fedtoken.AlgRSA15
)

// Data encryption: AES-CBC with 128, 192 or 256-bit keys
// (fedtoken.DataKeyLength).

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

// Offers, each with its lifetime (fedtoken.OfferLifetime). NOTES §4.3,
// [DEC] Offer.cs.
const (
	OfferFreeBusy     = fedtoken.OfferFreeBusy
	OfferAutodiscover = fedtoken.OfferAutodiscover
)

// Claim names (WCF claim type = AttributeNamespace + "/" + AttributeName).
const (
	claimAction = fedtoken.ClaimAction
	claimEmail  = fedtoken.ClaimEmail
)

// Namespaces.
const (
	nsSAML   = fedtoken.NSSAML
	nsDSig   = fedtoken.NSDSig
	nsXEnc   = fedtoken.NSXEnc
	nsWSSE   = fedtoken.NSWSSE
	valueSKI = fedtoken.ValueSKI
)
