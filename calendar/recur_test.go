package calendar

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/teambition/rrule-go"
)

// A series started again near the window yields what the recurrence
// library gives from DTSTART: every rule shape, for windows from the
// series's first years to long after, inside and outside the horizon.
func TestRestartedSeriesMatchesExpansionFromDTSTART(t *testing.T) {
	ny := mustLoc("America/New_York")
	for _, tc := range []struct {
		dtstart string
		loc     *time.Location
		rule    string
	}{
		{"20140106T100000", london, "FREQ=DAILY"},
		{"20140106T100000", london, "FREQ=DAILY;INTERVAL=3"},
		{"20140108T173000", ny, "FREQ=DAILY;BYDAY=MO,WE,FR"},
		{"20140108T093000", london, "FREQ=WEEKLY"},
		{"20140108T093000", london, "FREQ=WEEKLY;INTERVAL=2;BYDAY=TU,TH"},
		{"20140108T093000", ny, "FREQ=WEEKLY;INTERVAL=3;WKST=SU;BYDAY=SU,SA"},
		{"20140108T093000", london, "FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR;BYSETPOS=1"},
		{"20140108T093000", london, "FREQ=WEEKLY;INTERVAL=2;BYDAY=MO,FR;BYSETPOS=-1"},
		{"20140108T093000", london, "FREQ=WEEKLY;BYDAY=MO,FR;BYSETPOS=1"},
		{"20140108T093000", ny, "FREQ=WEEKLY;INTERVAL=3;BYDAY=MO,TU,FR;BYSETPOS=1,-1"},
		{"20140131T100000", london, "FREQ=MONTHLY"},
		{"20140131T100000", ny, "FREQ=MONTHLY;BYMONTHDAY=-1"},
		{"20140211T080000", london, "FREQ=MONTHLY;INTERVAL=5;BYDAY=2TU"},
		{"20140228T120000", london, "FREQ=MONTHLY;BYDAY=MO,TU,WE,TH,FR;BYSETPOS=-1"},
		{"20160229T100000", london, "FREQ=YEARLY"},
		{"20140315T100000", ny, "FREQ=YEARLY;INTERVAL=2"},
		{"20140106T100000", london, "FREQ=YEARLY;BYWEEKNO=1,27;BYDAY=MO"},
		{"20140106T100000", london, "FREQ=DAILY;COUNT=2000"},
		{"20140106T100000", london, "FREQ=WEEKLY;COUNT=300;BYDAY=MO,FR"},
		{"20140131T100000", london, "FREQ=MONTHLY;BYMONTHDAY=-1;UNTIL=20280101T000000Z"},
		{"20150301T010000", ny, "FREQ=HOURLY;INTERVAL=7;UNTIL=20160101T000000Z"},
	} {
		t.Run(tc.rule, func(t *testing.T) {
			tzid := tc.loc.String()
			cal := parse(t, ics(ev("UID:s", "DTSTART;TZID="+tzid+":"+tc.dtstart, "DURATION:PT0S", "RRULE:"+tc.rule)), Options{Location: tc.loc})
			start, err := time.ParseInLocation("20060102T150405", tc.dtstart, tc.loc)
			if err != nil {
				t.Fatal(err)
			}
			opt, err := rrule.StrToROptionInLocation(tc.rule, tc.loc)
			if err != nil {
				t.Fatal(err)
			}
			opt.Dtstart = start
			r, err := rrule.NewRRule(*opt)
			if err != nil {
				t.Fatal(err)
			}
			set := &rrule.Set{}
			set.RRule(r)
			set.RDate(start)
			for from := start.AddDate(0, 0, -20); from.Year() < 2031; from = from.AddDate(0, 0, 97) {
				to := from.AddDate(0, 0, 62)
				var want []string
				for _, o := range set.Between(from, to.Add(-time.Second), true) {
					want = append(want, o.UTC().Format(time.RFC3339))
				}
				evs, err := cal.Events(from, to)
				if err != nil {
					t.Fatal(err)
				}
				var got []string
				for _, e := range evs {
					got = append(got, e.Start.Format(time.RFC3339))
				}
				if !slices.Equal(got, want) {
					t.Fatalf("Events(%s, %s) = %d instances %v\nwant %d %v", from.Format("2006-01-02"), to.Format("2006-01-02"), len(got), got, len(want), want)
				}
			}
		})
	}
}

