package calendar

import (
	"testing"
	"time"

	"github.com/emersion/go-ical"
)

// Any input either fails with a ParseError or yields a calendar whose
// queries succeed and return events overlapping the window, in order.
func FuzzParse(f *testing.F) {
	f.Add(string(ics(ev("UID:a", "DTSTART;TZID=Europe/London:20260323T093000", "DURATION:PT15M", "RRULE:FREQ=DAILY;COUNT=5", "EXDATE;TZID=Europe/London:20260324T093000"),
		ev("UID:a", "RECURRENCE-ID;TZID=Europe/London:20260325T093000", "DTSTART:20260325T120000Z", "DTEND:20260325T130000Z"))))
	f.Add(string(ics(ev("UID:b", "DTSTART;VALUE=DATE:20260401", "RDATE;VALUE=DATE:20260405,20260407", "X-MICROSOFT-CDO-BUSYSTATUS:OOF"))))
	f.Add("BEGIN:VCALENDAR\r\nBEGIN:VTIMEZONE\r\nTZID:X\r\nBEGIN:STANDARD\r\nDTSTART:16011028T030000\r\nRRULE:FREQ=YEARLY;BYDAY=-1SU;BYMONTH=10\r\nTZOFFSETTO:+0100\r\nEND:STANDARD\r\nEND:VTIMEZONE\r\nEND:VCALENDAR\r\n")
	from := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	to := from.AddDate(0, 1, 0)
	f.Fuzz(func(t *testing.T, data string) {
		cal, err := Parse([]File{{Name: "f.ics", Data: []byte(data)}}, Options{
			Location: london, MaxInstances: 2000,
			HorizonFrom: from.AddDate(0, 0, -7), HorizonTo: to.AddDate(0, 0, 7),
		})
		if err != nil {
			return
		}
		for _, w := range [][2]time.Time{{from, to}, {from.AddDate(-3, 0, 0), from.AddDate(-3, 1, 0)}} {
			evs, err := cal.Events(w[0], w[1])
			if err != nil {
				continue // too many instances is a valid outcome
			}
			for i, e := range evs {
				if e.End.Before(e.Start) {
					t.Fatalf("event ends before it starts: %+v", e)
				}
				if !(e.Start.Before(w[1]) && (e.End.After(w[0]) || e.Start.Equal(e.End) && !e.Start.Before(w[0]))) {
					t.Fatalf("event %v–%v outside window %v–%v", e.Start, e.End, w[0], w[1])
				}
				if i > 0 && e.Start.Before(evs[i-1].Start) {
					t.Fatalf("events out of order")
				}
			}
		}
	})
}

// plainDuration reads what it reads as go-ical does.
func FuzzPlainDuration(f *testing.F) {
	for _, s := range []string{"PT45M", "PT1H30M", "P1D", "P1DT12H", "PT", "P", "P1H", "PT1D", "PT1H1H", "P1W", "pt1h", "PT0S", "P999999DT999999H999999M999999S", "PT1234567S", "P1DT", "PTT1H"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, ok := plainDuration(s)
		if !ok {
			return
		}
		p := ical.NewProp(ical.PropDuration)
		p.Value = s
		want, err := p.Duration()
		if err != nil || d != want {
			t.Fatalf("plainDuration(%q) = %v; go-ical reads %v, %v", s, d, want, err)
		}
	})
}

// What events commonly write is read without go-ical.
func TestPlainDuration(t *testing.T) {
	for s, want := range map[string]time.Duration{"PT45M": 45 * time.Minute, "PT1H30M": 90 * time.Minute, "P1D": 24 * time.Hour, "P1DT12H": 36 * time.Hour, "PT0S": 0, "PT1H0M10S": time.Hour + 10*time.Second} {
		if d, ok := plainDuration(s); !ok || d != want {
			t.Errorf("plainDuration(%q) = %v, %v; want %v", s, d, ok, want)
		}
	}
}
