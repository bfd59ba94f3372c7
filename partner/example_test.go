package partner_test

import (
	"context"
	"fmt"
	"time"

	"github.com/calfed/calfed/delegation"
	"github.com/calfed/calfed/freebusy"
	"github.com/calfed/calfed/partner"
)

func Example() {
	tokens := &delegation.Client{ /* our certificate, ApplicationUri and token issuer */ }
	c := &partner.Client{Tokens: tokens}
	start := time.Date(2026, 3, 24, 0, 0, 0, 0, time.UTC)
	results, err := c.FreeBusy(context.Background(),
		partner.Partner{ApplicationURI: "FYDIBOHF25SPDLT.b.example", AutodiscoverEPR: "https://autodiscover.b.example/autodiscover/autodiscover.svc"},
		partner.Query{User: "alice@a.example", Query: freebusy.Query{Mailboxes: []string{"bob@b.example"}, Start: start, End: start.Add(24 * time.Hour), View: freebusy.ViewFreeBusyMerged}})
	if err != nil {
		return
	}
	for _, r := range results {
		fmt.Println(r.Mailbox, r.Code, r.View, r.Merged)
		for _, b := range r.Busy {
			fmt.Println(" ", b.Start, b.End, b.Busy, b.Subject)
		}
	}
}