// restart never moves a rule before DTSTART or past the point asked,
// and starts weekly rules at the WKST of a week a whole number of
// intervals from DTSTART's.
func TestRestart(t *testing.T) {
	st := time.Date(2014, 1, 8, 9, 30, 0, 0, london) // a Wednesday
	for _, tc := range []struct {
		rule string
		lo   time.Time
		want time.Time
	}{
		{"FREQ=DAILY", time.Date(2013, 1, 1, 0, 0, 0, 0, london), st},
		{"FREQ=DAILY", time.Date(2014, 1, 8, 12, 0, 0, 0, london), st},
		{"FREQ=DAILY;INTERVAL=3", time.Date(2014, 1, 20, 12, 0, 0, 0, london), time.Date(2014, 1, 20, 0, 0, 0, 0, london)},
		{"FREQ=DAILY;INTERVAL=5", time.Date(2014, 1, 20, 12, 0, 0, 0, london), time.Date(2014, 1, 18, 0, 0, 0, 0, london)},
		{"FREQ=WEEKLY", time.Date(2014, 1, 22, 12, 0, 0, 0, london), time.Date(2014, 1, 20, 0, 0, 0, 0, london)},
		{"FREQ=WEEKLY;WKST=SU", time.Date(2014, 1, 22, 12, 0, 0, 0, london), time.Date(2014, 1, 19, 0, 0, 0, 0, london)},
		{"FREQ=WEEKLY;INTERVAL=2", time.Date(2014, 1, 28, 12, 0, 0, 0, london), time.Date(2014, 1, 20, 0, 0, 0, 0, london)},
		{"FREQ=WEEKLY", time.Date(2014, 1, 12, 12, 0, 0, 0, london), st},
		{"FREQ=MONTHLY;INTERVAL=5", time.Date(2016, 3, 2, 0, 0, 0, 0, london), time.Date(2016, 2, 1, 0, 0, 0, 0, london)},
		{"FREQ=YEARLY;INTERVAL=2", time.Date(2017, 3, 2, 0, 0, 0, 0, london), time.Date(2016, 1, 1, 0, 0, 0, 0, london)},
		{"FREQ=DAILY;COUNT=10000", time.Date(2017, 3, 2, 0, 0, 0, 0, london), st},
		{"FREQ=HOURLY", time.Date(2017, 3, 2, 0, 0, 0, 0, london), st},
	} {
		t.Run(fmt.Sprintf("%s from %s", tc.rule, tc.lo.Format(time.DateTime)), func(t *testing.T) {
			opt, err := rrule.StrToROptionInLocation(tc.rule, london)
			if err != nil {
				t.Fatal(err)
			}
			opt.Dtstart = st
			if got := restart(*opt, tc.lo.Unix()).Dtstart; !got.Equal(tc.want) {
				t.Errorf("restart(%s, %s) starts at %s, want %s", tc.rule, tc.lo, got, tc.want)
			}
		})
	}
}

