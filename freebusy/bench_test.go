package freebusy

import (
	"fmt"
	"testing"
	"time"

	"github.com/calfed/calfed/calendar"
	"github.com/calfed/calfed/internal/identity"
	"github.com/calfed/calfed/internal/synth"
	"github.com/calfed/calfed/orgrel"
)

// The core alone, without decoding or XML: 100 mailboxes of about 500
// events in 62 days, each shared with details, asked DetailedMerged.
func BenchmarkQuery100Mailboxes62Days(b *testing.B) {
	start := time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)
	p := synth.Profile{Start: start, Days: 62, DailySeries: 4, WeeklySeries: 15, Singles: 190}
	var entries []calendar.Entry
	var addrs []string
	sharing := map[string]orgrel.Level{}
	for i := range 100 {
		addr := fmt.Sprintf("user%d@example.org", i)
		addrs = append(addrs, addr)
		sharing[addr] = orgrel.LimitedDetails
		entries = append(entries, calendar.Entry{Mailbox: calendar.Mailbox{Address: addr},
			Source: calendar.StaticSource{Name: addr, Data: synth.Calendar(p, uint64(i))}})
	}
	dir, err := calendar.NewDirectory(b.Context(), entries, calendar.DirectoryOptions{Now: func() time.Time { return start }})
	if err != nil {
		b.Fatal(err)
	}
	policy, err := orgrel.NewPolicy([]orgrel.Relationship{{Name: "P", Domains: []string{"partner.example"}, Enabled: true,
		FreeBusyAccessEnabled: true, FreeBusyAccessLevel: orgrel.LimitedDetails}}, sharing)
	if err != nil {
		b.Fatal(err)
	}
	s := New(Options{Directory: dir, Access: policy})
	q := &Query{Mailboxes: addrs, Start: start, End: start.AddDate(0, 0, 62), View: ViewDetailedMerged, Interval: 30 * time.Minute}
	caller := identity.Caller{Domain: "partner.example"}
	events := 0
	b.ReportAllocs()
	for b.Loop() {
		rs, err := s.Query(b.Context(), caller, q)
		if err != nil {
			b.Fatal(err)
		}
		events = 0
		for _, r := range rs {
			if r.Outcome != OK {
				b.Fatalf("%s: %v", r.Address, r.Outcome)
			}
			events += len(r.Events)
		}
	}
	b.ReportMetric(float64(events), "events/op")
}
