package freebusy

import (
	"math/rand/v2"
	"testing"
	"time"

	"github.com/calfed/calfed/calendar"
)

// The digits read from redacted events are the digits read from the
// items, for every busy type, both schemas, events outside the window
// and overlapping ones.
func TestMergedShownIsMerged(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	start := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	end := start.Add(62 * 24 * time.Hour)
	for round := range 200 {
		var evs []calendar.Event
		for range r.IntN(40) {
			from := start.Add(time.Duration(r.IntN(64*24*60)-24*60) * time.Minute)
			it := &calendar.Item{Busy: calendar.BusyType(r.IntN(7))}
			evs = append(evs, calendar.Event{Start: from, End: from.Add(time.Duration(1+r.IntN(3*24*60)) * time.Minute), Item: it})
		}
		interval := []time.Duration{5 * time.Minute, 30 * time.Minute, 1440 * time.Minute}[round%3]
		for _, legacy := range []bool{false, true} {
			var shown []Event
			for i := range evs {
				shown = append(shown, redact(&evs[i], round%2 == 0, legacy))
			}
			want := string(Merged(nil, evs, start, end, interval, legacy))
			if got := string(mergedShown(nil, shown, start, end, interval, legacy)); got != want {
				t.Fatalf("round %d, legacy %v:\n got %s\nwant %s", round, legacy, got, want)
			}
		}
	}
}