// A window sliding a day at a time outside the horizon reads the kept
// expansion while it holds the window and expands again when it does
// not; every answer is what a calendar never asked before gives.
func TestSpillAnswersAsAFreshCalendar(t *testing.T) {
	data := ics(
		ev("UID:weekly", "DTSTART;TZID=Europe/London:20160104T100000", "DURATION:PT1H", "RRULE:FREQ=WEEKLY;BYDAY=MO,WE"),
		ev("UID:weekly", "RECURRENCE-ID;TZID=Europe/London:20240313T100000", "DTSTART;TZID=Europe/London:20240314T160000", "DURATION:PT2H"),
		ev("UID:weekly", "RECURRENCE-ID;TZID=Europe/London:20240318T100000", "STATUS:CANCELLED", "DTSTART;TZID=Europe/London:20240318T100000"),
		ev("UID:daily", "DTSTART;TZID=Europe/London:20160104T083000", "DURATION:PT15M", "RRULE:FREQ=DAILY;BYDAY=MO,TU,WE,TH,FR", "EXDATE;TZID=Europe/London:20240320T083000"),
		ev("UID:once", "DTSTART:20240310T120000Z", "DTEND:20240310T130000Z"),
		ev("UID:leave", "DTSTART;VALUE=DATE:20240325", "DTEND;VALUE=DATE:20240329", "X-MICROSOFT-CDO-BUSYSTATUS:OOF"),
	)
	kept := parse(t, data, Options{})
	spills := map[*spill]bool{}
	for day := 0; day < 75; day++ {
		from := time.Date(2024, 2, 1, 0, 0, 0, 0, utc).AddDate(0, 0, day)
		to := from.AddDate(0, 0, 62)
		got := spans(t, kept, from, to)
		want := spans(t, parse(t, data, Options{}), from, to)
		if !equalSpans(got, want) || len(got) == 0 {
			t.Fatalf("from %s: kept expansion %v\nfresh %v", from.Format(time.DateOnly), got, want)
		}
		spills[kept.spill.Load()] = true
	}
	if n := len(spills); n < 2 || n > 4 {
		t.Errorf("75 windows sliding by a day expanded the series %d times, want 2 to 4", n)
	}
}

