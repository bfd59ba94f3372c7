package ews

import (
	"strings"
	"testing"
	"time"
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
