package certs

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"os"
	"strings"
	"time"

	pkcs12 "software.sslmate.com/src/go-pkcs12"
)

// Certificate is a certificate with its RSA private key.
type Certificate struct {
	Cert *x509.Certificate
	Key  *rsa.PrivateKey
}

// Errors; match with errors.Is.
var (
	ErrNoKey   = errors.New("certs: no usable RSA private key")
	ErrNoCert  = errors.New("certs: no certificate")
	ErrMissing = errors.New("certs: not stored")
)

// SKI is the certificate's Subject Key Identifier: what a delegation
// token names to say which key it is encrypted to. docs/protocol.md §4.3.
func (c *Certificate) SKI() []byte { return c.Cert.SubjectKeyId }

// Thumbprint is the SHA-1 of the certificate, upper-case hex, as Exchange
// shows it.
func (c *Certificate) Thumbprint() string {
	sum := sha1.Sum(c.Cert.Raw)
	return strings.ToUpper(hex.EncodeToString(sum[:]))
}

// Generate makes a self-signed federation certificate as Exchange's
// New-ExchangeCertificate does for federation: RSA 2048, a Subject Key
// Identifier, five years, signing and key encipherment.
func Generate(commonName string, now time.Time) (*Certificate, error) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, err
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		return nil, err
	}
	pub, err := x509.MarshalPKIXPublicKey(&key.PublicKey)
	if err != nil {
		return nil, err
	}
	ski := sha1.Sum(pub) // RFC 5280 4.2.1.2 method 1, over the whole key
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: commonName},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.AddDate(5, 0, 0),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment | x509.KeyUsageDataEncipherment,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
		SubjectKeyId:          ski[:],
		BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, err
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, err
	}
	return &Certificate{Cert: cert, Key: key}, nil
}

// EncodePEM writes the certificate and its PKCS#8 key.
func (c *Certificate) EncodePEM() ([]byte, error) {
	key, err := x509.MarshalPKCS8PrivateKey(c.Key)
	if err != nil {
		return nil, err
	}
	out := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Cert.Raw})
	return append(out, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: key})...), nil
}

// ParseFile is Parse for the file path, with the PKCS#12 password, when
// there is one, in passwordFile (its line end dropped).
func ParseFile(path, passwordFile string) (*Certificate, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	password := ""
	if passwordFile != "" {
		b, err := os.ReadFile(passwordFile)
		if err != nil {
			return nil, err
		}
		password = strings.TrimRight(string(b), "\r\n")
	}
	return Parse(data, password)
}

// Parse reads a certificate and its key from PEM (CERTIFICATE plus PRIVATE
// KEY or RSA PRIVATE KEY) or from PKCS#12 (an Exchange .pfx export) with
// password. The key must match the certificate and be RSA, and the
// certificate must carry a Subject Key Identifier.
func Parse(data []byte, password string) (*Certificate, error) {
	var c Certificate
	if strings.Contains(string(data), "-----BEGIN") {
		for rest := data; ; {
			var b *pem.Block
			b, rest = pem.Decode(rest)
			if b == nil {
				break
			}
			if err := c.absorb(b); err != nil {
				return nil, err
			}
		}
	} else {
		key, cert, _, err := pkcs12.DecodeChain(data, password)
		if err != nil {
			return nil, fmt.Errorf("certs: reading PKCS#12: %w", err)
		}
		rk, ok := key.(*rsa.PrivateKey)
		if !ok {
			return nil, fmt.Errorf("%w: the key is %T", ErrNoKey, key)
		}
		c.Cert, c.Key = cert, rk
	}
	if c.Cert == nil {
		return nil, ErrNoCert
	}
	if c.Key == nil {
		return nil, ErrNoKey
	}
	pub, ok := c.Cert.PublicKey.(*rsa.PublicKey)
	if !ok || !pub.Equal(&c.Key.PublicKey) {
		return nil, fmt.Errorf("%w: the key does not belong to the certificate", ErrNoKey)
	}
	if len(c.Cert.SubjectKeyId) == 0 {
		return nil, errors.New("certs: the certificate has no Subject Key Identifier; delegation tokens name their key by it")
	}
	return &c, nil
}

func (c *Certificate) absorb(b *pem.Block) error {
	switch b.Type {
	case "CERTIFICATE":
		cert, err := x509.ParseCertificate(b.Bytes)
		if err != nil {
			return err
		}
		if c.Cert == nil { // the first is the leaf; the rest are the chain
			c.Cert = cert
		}
	case "PRIVATE KEY":
		k, err := x509.ParsePKCS8PrivateKey(b.Bytes)
		if err != nil {
			return err
		}
		rk, ok := k.(*rsa.PrivateKey)
		if !ok {
			return fmt.Errorf("%w: the key is %T", ErrNoKey, k)
		}
		c.Key = rk
	case "RSA PRIVATE KEY":
		k, err := x509.ParsePKCS1PrivateKey(b.Bytes)
		if err != nil {
			return err
		}
		c.Key = k
	}
	return nil
}
