package federation_test

import (
	"fmt"
	"net/http"

	"github.com/calfed/calfed/federation"
	"github.com/calfed/calfed/internal/identity"
	"github.com/calfed/calfed/internal/soap"
)

// A guard in front of an EWS handler: only requests with a valid
// free/busy token reach it, with the verified caller in the context.
func ExampleGuard() {
	trust := func() *federation.Trust { return nil } // the live trust: our keys, the issuer's certificates, our ApplicationUri
	v := &federation.Validator{Trust: trust}
	ewsHandler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, _ := identity.FromContext(r.Context())
		fmt.Fprintln(w, "hello", c.Email)
	})
	g := &federation.Guard{Validator: v, Offer: federation.OfferFreeBusy, Limits: soap.Limits{MaxBytes: 1 << 20}, Refuse: federation.RefuseEWS}
	http.Handle("/EWS/Exchange.asmx/WSSecurity", g.Wrap(ewsHandler))
}
