package calendar

import (
	"testing"
	"time"
)

// parseDate and parseDateTime read what time.Parse reads, and refuse
// what it refuses.
func TestParseDateTime(t *testing.T) {
	for _, s := range []string{
		"20260401T090000", "20240229T235959", "20230229T120000", "20260431T120000", "20260400T120000",
		"20261301T120000", "20260401T240000", "20260401T126000", "20260401T120060", "20260401 120000",
		"20260401T120000", "20260401T12000", "+0260401T120000", "00000101T000000", "99991231T235959", "",
	} {
		checkParseDateTime(t, s)
		if len(s) >= 8 {
			checkParseDate(t, s[:8])
		}
	}
}

func FuzzParseDateTime(f *testing.F) {
	f.Add("20260401T090000")
	f.Add("20240229")
	f.Fuzz(func(t *testing.T, s string) {
		checkParseDateTime(t, s)
		checkParseDate(t, s)
	})
}

func checkParseDateTime(t *testing.T, s string) {
	t.Helper()
	want, err := time.Parse("20060102T150405", s)
	w, ok := parseDateTime(s)
	got := time.Date(w.y, w.m, w.d, w.h, w.mi, w.sec, 0, time.UTC)
	if ok != (err == nil) || ok && !got.Equal(want) {
		t.Errorf("parseDateTime(%q) = %v, %v; time.Parse gives %v, %v", s, got, ok, want, err)
	}
}

func checkParseDate(t *testing.T, s string) {
	t.Helper()
	want, err := time.Parse("20060102", s)
	y, m, d, ok := parseDate(s)
	if ok != (err == nil) || ok && (y != want.Year() || m != want.Month() || d != want.Day()) {
		t.Errorf("parseDate(%q) = %d-%d-%d, %v; time.Parse gives %v, %v", s, y, m, d, ok, want, err)
	}
}
