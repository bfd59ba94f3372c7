package wintz

import (
	"testing"
	"time"
)

func TestRuleForKnownZones(t *testing.T) {
	tests := []struct {
		zone  string
		year  int
		posix string
	}{
		{"Europe/Berlin", 2026, "STD-1:00DST-2:00,M3.5.0/2:00:00,M10.5.0/3:00:00"},
		{"Europe/London", 2026, "STD0:00DST-1:00,M3.5.0/1:00:00,M10.5.0/2:00:00"},
		{"Europe/Dublin", 2026, "STD0:00DST-1:00,M3.5.0/1:00:00,M10.5.0/2:00:00"},
		{"America/New_York", 2026, "STD5:00DST4:00,M3.2.0/2:00:00,M11.1.0/2:00:00"},
		{"Australia/Sydney", 2026, "STD-10:00DST-11:00,M10.1.0/2:00:00,M4.1.0/3:00:00"},
		{"Asia/Kolkata", 2026, "STD-5:30"},
		{"UTC", 2026, "STD0:00"},
	}
	for _, tt := range tests {
		loc, err := time.LoadLocation(tt.zone)
		if err != nil {
			t.Fatal(err)
		}
		if got := RuleFor(loc, tt.year).POSIX(); got != tt.posix {
			t.Errorf("RuleFor(%s, %d).POSIX() = %q, want %q", tt.zone, tt.year, got, tt.posix)
		}
	}
}

// A rule read off an IANA zone and turned back into a location must agree
// with the IANA zone at every hour of the year.
func TestRuleLocationMatchesIANA(t *testing.T) {
	for _, zone := range []string{"Europe/Berlin", "Europe/London", "America/New_York", "America/Sao_Paulo", "Australia/Sydney", "Pacific/Auckland", "Asia/Tokyo", "America/St_Johns"} {
		iana, err := time.LoadLocation(zone)
		if err != nil {
			t.Fatal(err)
		}
		loc, err := RuleFor(iana, 2026).Location("x")
		if err != nil {
			t.Fatalf("%s: %v", zone, err)
		}
		for h := 0; h < 365*24; h++ {
			at := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(h) * time.Hour)
			_, want := at.In(iana).Zone()
			_, got := at.In(loc).Zone()
			if got != want {
				t.Fatalf("%s at %v: offset %d, want %d", zone, at, got, want)
			}
		}
	}
}

func TestLoad(t *testing.T) {
	for name, want := range map[string]string{
		"W. Europe Standard Time": "Europe/Berlin",
		"GMT Standard Time":       "Europe/London",
		"Europe/Paris":            "Europe/Paris",
	} {
		loc, err := Load(name)
		if err != nil || loc.String() != want {
			t.Errorf("Load(%q) = %v, %v; want %s", name, loc, err, want)
		}
	}
	for _, bad := range []string{"", "Nowhere/Special", "/etc/passwd", "../../etc/passwd"} {
		if _, err := Load(bad); err == nil {
			t.Errorf("Load(%q) succeeded", bad)
		}
	}
}

func TestFromDisplayName(t *testing.T) {
	for name, want := range map[string]string{
		"(UTC-05:00) Eastern Time (US & Canada)":        "Eastern Standard Time",
		"(UTC-05:00) Eastern Time (US and Canada)":      "Eastern Standard Time",
		"(GMT+10:00) Canberra, Melbourne, Sydney":       "AUS Eastern Standard Time",
		"(UTC+00:00) Dublin, Edinburgh, Lisbon, London": "GMT Standard Time",
		"  (UTC) coordinated  universal time ":          "UTC",
	} {
		if got, ok := FromDisplayName(name); !ok || got != want {
			t.Errorf("FromDisplayName(%q) = %q, %v; want %q", name, got, ok, want)
		}
	}
	for _, name := range []string{"", "Eastern Standard Time", "(UTC-05:00)", "Western/Central Europe"} {
		if got, ok := FromDisplayName(name); ok {
			t.Errorf("FromDisplayName(%q) = %q; want none", name, got)
		}
	}
}
