package freebusy_test

import (
	"context"
	"fmt"
	"time"

	"github.com/calfed/calfed/calendar"
	"github.com/calfed/calfed/freebusy"
	"github.com/calfed/calfed/internal/identity"
	"github.com/calfed/calfed/orgrel"
)

// A partner with an AvailabilityOnly relationship asks for details: it
// gets times and busy types, never the subject.
func Example() {
	ics := "BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nUID:1\r\nSUMMARY:Clinic\r\nDTSTART:20260323T090000Z\r\nDTEND:20260323T100000Z\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
	dir, _ := calendar.NewDirectory(context.Background(), []calendar.Entry{{
		Mailbox: calendar.Mailbox{Address: "alice@contoso.example"},
		Source:  calendar.StaticSource{Name: "alice.ics", Data: []byte(ics)},
	}}, calendar.DirectoryOptions{})
	policy, _ := orgrel.NewPolicy([]orgrel.Relationship{{Name: "Partner", Domains: []string{"partner.example"},
		Enabled: true, FreeBusyAccessEnabled: true, FreeBusyAccessLevel: orgrel.AvailabilityOnly}}, nil)
	svc := freebusy.New(freebusy.Options{Directory: dir, Access: policy})

	start := time.Date(2026, 3, 23, 8, 0, 0, 0, time.UTC)
	rs, _ := svc.Query(context.Background(), identity.Caller{Domain: "partner.example"}, &freebusy.Query{
		Mailboxes: []string{"alice@contoso.example", "bob@contoso.example"},
		Start:     start, End: start.Add(4 * time.Hour), View: freebusy.ViewDetailedMerged, Interval: time.Hour,
	})
	for _, r := range rs {
		fmt.Println(r.Address, r.Outcome, r.View, string(r.Merged))
		for _, ev := range r.Events {
			fmt.Printf("  %s-%s %v %q\n", ev.Start.Format("15:04"), ev.End.Format("15:04"), ev.Busy, ev.Subject())
		}
	}
	// Output:
	// alice@contoso.example OK FreeBusyMerged 0200
	//   09:00-10:00 Busy ""
	// bob@contoso.example NotFound None
}