// An unchanged calendar's horizon follows the clock at a reload, and the
// answers stay the same.
func TestHorizonSlidesWithTheClock(t *testing.T) {
	now := time.Date(2026, 3, 2, 0, 0, 0, 0, utc)
	src := StaticSource{Name: "s.ics", Data: ics(ev("UID:weekly", "DTSTART;TZID=Europe/London:20160104T100000", "DURATION:PT1H", "RRULE:FREQ=WEEKLY;BYDAY=MO,WE"))}
	d, err := NewDirectory(t.Context(), []Entry{{Mailbox: Mailbox{Address: "a@example.org"}, Source: src}},
		DirectoryOptions{Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	horizon := func() (time.Time, int) {
		cal := d.entries["a@example.org"].state.Load().cal
		return time.Unix(cal.from, 0).UTC(), cal.Len()
	}
	from, to := now.AddDate(0, 0, 20), now.AddDate(0, 0, 40)
	before, _ := d.Events(t.Context(), "a@example.org", from, to)
	start, n := horizon()
	now = now.Add(23 * time.Hour)
	d.Reload(t.Context())
	if s, _ := horizon(); !s.Equal(start) {
		t.Errorf("after 23 hours the horizon starts at %s, want it unmoved at %s", s, start)
	}
	now = now.AddDate(0, 0, 10)
	d.Reload(t.Context())
	s, m := horizon()
	if want := now.Add(-defaultHorizonPast); !s.Equal(want) {
		t.Errorf("after 10 days the horizon starts at %s, want %s", s, want)
	}
	if m < n-4 || m > n+4 {
		t.Errorf("the moved horizon holds %d instances, the first %d", m, n)
	}
	after, _ := d.Events(t.Context(), "a@example.org", from, to)
	if len(after) != len(before) || len(after) == 0 {
		t.Errorf("the same window gives %d events after the move, %d before", len(after), len(before))
	}
}

// The common rules take the date-stepping expansion; anything more takes
// the general one.
func TestSimpleRules(t *testing.T) {
	st := time.Date(2014, 1, 8, 9, 30, 0, 0, london)
	for rule, want := range map[string]bool{
		"FREQ=DAILY":                         true,
		"FREQ=DAILY;INTERVAL=2;BYDAY=MO,FR":  true,
		"FREQ=WEEKLY":                        true,
		"FREQ=WEEKLY;INTERVAL=2;BYDAY=TU,TH": true,
		"FREQ=WEEKLY;UNTIL=20150101T000000Z": true,
		"FREQ=WEEKLY;COUNT=10":               true, // read as its UNTIL
		"FREQ=WEEKLY;BYDAY=MO;BYHOUR=9,14":   false,
		"FREQ=WEEKLY;BYDAY=MO,FR;BYSETPOS=1": false,
		"FREQ=DAILY;BYMONTH=3":               false,
		"FREQ=MONTHLY;BYDAY=1TU":             false,
		"FREQ=HOURLY":                        false,
		"FREQ=YEARLY":                        false,
	} {
		opt, err := rrule.StrToROptionInLocation(rule, london)
		if err != nil {
			t.Fatal(err)
		}
		opt.Dtstart = st
		explicitDefaults(opt)
		if err := countToUntil(opt, 1000); err != nil {
			t.Fatal(err)
		}
		if _, got := simple(*opt); got != want {
			t.Errorf("simple(%s) = %v, want %v", rule, got, want)
		}
	}
}

// A daily rule whose interval never lands on its weekdays has no
// occurrence, and its expansion ends (DTSTART on a Thursday, every
// seventh day on Wednesdays).
func TestRuleThatNeverMatchesEnds(t *testing.T) {
	cal := parse(t, ics(ev("UID:never", "DTSTART;TZID=Europe/London:20260101T100000", "DURATION:PT1H", "RRULE:FREQ=DAILY;INTERVAL=7;BYDAY=WE")), Options{})
	for _, from := range []time.Time{time.Date(2026, 2, 1, 0, 0, 0, 0, utc), time.Date(2030, 2, 1, 0, 0, 0, 0, utc)} {
		evs, err := cal.Events(from, from.AddDate(0, 0, 62))
		if err != nil || len(evs) != 0 {
			t.Errorf("Events from %s = %v, %v; want none (only DTSTART, in January 2026)", from.Format(time.DateOnly), evs, err)
		}
	}
}

// A rule whose BYxxx parts no day of any year has is ignored when the
// calendar is read, noted, rather than looked through up to the year
// 9999 at every expansion; a rule whose days are only rare is kept.
func TestRuleThatMatchesNoDayIsIgnored(t *testing.T) {
	for _, tc := range []struct {
		dtstart, rule string
		next          time.Time // an occurrence after DTSTART; zero for none
	}{
		{"20260101T100000", "FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=30", time.Time{}},
		{"20260101T100000", "FREQ=MONTHLY;BYMONTH=4;BYMONTHDAY=31", time.Time{}},
		{"20260101T100000", "FREQ=DAILY;BYMONTH=2;BYMONTHDAY=30", time.Time{}},
		{"20260101T100000", "FREQ=WEEKLY;BYDAY=MO;BYMONTH=2;BYMONTHDAY=30;COUNT=3", time.Time{}},
		{"20250301T100000", "FREQ=YEARLY;INTERVAL=4;BYMONTH=2;BYMONTHDAY=29", time.Time{}}, // 2025+4n is never a leap year
		{"20240301T100000", "FREQ=YEARLY;INTERVAL=4;BYMONTH=2;BYMONTHDAY=29", time.Date(2028, 2, 29, 10, 0, 0, 0, utc)},
		{"20160229T100000", "FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=29;BYDAY=MO", time.Date(2044, 2, 29, 10, 0, 0, 0, utc)},
		{"20260101T100000", "FREQ=MONTHLY;BYDAY=5FR", time.Date(2026, 1, 30, 10, 0, 0, 0, utc)},
	} {
		cal := parse(t, ics(ev("UID:r", "DTSTART:"+tc.dtstart+"Z", "DURATION:PT1H", "RRULE:"+tc.rule)), Options{})
		noted := false
		for _, p := range cal.Problems() {
			noted = noted || strings.Contains(p.What, "matches no day")
		}
		if never := tc.next.IsZero(); noted != never || never && len(cal.series[0].rules)+len(cal.series[0].simples) != 0 {
			t.Errorf("%s: noted as matching no day %v, rules kept %d; want noted %v", tc.rule, noted, len(cal.series[0].rules), never)
			continue
		}
		if tc.next.IsZero() {
			continue
		}
		evs, err := cal.Events(tc.next.AddDate(0, 0, -1), tc.next.AddDate(0, 0, 1))
		if err != nil || len(evs) != 1 || !evs[0].Start.Equal(tc.next) {
			t.Errorf("%s: Events around %v = %v, %v; want the occurrence there", tc.rule, tc.next, evs, err)
		}
	}
}

// A rule matchesSurely takes for matching has an occurrence in the
// cycle neverMatches would search: rules of every shape around it
// (days past the 28th, ordinals past the 4th, intervals that skip the
// months asked for, DTSTARTs near the year the library stops).
func TestMatchesSurelyAgreesWithTheSearch(t *testing.T) {
	rnd := rand.New(rand.NewPCG(1, 2))
	weekdays := []rrule.Weekday{rrule.MO, rrule.TU, rrule.WE, rrule.TH, rrule.FR, rrule.SA, rrule.SU}
	sure := 0
	for range 4000 {
		o := rrule.ROption{Freq: []rrule.Frequency{rrule.YEARLY, rrule.MONTHLY}[rnd.IntN(2)], Interval: rnd.IntN(14),
			Dtstart: time.Date([]int{1601, 2026, 8998, 9001, 9990}[rnd.IntN(5)], time.Month(1+rnd.IntN(12)), 1+rnd.IntN(28), 10, 0, 0, 0, utc)}
		for range rnd.IntN(3) {
			o.Bymonth = append(o.Bymonth, 1+rnd.IntN(12))
		}
		switch rnd.IntN(3) {
		case 0:
			for range 1 + rnd.IntN(2) {
				o.Bymonthday = append(o.Bymonthday, []int{1, 15, 28, 29, 30, 31, -1, -28, -29, -31}[rnd.IntN(10)])
			}
		case 1:
			for range 1 + rnd.IntN(2) {
				o.Byweekday = append(o.Byweekday, weekdays[rnd.IntN(7)].Nth([]int{0, 1, 4, 5, -1, -4, -5}[rnd.IntN(7)]))
			}
		}
		explicitDefaults(&o)
		if !matchesSurely(o) {
			continue
		}
		sure++
		never, err := searchCycle(o)
		if err != nil || never {
			t.Errorf("%+v: matchesSurely, but the search finds no occurrence (%v)", o, err)
		}
	}
	if sure < 500 {
		t.Errorf("matchesSurely took only %d rules of 4000", sure)
	}
}

// A BYDAY ordinal past the weekdays of its period fails its event, noted,
// rather than the recurrence library (which panics on it); the last
// ordinals a period has are read.
func TestRuleOrdinalsBeyondThePeriod(t *testing.T) {
	for rule, skipped := range map[string]bool{
		"FREQ=MONTHLY;BYDAY=20MO": true, "FREQ=MONTHLY;BYDAY=-6MO": true, "FREQ=YEARLY;BYMONTH=6;BYDAY=6MO": true,
		"FREQ=YEARLY;BYDAY=54MO": true, "FREQ=MONTHLY;BYDAY=5MO": false, "FREQ=YEARLY;BYMONTH=2;BYDAY=-5MO": false,
		"FREQ=YEARLY;BYDAY=53MO": false,
	} {
		cal := parse(t, ics(ev("UID:r", "DTSTART:20260101T100000Z", "DURATION:PT1H", "RRULE:"+rule)), Options{})
		got := len(cal.Problems()) == 1 && cal.Problems()[0].Skipped && strings.Contains(cal.Problems()[0].What, "at most")
		if got != skipped {
			t.Errorf("%s: problems %v, want the event skipped %v", rule, cal.Problems(), skipped)
		}
	}
}
