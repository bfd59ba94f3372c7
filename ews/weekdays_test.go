package ews

import (
	"slices"
	"testing"
	"time"
)

func TestWeekdays(t *testing.T) {
	for in, want := range map[string][]time.Weekday{
		"Monday Tuesday Wednesday Thursday Friday": {1, 2, 3, 4, 5},
		"Weekday":           {1, 2, 3, 4, 5},
		"WeekendDay Monday": {0, 6, 1},
		"Day":               {0, 1, 2, 3, 4, 5, 6},
		"":                  nil,
	} {
		if got, err := Weekdays(in); err != nil || !slices.Equal(got, want) {
			t.Errorf("Weekdays(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	if _, err := Weekdays("Funday"); err == nil {
		t.Error("Weekdays(Funday) succeeded")
	}
}
