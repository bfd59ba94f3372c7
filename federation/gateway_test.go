package federation

import (
	"crypto/x509"
	"errors"
	"os"
	"testing"
	"time"

	"github.com/beevik/etree"

	"github.com/calfed/calfed/sts"
	"github.com/calfed/calfed/wsfed"
)

// A real assertion of the Microsoft Federation Gateway (docs/gateway,
// FINDINGS §2): signed with RSA-SHA1, its KeyInfo naming the signing
// certificate by SKI only, for MSExchange.MailTips. Delivered encrypted to
// our key, it passes signature, audience and lifetime, and is refused for
// free/busy for its offer.
func TestGatewayAssertion2025(t *testing.T) {
	w := newWorld(t)
	plain, err := os.ReadFile("../docs/gateway/assertion-2025.xml")
	if err != nil {
		t.Skipf("no gateway sample: %v", err)
	}
	pemData, err := os.ReadFile("../docs/gateway/signing-cert-2025.pem")
	if err != nil {
		t.Fatal(err)
	}
	signer, err := wsfed.DecodeCertificates(string(pemData))
	if err != nil || len(signer) != 1 {
		t.Fatalf("signing-cert-2025.pem: %v", err)
	}
	old, _ := os.ReadFile("../docs/gateway/signing-cert-2024.pem")
	oldSigner, _ := wsfed.DecodeCertificates(string(old))
	el, err := sts.EncryptBytes(plain, w.ours.Cert, "", "")
	if err != nil {
		t.Fatal(err)
	}
	d := etree.NewDocument()
	d.SetRoot(el)
	tok, _ := d.WriteToBytes()
	validator := func(issuers []*x509.Certificate) *Validator {
		return &Validator{Trust: func() *Trust {
			return &Trust{Keys: ring{w.ours}, Issuers: issuers, ApplicationURI: "FYDIBOHF25SPDLT.coditeksdf.coditek.net"}
		}}
	}
	signed := time.Date(2025, 2, 6, 4, 48, 0, 0, time.UTC) // NotBefore + 33 s
	if _, err := validator(signer).Validate(tok, OfferFreeBusy, signed); !errors.Is(err, ErrOffer) {
		t.Errorf("for free/busy: %v, want ErrOffer", err)
	}
	c, err := validator(signer).Validate(tok, "MSExchange.MailTips", signed)
	if err != nil || c.Email != "op_mbx01@coditeksdf.coditek.net" || c.Domain != "coditeksdf.coditek.net" || c.TokenID != "uuid-39accd5a-e463-4e1c-803f-d5c1732c7800" {
		t.Errorf("for its own offer: %+v, %v", c, err)
	}
	if _, err := validator(signer).Validate(tok, "MSExchange.MailTips", t0); !errors.Is(err, ErrExpired) {
		t.Errorf("a year later: %v, want ErrExpired", err)
	}
	if len(oldSigner) == 1 {
		if _, err := validator(oldSigner).Validate(tok, "MSExchange.MailTips", signed); !errors.Is(err, ErrSignature) {
			t.Errorf("trusting only the 2024 certificate: %v, want ErrSignature", err)
		}
	}
}
