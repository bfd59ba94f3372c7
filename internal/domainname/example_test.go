package domainname_test

import (
	"errors"
	"fmt"

	"github.com/calfed/calfed/internal/domainname"
)

func Example() {
	for _, s := range []string{"Contoso.Example.", "bücher.example"} {
		d, err := domainname.Canonical(s)
		fmt.Println(d, err)
	}
	_, err := domainname.Canonical("\u212Aelvin.example") // KELVIN SIGN
	fmt.Println(errors.Is(err, domainname.ErrInvalid))
	a, _ := domainname.Address("Alice@Bücher.example")
	fmt.Println(a)
	// Output:
	// contoso.example <nil>
	// xn--bcher-kva.example <nil>
	// true
	// alice@xn--bcher-kva.example
}
