package federation

import (
	"os"
	"testing"
	"time"

	"github.com/beevik/etree"

	"github.com/calfed/calfed/internal/fedtoken"
	"github.com/calfed/calfed/sts"
)

// Any plaintext, delivered encrypted to our key, is refused or accepted
// without a panic; accepted only if it is a token the issuer signed.
func FuzzValidatePlaintext(f *testing.F) {
	w := newWorld(f)
	a, _ := w.issue().Assertion()
	doc := etree.NewDocument()
	doc.SetRoot(a)
	good, _ := doc.WriteToBytes()
	f.Add(good)
	f.Add([]byte(`<saml:Assertion xmlns:saml="urn:oasis:names:tc:SAML:1.0:assertion" MajorVersion="1" AssertionID="_x"/>`))
	// The signature's KeyInfo carrying the certificate, and the
	// gateway's own assertion (KeyInfo by SKI, a signer we do not trust
	// here).
	is := w.issue()
	is.KeyInfoCertificate = true
	withCert, _ := is.Assertion()
	doc = etree.NewDocument()
	doc.SetRoot(withCert)
	b, _ := doc.WriteToBytes()
	f.Add(b)
	if gw, err := os.ReadFile("../docs/gateway/assertion-2025.xml"); err == nil {
		f.Add(gw)
	}
	f.Fuzz(func(t *testing.T, plain []byte) {
		tok, err := sts.EncryptBytes(plain, w.ours.Cert, "", "")
		if err != nil {
			t.Fatal(err)
		}
		v := &Validator{Trust: w.v.Trust}
		c, err := v.Validate(xmlOf(t, roundTrip(t, tok)), OfferFreeBusy, t0.Add(time.Minute))
		if err == nil && c.Email != "alice@partner.example" {
			t.Fatalf("accepted a token the issuer did not sign: %+v", c)
		}
	})
}

// Any EncryptedData element is parsed without a panic.
func FuzzParseEncrypted(f *testing.F) {
	w := newWorld(f)
	tok, _ := w.issue().Token()
	doc := etree.NewDocument()
	doc.SetRoot(tok)
	s, _ := doc.WriteToString()
	f.Add(s)
	// 3DES (the default) and AES-256 data, OAEP and PKCS#1 v1.5 keys.
	for _, v := range []struct{ key, data string }{{algRSAOAEP, fedtoken.AlgAES256CBC}, {algRSA15, fedtoken.AlgTripleDESCBC}} {
		is := w.issue()
		is.KeyTransport, is.DataAlg = v.key, v.data
		tok, _ := is.Token()
		f.Add(string(xmlOf(f, tok)))
	}
	f.Fuzz(func(t *testing.T, xml string) {
		v := &Validator{Trust: w.v.Trust, AcceptRSA15: true}
		v.Validate([]byte(xml), OfferFreeBusy, t0.Add(time.Minute))
	})
}
