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
	rels := partner.Static{{Name: "B", Domains: []string{"b.example"}, Enabled: true, FreeBusyAccessEnabled: true,
		TargetApplicationURI: "FYDIBOHF25SPDLT.b.example", TargetAutodiscoverEPR: "https://autodiscover.b.example/autodiscover/autodiscover.svc"}}
	asker := &partner.Asker{Relationships: rels, Tokens: tokens, Timeout: 10 * time.Second}
	start := time.Date(2026, 3, 24, 0, 0, 0, 0, time.UTC)
	q := &freebusy.Query{Start: start, End: start.Add(24 * time.Hour), View: freebusy.ViewFreeBusyMerged, Interval: 30 * time.Minute}
	for _, r := range asker.Ask(context.Background(), "alice@a.example", q, []string{"bob@b.example"}) {
		fmt.Println(r.Address, r.ResponseCode(), r.Message, r.View, string(r.Merged))
		for _, e := range r.Events {
			fmt.Println(" ", e.Start, e.End, e.Busy, e.Subject())
		}
	}
}
