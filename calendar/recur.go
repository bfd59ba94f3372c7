package calendar

import (
	"slices"
	"time"

	"github.com/teambition/rrule-go"
)

// A series is expanded from a period boundary near the window asked, not
// from DTSTART, so that a series begun ten years ago costs what one begun
// last week costs. An RRULE's occurrences in one period (a day, week,
// month or year) depend only on that period and on what DTSTART gives the
// rule by default (RFC 5545 §3.3.10: the time of day, the weekday, the
// day of the month, the month); with those written out, the rule started
// at a later period boundary, a whole number of INTERVALs after DTSTART's
// period, yields exactly the occurrences the original has from that
// boundary on. docs/protocol.md §6.1.

// explicitDefaults writes out what the rule takes from DTSTART when the
// rule does not say it (RFC 5545 §3.3.10, as rrule-go applies it).
func explicitDefaults(o *rrule.ROption) {
	st := o.Dtstart
	if len(o.Byweekno)+len(o.Byyearday)+len(o.Bymonthday)+len(o.Byweekday)+len(o.Byeaster) == 0 {
		switch o.Freq {
		case rrule.YEARLY:
			if len(o.Bymonth) == 0 {
				o.Bymonth = []int{int(st.Month())}
			}
			o.Bymonthday = []int{st.Day()}
		case rrule.MONTHLY:
			o.Bymonthday = []int{st.Day()}
		case rrule.WEEKLY:
			o.Byweekday = []rrule.Weekday{ruleWeekdays[st.Weekday()]}
		}
	}
	if len(o.Byhour) == 0 && o.Freq < rrule.HOURLY {
		o.Byhour = []int{st.Hour()}
	}
	if len(o.Byminute) == 0 && o.Freq < rrule.MINUTELY {
		o.Byminute = []int{st.Minute()}
	}
	if len(o.Bysecond) == 0 && o.Freq < rrule.SECONDLY {
		o.Bysecond = []int{st.Second()}
	}
}

// neverMatches reports whether a rule of DAILY or coarser frequency,
// DTSTART's defaults written out, has no occurrence at all: its BYxxx
// parts ask for a day no calendar has (FREQ=YEARLY;BYMONTH=2;
// BYMONTHDAY=30). The recurrence library looks for such a rule's next
// occurrence up to the year 9999, at every expansion; one look here,
// once, is bounded instead. The Gregorian calendar repeats every 400
// years (146,097 days, 20,871 weeks, 4,800 months), so a rule repeats
// after the least common multiple of that cycle and its INTERVAL: a rule
// with no occurrence in one such cycle has none. The cycle is looked at
// near the year 9999, where the library stops, DTSTART moved there by
// whole 400-year cycles. Sub-daily rules are not checked.
// docs/protocol.md §6.1.
func neverMatches(o rrule.ROption) (bool, error) {
	if o.Freq > rrule.DAILY {
		return false, nil
	}
	o.Count, o.Until = 0, time.Time{}
	if _, ok := simple(o); ok {
		return false, nil // simpleRule.iterator stops by itself
	}
	if matchesSurely(o) {
		return false, nil
	}
	return searchCycle(o)
}

// matchesSurely reports whether a MONTHLY or YEARLY rule asks only for
// days every month has (BYMONTHDAY=15, BYDAY=1TU or -1FR, DTSTART's day
// of the month up to the 28th), in months it visits, well before the
// year the recurrence library stops: the monthly and yearly series
// calendars hold, which need no search.
func matchesSurely(o rrule.ROption) bool {
	n := max(o.Interval, 1)
	if o.Freq != rrule.MONTHLY && o.Freq != rrule.YEARLY || n > 12 || o.Dtstart.Year() > lastRuleYear-1000 ||
		len(o.Bysetpos)+len(o.Byyearday)+len(o.Byweekno)+len(o.Byeaster) != 0 ||
		o.Freq == rrule.MONTHLY && n > 1 && len(o.Bymonth) > 0 { // the months visited may not be those asked
		return false
	}
	switch {
	case len(o.Bymonthday) > 0 && len(o.Byweekday) == 0:
		for _, d := range o.Bymonthday {
			if d != 0 && -28 <= d && d <= 28 {
				return true
			}
		}
	case len(o.Byweekday) > 0 && len(o.Bymonthday) == 0:
		// Weekdays with an ordinal and without one together ask for the
		// days that are both, in the library as in python-dateutil.
		plain, ordinal := 0, 0
		for _, w := range o.Byweekday {
			switch n := w.N(); {
			case n == 0:
				plain++
			case -4 <= n && n <= 4:
				ordinal++
			}
		}
		return plain == len(o.Byweekday) || plain == 0 && ordinal > 0
	}
	return false
}

