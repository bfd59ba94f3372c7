package trust_test

import (
	"fmt"

	"github.com/calfed/calfed/orgrel"
	"github.com/calfed/calfed/trust"
)

// The domains a change would admit to the trust, and so must be proved
// first; the account namespace counts as one of them.
func ExampleNewDomains() {
	before := orgrel.Trust{AccountNamespace: "contoso.example", Domains: []string{"contoso.example"}}
	after := orgrel.Trust{AccountNamespace: "contoso.example", Domains: []string{"contoso.example", "Europe.Contoso.Example"}}
	fmt.Println(trust.NewDomains(before, after))
	fmt.Println(trust.NewDomains(orgrel.Trust{}, after))
	// Output:
	// [europe.contoso.example]
	// [contoso.example europe.contoso.example]
}
