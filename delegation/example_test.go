package delegation_test

import (
	"context"
	"fmt"

	"github.com/calfed/calfed/delegation"
	"github.com/calfed/calfed/federation"
)

// A delegation token for alice to present to a partner's EWS.
func ExampleClient_Token() {
	c := &delegation.Client{
		// Certificate: our current federation certificate,
		ApplicationURI: "FYDIBOHF25SPDLT.a.example",
		IssuerURI:      "urn:federation:MicrosoftOnline",
		IssuerEndpoint: "https://login.microsoftonline.com/extSTS.srf",
	}
	tok, err := c.Token(context.Background(), "alice@a.example", "FYDIBOHF25SPDLT.b.example", federation.OfferFreeBusy)
	if err != nil {
		return
	}
	fmt.Printf("%s\n", tok) // an xenc:EncryptedData element
}