// searchCycle is neverMatches's search: whether o has no occurrence in
// a whole cycle of it before the year the library stops.
func searchCycle(o rrule.ROption) (bool, error) {
	n := max(o.Interval, 1)
	var days float64 // the rule's cycle
	switch o.Freq {
	case rrule.YEARLY:
		days = float64(lcm(400, n)) * 365.2425
	case rrule.MONTHLY:
		days = float64(lcm(4800, n)) * 365.2425 / 12
	case rrule.WEEKLY:
		days = float64(lcm(20871, n)) * 7
	case rrule.DAILY:
		days = float64(lcm(146097, n))
	}
	years := int(days/365.2425) + 2
	if k := (lastRuleYear - years - o.Dtstart.Year()) / 400; k > 0 {
		o.Dtstart = o.Dtstart.AddDate(400*k, 0, 0)
	}
	r, err := rrule.NewRRule(o)
	if err != nil {
		return false, err
	}
	_, ok := r.Iterator()()
	return !ok, nil
}

// lastRuleYear is the last year the recurrence library expands.
const lastRuleYear = 9999

func lcm(a, b int) int {
	x, y := a, b
	for y != 0 {
		x, y = y, x%y
	}
	return a / x * b
}

var ruleWeekdays = [...]rrule.Weekday{rrule.SU, rrule.MO, rrule.TU, rrule.WE, rrule.TH, rrule.FR, rrule.SA}

// countToUntil replaces a COUNT by the UNTIL of its last occurrence, which
// says the same and lets the rule start later than DTSTART. A COUNT above
// limit is left alone: such a rule is expanded from DTSTART, and bounded
// by the expansion's own limit.
func countToUntil(o *rrule.ROption, limit int) error {
	if o.Count <= 0 || o.Count > limit {
		return nil
	}
	r, err := rrule.NewRRule(*o)
	if err != nil {
		return err
	}
	next := r.Iterator()
	last := o.Dtstart.Add(-time.Second) // no occurrence at all: nothing is at or before it
	for range o.Count {
		t, ok := next()
		if !ok {
			break
		}
		last = t
	}
	o.Count, o.Until = 0, last
	return nil
}

// restart returns o started again at the latest period boundary at or
// before lo (Unix seconds) that is a whole number of INTERVALs after
// DTSTART's period, or o itself when there is none after DTSTART. The
// first period of the result is whole (a week from WKST), so BYSETPOS
// picks within it what it picks in the original.
func restart(o rrule.ROption, lo int64) rrule.ROption {
	if o.Count > 0 || o.Freq > rrule.DAILY {
		// An unconverted COUNT counts from DTSTART; sub-daily rules step
		// through DST changes by the clock, so a day is no boundary.
		return o
	}
	o.Dtstart = restartAt(o.Freq, o.Interval, o.Wkst.Day(), o.Dtstart, lo)
	return o
}

// restartAt is the start restart gives a rule of frequency freq (DAILY
// or coarser), INTERVAL iv, WKST wkst (Monday 0) and DTSTART st.
func restartAt(freq rrule.Frequency, iv, wkst int, st time.Time, lo int64) time.Time {
	loc := st.Location()
	if lo <= st.Unix() {
		return st
	}
	t := time.Unix(lo, 0).In(loc)
	iv = max(iv, 1)
	y, m, d := st.Date()
	var at time.Time
	switch freq {
	case rrule.YEARLY:
		n := (t.Year() - y) / iv * iv
		at = time.Date(y+n, 1, 1, 0, 0, 0, 0, loc)
	case rrule.MONTHLY:
		n := ((t.Year()-y)*12 + int(t.Month()-m)) / iv * iv
		at = time.Date(y, m+time.Month(n), 1, 0, 0, 0, 0, loc)
	case rrule.WEEKLY:
		n := daysBetween(st, t) / 7 / iv * iv
		day := d + 7*n
		day -= (int(time.Date(y, m, day, 12, 0, 0, 0, time.UTC).Weekday()) + 6 - wkst + 7) % 7
		at = time.Date(y, m, day, 0, 0, 0, 0, loc)
	case rrule.DAILY:
		n := daysBetween(st, t) / iv * iv
		at = time.Date(y, m, d+n, 0, 0, 0, 0, loc)
	}
	if !at.After(st) || at.Unix() > lo {
		return st
	}
	return at
}

// restartMargin is how far before a window's first possible occurrence
// a series restarts: more than a period's start can move through a DST
// gap at midnight, or a wall-clock correction (see wallClock) move an
// occurrence.
const restartMargin = 2 * 24 * 3600

