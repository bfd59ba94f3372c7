package freebusy

import (
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/calfed/calfed/calendar"
	"github.com/calfed/calfed/internal/synth"
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

// Redacting a calendar's events a run at a time gives what redacting
// each does, ids included.
func TestRedactAllIsRedact(t *testing.T) {
	start := time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)
	dir, err := calendar.NewDirectory(t.Context(), []calendar.Entry{{
		Mailbox: calendar.Mailbox{Address: "a@example.org", Location: time.UTC},
		Source:  calendar.StaticSource{Name: "a.ics", Data: synth.Calendar(synth.Profile{Start: start, Days: 62, DailySeries: 2, WeeklySeries: 5, Singles: 300}, 7)},
	}}, calendar.DirectoryOptions{Now: func() time.Time { return start }})
	if err != nil {
		t.Fatal(err)
	}
	evs, err := dir.AppendEvents(t.Context(), nil, "a@example.org", start, start.Add(62*24*time.Hour))
	if err != nil || len(evs) < 200 {
		t.Fatalf("%d events, %v", len(evs), err)
	}
	ids := 0
	for _, detailed := range []bool{false, true} {
		for _, legacy := range []bool{false, true} {
			all := make([]Event, len(evs))
			redactAll(all, evs, detailed, legacy)
			for i := range evs {
				if one := redact(&evs[i], detailed, legacy); one != all[i] {
					t.Fatalf("event %d (detailed %v, legacy %v): %+v, alone %+v", i, detailed, legacy, all[i], one)
				}
				if len(all[i].AppendID(nil)) > 0 {
					ids++
				}
			}
		}
	}
	if ids == 0 {
		t.Fatal("no event has an id: the comparison misses them")
	}
}

// slots appends the window's digits, all Free, after what dst holds.
func TestSlots(t *testing.T) {
	start := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	for _, n := range []int{0, 1, 2, 3, 5, 64, 65, 2976} {
		dst, digits := slots([]byte("ab"), start, start.Add(time.Duration(n)*30*time.Minute-time.Minute), 30*time.Minute)
		if want := "ab" + strings.Repeat("0", n); string(dst) != want || string(digits) != want[2:] {
			t.Errorf("%d slots: %q, %q", n, dst, digits)
		}
	}
}

// since is Sub for times without a monotonic reading, at any distance:
// near, across nanoseconds, centuries apart and beyond Duration's range.
func TestSinceIsSub(t *testing.T) {
	start := time.Date(2026, 3, 1, 0, 0, 0, 500, time.UTC)
	for _, tm := range []time.Time{
		start, start.Add(-1), start.Add(time.Nanosecond), time.Date(2026, 5, 1, 13, 30, 0, 0, time.FixedZone("x", 3600)),
		time.Date(1990, 1, 1, 0, 0, 0, 999999999, time.UTC), time.Date(2300, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Date(1700, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(9999, 12, 31, 23, 59, 59, 1, time.UTC),
		start.Add(1<<33*time.Second - 1), start.Add(-(1<<33*time.Second + 1)),
	} {
		if got, want := since(tm, start), tm.Sub(start); got != want {
			t.Errorf("since(%v, %v) = %v, want %v", tm, start, got, want)
		}
	}
}
