package wsfed_test

import (
	"fmt"
	"time"

	"github.com/calfed/calfed/certs"
	"github.com/calfed/calfed/wsfed"
)

func Example() {
	now := time.Date(2026, 3, 24, 9, 0, 0, 0, time.UTC)
	signer, _ := certs.Generate("Token issuer", now)
	doc := wsfed.WriteMetadata(&wsfed.Metadata{IssuerURI: "urn:federation:calfed-dev", Endpoint: "https://sts.example/extSTS.srf", Current: signer.Cert})
	m, err := wsfed.ParseMetadata(doc, now)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(m.IssuerURI, m.Endpoint, len(m.Certificates()))
	// Output: urn:federation:calfed-dev https://sts.example/extSTS.srf 1
}