// occurrences yields the series's occurrences (its rules, RDATEs and
// DTSTART, less EXDATEs) in order, each once, from about lo (Unix
// seconds) on: every occurrence at or after lo is yielded, and perhaps
// some before.
func (s *series) occurrences(lo int64) (func() (time.Time, bool), error) {
	type head struct {
		next func() (time.Time, bool)
		t    time.Time
		ok   bool
	}
	heads := make([]head, 0, len(s.simples)+len(s.rules)+1)
	for _, r := range s.simples {
		heads = append(heads, head{next: r.restart(lo).iterator()})
	}
	for _, o := range s.rules {
		o = restart(o, lo)
		if sr, ok := simple(o); ok {
			heads = append(heads, head{next: sr.iterator()})
			continue
		}
		r, err := rrule.NewRRule(o)
		if err != nil {
			return nil, err
		}
		heads = append(heads, head{next: r.Iterator()})
	}
	rd := s.rdates
	i, _ := slices.BinarySearchFunc(rd, lo, func(t time.Time, lo int64) int { return cmpInt(t.Unix(), lo) })
	rd = rd[i:]
	heads = append(heads, head{next: func() (time.Time, bool) {
		if len(rd) == 0 {
			return time.Time{}, false
		}
		t := rd[0]
		rd = rd[1:]
		return t, true
	}})
	for i := range heads {
		heads[i].t, heads[i].ok = heads[i].next()
	}
	var last time.Time
	return func() (time.Time, bool) {
		for {
			var low *head
			for i := range heads {
				if h := &heads[i]; h.ok && (low == nil || h.t.Before(low.t)) {
					low = h
				}
			}
			if low == nil {
				return time.Time{}, false
			}
			t := low.t
			low.t, low.ok = low.next()
			if t.Equal(last) {
				continue
			}
			last = t
			if _, excluded := slices.BinarySearch(s.exdates, t.Unix()); excluded {
				continue
			}
			return t, true
		}
	}, nil
}

// simpleRule is a DAILY or WEEKLY rule that says no more than which
// weekdays (BYDAY without ordinals), at one time of day: the stand-ups,
// one-to-ones and team meetings most series are. It is expanded here by
// stepping through dates, one zone look-up an occurrence, instead of by
// the general expansion, which rebuilds a period's day set with several
// look-ups a day; it yields what rrule-go yields (RFC 5545 §3.3.10).
type simpleRule struct {
	weekly       bool
	interval     int
	days         [7]bool // by time.Weekday; all for a DAILY rule without BYDAY
	wkst         time.Weekday
	h, min, sec  int
	start, until time.Time // until zero: none
}

func simple(o rrule.ROption) (simpleRule, bool) {
	if o.Freq != rrule.DAILY && o.Freq != rrule.WEEKLY || o.Count != 0 ||
		len(o.Byhour) != 1 || len(o.Byminute) != 1 || len(o.Bysecond) != 1 ||
		len(o.Bysetpos)+len(o.Bymonth)+len(o.Bymonthday)+len(o.Byyearday)+len(o.Byweekno)+len(o.Byeaster) != 0 {
		return simpleRule{}, false
	}
	r := simpleRule{weekly: o.Freq == rrule.WEEKLY, interval: max(o.Interval, 1), wkst: time.Weekday((o.Wkst.Day() + 1) % 7),
		h: o.Byhour[0], min: o.Byminute[0], sec: o.Bysecond[0], start: o.Dtstart.Truncate(time.Second), until: o.Until.Truncate(time.Second)}
	for _, wd := range o.Byweekday {
		if wd.N() != 0 {
			return simpleRule{}, false
		}
		r.days[(wd.Day()+1)%7] = true
	}
	if len(o.Byweekday) == 0 {
		if r.weekly {
			return simpleRule{}, false // explicitDefaults gives every WEEKLY rule its weekday
		}
		r.days = [7]bool{true, true, true, true, true, true, true}
	}
	return r, true
}

// restart is r started again as restart starts its rule.
func (r simpleRule) restart(lo int64) simpleRule {
	freq := rrule.DAILY
	if r.weekly {
		freq = rrule.WEEKLY
	}
	r.start = restartAt(freq, r.interval, (int(r.wkst)+6)%7, r.start, lo).Truncate(time.Second)
	return r
}

// iterator yields the rule's occurrences from its start, in order.
func (r simpleRule) iterator() func() (time.Time, bool) {
	loc := r.start.Location()
	y, m, d := r.start.Date()
	// A day is stepped through as a UTC noon, which has no zone to look up.
	day := time.Date(y, m, d, 12, 0, 0, 0, time.UTC)
	step := r.interval
	var weekEnd time.Time // the day after the current week (weekly rules)
	if r.weekly {
		day = day.AddDate(0, 0, -((int(day.Weekday()) - int(r.wkst) + 7) % 7)) // back to WKST
		weekEnd = day.AddDate(0, 0, 7)
	}
	done := false
	misses := 0 // days stepped through in a row without one of the weekdays
	return func() (time.Time, bool) {
		for !done {
			cur := day
			if r.weekly {
				if day = day.AddDate(0, 0, 1); !day.Before(weekEnd) {
					day = weekEnd.AddDate(0, 0, 7*(step-1))
					weekEnd = day.AddDate(0, 0, 7)
				}
			} else {
				day = day.AddDate(0, 0, step)
			}
			if !r.days[cur.Weekday()] {
				// Stepping by the interval, a daily rule meets every weekday
				// it ever meets within seven steps: none, never.
				if misses++; misses >= 7 && !r.weekly {
					done = true
				}
				continue
			}
			misses = 0
			y, m, d := cur.Date()
			t := time.Date(y, m, d, r.h, r.min, r.sec, 0, loc)
			if !r.until.IsZero() && t.After(r.until) {
				done = true
				break
			}
			if t.Before(r.start) {
				continue
			}
			return t, true
		}
		return time.Time{}, false
	}
}
