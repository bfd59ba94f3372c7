package ews

import (
	"strings"
	"testing"
	"time"

	"github.com/calfed/calfed/internal/soap"
	"github.com/calfed/calfed/internal/wintz"
)

func TestXSDuration(t *testing.T) {
	for in, want := range map[string]time.Duration{"PT1H": time.Hour, "-PT1H": -time.Hour, "PT5H30M": 5*time.Hour + 30*time.Minute, "PT0H": 0, "P1DT2H": 26 * time.Hour, "PT0.5S": 500 * time.Millisecond} {
		got, err := parseXSDuration(in)
		if err != nil || got != want {
			t.Errorf("parseXSDuration(%q) = %v, %v; want %v", in, got, err, want)
		}
		if err == nil && !strings.Contains(in, "D") && !strings.Contains(in, ".") {
			if back := formatXSDuration(got); back != in {
				t.Errorf("formatXSDuration(%v) = %q, want %q", got, back, in)
			}
		}
	}
	for _, in := range []string{"", "P", "PT", "1H", "P1M", "PTH", "PT1X"} {
		if _, err := parseXSDuration(in); err == nil {
			t.Errorf("parseXSDuration(%q) succeeded", in)
		}
	}
}

// The wall clock's cached offset gives what a look-up per instant gives,
// across daylight-saving changes, going forwards and backwards in time.
func TestWallClockAcrossTransitions(t *testing.T) {
	zones := []*time.Location{time.UTC, time.FixedZone("x", -(3*3600 + 1800))}
	for _, name := range []string{"Europe/London", "America/New_York", "Australia/Lord_Howe", "Asia/Kolkata"} {
		loc, err := time.LoadLocation(name)
		if err != nil {
			t.Fatal(err)
		}
		zones = append(zones, loc)
	}
	from := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	var instants []time.Time
	for d := time.Duration(0); d < 2*366*24*time.Hour; d += 17 * time.Minute {
		instants = append(instants, from.Add(d))
	}
	// Before 1970, around midnight, and years the date form cannot hold.
	for _, at := range []time.Time{time.Date(1969, 12, 31, 23, 59, 59, 0, time.UTC), time.Date(1960, 7, 1, 0, 0, 0, 0, time.UTC),
		time.Date(1970, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(9999, 12, 31, 22, 0, 0, 0, time.UTC), time.Date(10000, 1, 2, 0, 0, 0, 0, time.UTC),
		time.Date(-1, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)} {
		for _, d := range []time.Duration{-time.Second, 0, time.Second, 5 * time.Hour} {
			instants = append(instants, at.Add(d))
		}
	}
	for _, zone := range zones {
		for _, order := range []string{"forwards", "backwards"} {
			c := newWallClock(zone)
			for i := range instants {
				at := instants[i]
				if order == "backwards" {
					at = instants[len(instants)-1-i]
				}
				got := string(c.append(nil, at))
				if want := at.In(zone).Format("2006-01-02T15:04:05"); got != want {
					t.Fatalf("%s %s: %v written as %s, want %s", zone, order, at, got, want)
				}
			}
		}
	}
}

// parseDateTime reads every value as trying its layouts in turn does.
func TestParseDateTimeAsLayoutsInTurn(t *testing.T) {
	zone, err := time.LoadLocation("America/New_York")
	if err != nil {
		t.Fatal(err)
	}
	inTurn := func(s string) (time.Time, bool) {
		s = strings.TrimSpace(s)
		for _, layout := range []string{"2006-01-02T15:04:05.999999999Z07:00", "2006-01-02T15:04:05Z07:00"} {
			if t, err := time.Parse(layout, s); err == nil {
				return t, true
			}
		}
		for _, layout := range []string{"2006-01-02T15:04:05.999999999", "2006-01-02"} {
			if t, err := time.ParseInLocation(layout, s, zone); err == nil {
				return t, true
			}
		}
		return time.Time{}, false
	}
	for _, s := range []string{
		"2026-03-02T00:00:00", " 2026-03-02T09:30:00.125 ", "2026-03-02", "2026-03-02T00:00:00Z", "2026-03-02T00:00:00.5Z",
		"2026-03-02T00:00:00+05:30", "2026-03-02T00:00:00-08:00", "2026-03-08T02:30:00", "2026-03-02Z", "2026-03-02+01:00",
		"2026-3-2", "20260302", "2026-03-02T24:00:00", "2026-03-02T00:00:00+0530", "2026-03-02T00:00:00 Z", "", "Z", "+01:00", "x-03-02T00:00:00-01:00",
	} {
		want, wantOK := inTurn(s)
		got, err := parseDateTime(s, zone)
		if (err == nil) != wantOK || !got.Equal(want) || got.Location().String() != want.Location().String() {
			t.Errorf("parseDateTime(%q) = %v, %v; want %v (ok %v)", s, got, err, want, wantOK)
		}
	}
}

// What plainText passes, soap.Writer writes unchanged, byte by byte and
// in strings.
func TestPlainTextIsWrittenUnchanged(t *testing.T) {
	var all []byte
	for c := range 256 {
		s := string([]byte{'a', byte(c), 'b'})
		var w soap.Writer
		w.Text(s)
		if plainText(s) {
			if string(w.B) != s {
				t.Errorf("byte %#x: plain, but the writer writes %q", c, w.B)
			}
			all = append(all, byte(c))
		}
	}
	var w soap.Writer
	w.Text(string(all))
	if string(w.B) != string(all) || len(all) < 90 {
		t.Errorf("%d plain bytes written as %q", len(all), w.B)
	}
}

// The remembered rule is the rule of the zone and year asked for, as they
// change.
func TestRuleForFollowsZoneAndYear(t *testing.T) {
	london, newYork := mustLoc("Europe/London"), mustLoc("America/New_York")
	for _, c := range []struct {
		loc  *time.Location
		year int
	}{{london, 2026}, {london, 2026}, {newYork, 2026}, {london, 2026}, {london, 2006}, {time.UTC, 2006}, {newYork, 2006}, {newYork, 2006}} {
		if got, want := ruleFor(c.loc, c.year), wintz.RuleFor(c.loc, c.year); got != want {
			t.Errorf("%s %d: %+v, want %+v", c.loc, c.year, got, want)
		}
	}
}
