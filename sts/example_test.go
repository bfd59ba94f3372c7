package sts_test

import (
	"crypto/x509"
	"fmt"
	"time"

	"github.com/beevik/etree"

	"github.com/calfed/calfed/certs"
	"github.com/calfed/calfed/federation"
	"github.com/calfed/calfed/sts"
)

type key struct{ c *certs.Certificate }

func (k key) ForKeyIdentifier(ski []byte) (*certs.Certificate, bool) {
	return k.c, string(k.c.SKI()) == string(ski)
}

// Mint a delegation token as the issuer would, and validate it as its
// target does.
func ExampleIssue() {
	now := time.Date(2026, 3, 24, 9, 0, 0, 0, time.UTC)
	issuer, _ := certs.Generate("Token issuer", now.AddDate(0, -1, 0))
	target, _ := certs.Generate("Federation contoso", now.AddDate(0, -1, 0))
	tok, err := sts.Issue{Issuer: "urn:federation:calfed-dev", Signer: issuer, Audience: "FYDIBOHF25SPDLT.contoso.example",
		Email: "alice@partner.example", Offer: federation.OfferFreeBusy, Target: target.Cert, NotBefore: now}.Token()
	if err != nil {
		fmt.Println(err)
		return
	}
	doc := etree.NewDocument()
	doc.SetRoot(tok)
	raw, _ := doc.WriteToBytes()
	v := &federation.Validator{Trust: func() *federation.Trust {
		return &federation.Trust{Keys: key{target}, Issuers: []*x509.Certificate{issuer.Cert}, ApplicationURI: "FYDIBOHF25SPDLT.contoso.example"}
	}}
	c, err := v.Validate(raw, federation.OfferFreeBusy, now.Add(time.Minute))
	fmt.Println(c.Email, err)
	// Output: alice@partner.example <nil>
}
