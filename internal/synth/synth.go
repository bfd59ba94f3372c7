// Package synth writes synthetic but realistic iCalendar data for
// benchmarks and load runs: recurring meetings with exceptions, all-day
// absences, private and tentative items, spread over working days.
package synth

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"time"
)

// Profile sizes a calendar.
type Profile struct {
	Start        time.Time // the first day events may fall on (UTC midnight)
	Days         int       // days covered by single events
	DailySeries  int       // weekday series (stand-ups)
	WeeklySeries int       // weekly series (1:1s, team meetings)
	Singles      int       // one-off items
	Zone         string    // TZID of timed events
	// SeriesWeeksBack starts every series this many weeks earlier than it
	// would start, keeping its exceptions where they are: the same
	// instances from then on, from a series that is years old.
	SeriesWeeksBack int
}

// Calendar returns one mailbox's calendar; seed makes it reproducible.
func Calendar(p Profile, seed uint64) []byte {
	r := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	var b strings.Builder
	b.WriteString("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//calfed//synth//EN\r\n")
	tzid := p.Zone
	if tzid == "" {
		tzid = "Europe/London"
	}
	stamp := func(day int, minutes int) string {
		t := p.Start.AddDate(0, 0, day).Add(time.Duration(minutes) * time.Minute)
		return t.Format("20060102T150405")
	}
	event := func(uid string, lines ...string) {
		b.WriteString("BEGIN:VEVENT\r\nUID:" + uid + "\r\n")
		for _, l := range lines {
			b.WriteString(l)
			b.WriteString("\r\n")
		}
		b.WriteString("END:VEVENT\r\n")
	}
	for i := 0; i < p.DailySeries; i++ {
		uid := fmt.Sprintf("daily-%d-%d", seed, i)
		start := 8*60 + r.IntN(18)*30
		first := -r.IntN(60) - 1
		event(uid, "SUMMARY:Daily "+uid, "DTSTART;TZID="+tzid+":"+stamp(first-7*p.SeriesWeeksBack, start), "DURATION:PT15M",
			"RRULE:FREQ=DAILY;BYDAY=MO,TU,WE,TH,FR", "ORGANIZER:mailto:o@example.org",
			"EXDATE;TZID="+tzid+":"+stamp(first+7*(1+r.IntN(3)), start))
		day := first + 7*(4+r.IntN(4))
		event(uid, "RECURRENCE-ID;TZID="+tzid+":"+stamp(day, start), "SUMMARY:Daily (moved)",
			"DTSTART;TZID="+tzid+":"+stamp(day, start+60), "DURATION:PT15M")
	}
	for i := 0; i < p.WeeklySeries; i++ {
		uid := fmt.Sprintf("weekly-%d-%d", seed, i)
		start := 9*60 + r.IntN(16)*30
		event(uid, "SUMMARY:Weekly "+uid, "LOCATION:Room "+fmt.Sprint(r.IntN(40)),
			"DTSTART;TZID="+tzid+":"+stamp(-r.IntN(90)-1-7*p.SeriesWeeksBack, start), "DURATION:PT1H", "RRULE:FREQ=WEEKLY",
			"BEGIN:VALARM", "ACTION:DISPLAY", "TRIGGER:-PT15M", "END:VALARM")
	}
	for i := 0; i < p.Singles; i++ {
		uid := fmt.Sprintf("single-%d-%d", seed, i)
		day := r.IntN(max(p.Days, 1))
		lines := []string{"SUMMARY:Item " + uid}
		switch r.IntN(10) {
		case 0:
			lines = append(lines, "DTSTART;VALUE=DATE:"+stamp(day, 0)[:8], "DTEND;VALUE=DATE:"+stamp(day+1+r.IntN(2), 0)[:8], "X-MICROSOFT-CDO-BUSYSTATUS:OOF")
		case 1:
			lines = append(lines, "CLASS:PRIVATE", "DTSTART;TZID="+tzid+":"+stamp(day, 7*60+r.IntN(24)*30), "DURATION:PT1H")
		case 2:
			lines = append(lines, "STATUS:TENTATIVE", "DTSTART;TZID="+tzid+":"+stamp(day, 8*60+r.IntN(20)*30), "DURATION:PT30M")
		case 3:
			lines = append(lines, "TRANSP:TRANSPARENT", "DTSTART;TZID="+tzid+":"+stamp(day, 12*60), "DURATION:PT1H")
		default:
			lines = append(lines, "DTSTART;TZID="+tzid+":"+stamp(day, 8*60+r.IntN(20)*30), "DURATION:PT"+fmt.Sprint(30*(1+r.IntN(4)))+"M")
		}
		event(uid, lines...)
	}
	b.WriteString("END:VCALENDAR\r\n")
	return []byte(b.String())
}
