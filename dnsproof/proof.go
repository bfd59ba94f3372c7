package dnsproof

import (
	"crypto"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/sha512"
	"encoding/base64"
	"errors"
	"strings"

	"github.com/calfed/calfed/internal/domainname"
)

// Signature is RSA-PKCS#1 v1.5-SHA-1 over the lower-cased, trimmed domain:
// what Exchange sends the Federation Gateway as DomainOwnershipProofHeader.
// docs/protocol.md §4.5, §5. The domain is read in its canonical form
// (internal/domainname): for an ASCII domain that is Exchange's lower-cased
// name, an internationalised one is signed as its A-label, the name DNS
// carries; a domain with no canonical form has no proof.
func Signature(key *rsa.PrivateKey, domain string) ([]byte, error) {
	d, err := canonical(domain)
	if err != nil {
		return nil, err
	}
	sum := sha1.Sum([]byte(d))
	return rsa.SignPKCS1v15(nil, key, crypto.SHA1, sum[:])
}

// canonical is how the proof algorithm reads a domain.
func canonical(domain string) (string, error) {
	return domainname.Canonical(strings.TrimSpace(domain))
}

// Proof is Base64(SHA-512(Signature)): the TXT value to publish, always 88
// characters. docs/protocol.md §5.
func Proof(key *rsa.PrivateKey, domain string) (string, error) {
	sig, err := Signature(key, domain)
	if err != nil {
		return "", err
	}
	return ProofOfSignature(sig), nil
}

// ProofOfSignature is the proof a signature stands for.
func ProofOfSignature(sig []byte) string {
	sum := sha512.Sum512(sig)
	return base64.StdEncoding.EncodeToString(sum[:])
}

// ErrBadSignature is returned when a partner's signature does not verify.
var ErrBadSignature = errors.New("dnsproof: the signature does not verify with the certificate's key")

// VerifySignature checks a partner's signature over its domain with its
// public key. The published proof is a hash of that signature, so without
// the signature a proof cannot be checked against a certificate.
func VerifySignature(pub *rsa.PublicKey, domain string, sig []byte) error {
	d, err := canonical(domain)
	if err != nil {
		return err
	}
	sum := sha1.Sum([]byte(d))
	if rsa.VerifyPKCS1v15(pub, crypto.SHA1, sum[:], sig) != nil {
		return ErrBadSignature
	}
	return nil
}

// LooksLikeProof reports whether a TXT value has the shape of a proof.
func LooksLikeProof(v string) bool {
	if len(v) != 88 || !strings.HasSuffix(v, "==") {
		return false
	}
	b, err := base64.StdEncoding.DecodeString(v)
	return err == nil && len(b) == 64
}
