package freebusy

import (
	"testing"
	"time"

	"github.com/calfed/calfed/calendar"
)

// The merged string has one digit per slot, each a valid digit, whatever
// the events.
func FuzzMergedFreeBusy(f *testing.F) {
	f.Add(int64(0), int64(3600), uint8(2), int64(600), int64(5400), uint8(3), int64(86400), uint16(30))
	f.Fuzz(func(t *testing.T, s1, e1 int64, b1 uint8, s2, e2 int64, b2 uint8, span int64, minutes uint16) {
		interval := time.Duration(int(minutes)%1436+5) * time.Minute
		span = span%(62*86400) + 1
		if span < 0 {
			span = -span
		}
		start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
		end := start.Add(time.Duration(span) * time.Second)
		clampEv := func(s, e int64, b uint8) calendar.Event {
			s %= 90 * 86400
			e %= 90 * 86400
			if e < s {
				s, e = e, s
			}
			return calendar.Event{Start: start.Add(time.Duration(s) * time.Second), End: start.Add(time.Duration(e) * time.Second),
				Item: &calendar.Item{Busy: calendar.BusyType(b % 6)}}
		}
		evs := []calendar.Event{clampEv(s1, e1, b1), clampEv(s2, e2, b2)}
		for _, legacy := range []bool{false, true} {
			got := Merged(nil, evs, start, end, interval, legacy)
			want := int((end.Sub(start) + interval - 1) / interval)
			if len(got) != want {
				t.Fatalf("%d digits, want %d", len(got), want)
			}
			for _, d := range got {
				if d < '0' || d > '4' {
					t.Fatalf("digit %q in %q", d, got)
				}
			}
		}
	})
}
