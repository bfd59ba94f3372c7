package freebusy

import (
	"testing"
	"time"

	"github.com/calfed/calfed/calendar"
	"github.com/calfed/calfed/orgrel"
)

func TestReturnedView(t *testing.T) {
	views := []View{ViewMergedOnly, ViewFreeBusy, ViewFreeBusyMerged, ViewDetailed, ViewDetailedMerged}
	// docs/protocol.md §1.5: the numeric minimum, the merged bit kept when asked for.
	want := map[orgrel.Level][]View{
		orgrel.AvailabilityOnly: {ViewMergedOnly, ViewFreeBusy, ViewFreeBusyMerged, ViewFreeBusy, ViewFreeBusyMerged},
		orgrel.LimitedDetails:   {ViewMergedOnly, ViewFreeBusy, ViewFreeBusyMerged, ViewDetailed, ViewDetailedMerged},
	}
	for level, ws := range want {
		for i, v := range views {
			if got := Granted(v, level); got != ws[i] {
				t.Errorf("Granted(%v, %v) = %v, want %v", v, level, got, ws[i])
			}
		}
	}
}

func TestParseView(t *testing.T) {
	for in, want := range map[string]View{"FreeBusy": ViewFreeBusy, " DetailedMerged ": ViewDetailedMerged, "MergedOnly FreeBusy": ViewFreeBusyMerged} {
		if got, err := ParseView(in); err != nil || got != want {
			t.Errorf("ParseView(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, in := range []string{"", "freebusy", "Busy"} {
		if _, err := ParseView(in); err == nil {
			t.Errorf("ParseView(%q) succeeded", in)
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
		// hour, then busy for 90 minutes. docs/protocol.md §1.6.
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
		got := string(Merged(nil, tt.events, tt.start, tt.end, tt.interval, tt.legacy))
		if got != tt.want {
			t.Errorf("%s: Merged = %q, want %q", tt.name, got, tt.want)
		}
	}
}
