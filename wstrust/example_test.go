package wstrust_test

import (
	"fmt"
	"time"

	"github.com/calfed/calfed/certs"
	"github.com/calfed/calfed/internal/fedtoken"
	"github.com/calfed/calfed/wstrust"
)

// A requester writes an RST; the issuer reads it.
func ExampleRequestSecurityToken() {
	now := time.Date(2026, 3, 24, 9, 0, 0, 0, time.UTC)
	ours, _ := certs.Generate("Federation A", now.AddDate(0, -1, 0))
	rst := wstrust.RequestSecurityToken{AppliesTo: "FYDIBOHF25SPDLT.b.example", Offer: fedtoken.OfferFreeBusy, Requestor: "FYDIBOHF25SPDLT.a.example"}
	body, err := rst.Envelope("https://sts.example/extSTS.srf", ours, now)
	if err != nil {
		fmt.Println(err)
		return
	}
	req, err := wstrust.ReadRequest(body)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(req.AppliesTo, req.Offer, req.Requestor)
	// Output: http://FYDIBOHF25SPDLT.b.example MSExchange.SharingCalendarFreeBusy FYDIBOHF25SPDLT.a.example
}
