package ews

import (
	"strings"
	"testing"
	"time"

	"github.com/calfed/calfed/calendar"
	"github.com/calfed/calfed/orgrel"
)

func TestReturnedView(t *testing.T) {
	views := []ViewType{ViewMergedOnly, ViewFreeBusy, ViewFreeBusyMerged, ViewDetailed, ViewDetailedMerged}
	// NOTES §1.5: the numeric minimum, the merged bit kept when asked for.
	want := map[orgrel.Level][]ViewType{
		orgrel.AvailabilityOnly: {ViewMergedOnly, ViewFreeBusy, ViewFreeBusyMerged, ViewFreeBusy, ViewFreeBusyMerged},
		orgrel.LimitedDetails:   {ViewMergedOnly, ViewFreeBusy, ViewFreeBusyMerged, ViewDetailed, ViewDetailedMerged},
	}
	for level, ws := range want {
		for i, v := range views {
			if got := returnedView(v, level); got != ws[i] {
				t.Errorf("returnedView(%v, %v) = %v, want %v", v, level, got, ws[i])
			}
		}
	}
}

func TestParseViewType(t *testing.T) {
	for in, want := range map[string]ViewType{"FreeBusy": ViewFreeBusy, " DetailedMerged ": ViewDetailedMerged, "MergedOnly FreeBusy": ViewFreeBusyMerged} {
		if got, err := ParseViewType(in); err != nil || got != want {
			t.Errorf("ParseViewType(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, in := range []string{"", "freebusy", "Busy"} {
		if _, err := ParseViewType(in); err == nil {
			t.Errorf("ParseViewType(%q) succeeded", in)
		}
	}
}

func at(h, m int) time.Time { return time.Date(2026, 3, 23, h, m, 0, 0, time.UTC) }

func item(b calendar.BusyType) *calendar.Item { return &calendar.Item{Busy: b} }

func TestMergedFreeBusy(t *testing.T) {
	tests := []struct {
		name     string
		events   []calendar.Event
		start    time.Time
		end      time.Time
		interval time.Duration
		legacy   bool
		want     string
	}{
		// The EWS reference's example: a 4-hour window in hours, OOF for an
		// hour, then busy for 90 minutes. NOTES §1.6.
		{"reference example", []calendar.Event{
			{Start: at(8, 0), End: at(9, 0), Item: item(calendar.OOF)},
			{Start: at(9, 0), End: at(10, 30), Item: item(calendar.Busy)},
		}, at(8, 0), at(12, 0), time.Hour, false, "3220"},
		{"heaviest wins", []calendar.Event{
			{Start: at(8, 0), End: at(10, 0), Item: item(calendar.Tentative)},
			{Start: at(8, 30), End: at(8, 45), Item: item(calendar.OOF)},
			{Start: at(9, 10), End: at(9, 20), Item: item(calendar.Busy)},
		}, at(8, 0), at(10, 0), 30 * time.Minute, false, "1321"},
		{"partial last slot", []calendar.Event{{Start: at(9, 50), End: at(11, 0), Item: item(calendar.Busy)}}, at(8, 0), at(10, 0), 45 * time.Minute, false, "002"},
		{"event outside clamps", []calendar.Event{{Start: at(6, 0), End: at(8, 10), Item: item(calendar.Busy)}}, at(8, 0), at(9, 0), 30 * time.Minute, false, "20"},
		{"working elsewhere never replaces free", []calendar.Event{{Start: at(8, 0), End: at(9, 0), Item: item(calendar.WorkingElsewhere)}}, at(8, 0), at(9, 0), 30 * time.Minute, false, "00"},
		{"working elsewhere loses to tentative", []calendar.Event{
			{Start: at(8, 0), End: at(9, 0), Item: item(calendar.WorkingElsewhere)},
			{Start: at(8, 0), End: at(8, 30), Item: item(calendar.Tentative)},
		}, at(8, 0), at(9, 0), 30 * time.Minute, false, "10"},
		{"legacy", []calendar.Event{{Start: at(8, 0), End: at(9, 0), Item: item(calendar.WorkingElsewhere)}}, at(8, 0), at(9, 0), 30 * time.Minute, true, "00"},
	}
	for _, tt := range tests {
		got := string(mergedFreeBusy(nil, tt.events, tt.start, tt.end, tt.interval, tt.legacy))
		if got != tt.want {
			t.Errorf("%s: mergedFreeBusy = %q, want %q", tt.name, got, tt.want)
		}
	}
}

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
