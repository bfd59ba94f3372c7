package calendar

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/emersion/go-ical"
	"github.com/teambition/rrule-go"

	"github.com/calfed/calfed/internal/wintz"
)

// tzResolver turns DATE and DATE-TIME values into instants, resolving TZID
// parameters against the IANA database, Windows zone ids and the file's own
// VTIMEZONE definitions, in that order.
type tzResolver struct {
	floating *time.Location
	defs     map[string]*ical.Component
	cache    map[string]*time.Location
	file     string
}

// dateTime parses p's value; allDay reports a DATE value. A TZID that
// names no zone is read as the floating zone, noted through rep.
func (r *tzResolver) dateTime(p *ical.Prop, rep *reporter, v *vevent) (t time.Time, allDay bool, err error) {
	val := strings.TrimSpace(p.Value)
	isDate := strings.EqualFold(p.Params.Get(ical.ParamValue), "DATE") || len(val) == 8
	if isDate && len(val) > 8 {
		// VALUE=DATE on a date-time (ical.net's test exports): the value
		// says what it is, as Outlook reads it.
		if err := rep.repaired(v, fmt.Sprintf("%s;VALUE=DATE holds the date-time %s", p.Name, val), "read it as a date-time"); err != nil {
			return time.Time{}, false, err
		}
		isDate = false
	}
	if isDate {
		y, m, d, ok := parseDate(val)
		if !ok {
			return time.Time{}, false, fmt.Errorf("bad DATE %q", val)
		}
		return time.Date(y, m, d, 0, 0, 0, 0, r.floating), true, nil
	}
	if strings.HasSuffix(val, "Z") || strings.HasSuffix(val, "z") {
		w, ok := parseDateTime(val[:len(val)-1])
		if !ok {
			return time.Time{}, false, fmt.Errorf("bad DATE-TIME %q", val)
		}
		return time.Date(w.y, w.m, w.d, w.h, w.mi, w.sec, 0, time.UTC), false, nil
	}
	loc := r.floating
	if id := p.Params.Get(ical.ParamTimezoneID); id != "" {
		if loc, err = r.location(id, rep, v); err != nil {
			return time.Time{}, false, err
		}
	}
	w, ok := parseDateTime(val)
	if !ok {
		return time.Time{}, false, fmt.Errorf("bad DATE-TIME %q", val)
	}
	return localTime(w.y, w.m, w.d, w.h, w.mi, w.sec, loc), false, nil
}

// parseDate reads a DATE value, YYYYMMDD (RFC 5545 §3.3.4), as
// time.Parse("20060102") reads it, without its cost: a calendar holds
// thousands.
func parseDate(s string) (y int, m time.Month, d int, ok bool) {
	if len(s) != 8 {
		return 0, 0, 0, false
	}
	y, ok1 := digits(s[0:4])
	mo, ok2 := digits(s[4:6])
	d, ok3 := digits(s[6:8])
	if !ok1 || !ok2 || !ok3 || mo < 1 || mo > 12 || d < 1 || d > daysIn(y, time.Month(mo)) {
		return 0, 0, 0, false
	}
	return y, time.Month(mo), d, true
}

// wallTime is a date and a time of day, in no zone yet.
type wallTime struct {
	y             int
	m             time.Month
	d, h, mi, sec int
}

// parseDateTime reads a DATE-TIME value without its Z, YYYYMMDDTHHMMSS
// (RFC 5545 §3.3.5), as time.Parse("20060102T150405") reads it.
func parseDateTime(s string) (wallTime, bool) {
	if len(s) != 15 || s[8] != 'T' {
		return wallTime{}, false
	}
	y, m, d, ok := parseDate(s[:8])
	h, ok1 := digits(s[9:11])
	mi, ok2 := digits(s[11:13])
	sec, ok3 := digits(s[13:15])
	if !ok || !ok1 || !ok2 || !ok3 || h > 23 || mi > 59 || sec > 59 {
		return wallTime{}, false
	}
	return wallTime{y, m, d, h, mi, sec}, true
}

func digits(s string) (int, bool) {
	n := 0
	for i := 0; i < len(s); i++ {
		c := s[i] - '0'
		if c > 9 {
			return 0, false
		}
		n = n*10 + int(c)
	}
	return n, true
}

// daysIn is the number of days in a month of the proleptic Gregorian
// calendar, as time.Date counts them.
func daysIn(y int, m time.Month) int {
	switch m {
	case time.February:
		if y%4 == 0 && (y%100 != 0 || y%400 == 0) {
			return 29
		}
		return 28
	case time.April, time.June, time.September, time.November:
		return 30
	}
	return 31
}

// period parses a PERIOD value: start/end or start/duration (§3.3.9).
func (r *tzResolver) period(p *ical.Prop, rep *reporter, v *vevent) (period, error) {
	a, b, ok := strings.Cut(p.Value, "/")
	if !ok {
		return period{}, fmt.Errorf("bad PERIOD %q", p.Value)
	}
	q := *p
	q.Params = ical.Params{}
	if id := p.Params.Get(ical.ParamTimezoneID); id != "" {
		q.Params.Set(ical.ParamTimezoneID, id)
	}
	q.Value = a
	start, allDay, err := r.dateTime(&q, rep, v)
	if err != nil || allDay {
		return period{}, fmt.Errorf("bad PERIOD start %q", a)
	}
	if strings.HasPrefix(b, "P") || strings.HasPrefix(b, "+P") || strings.HasPrefix(b, "-P") {
		q.Value = b
		q.Params.Set(ical.ParamValue, string(ical.ValueDuration))
		d, err := q.Duration()
		if err != nil || d < 0 {
			return period{}, fmt.Errorf("bad PERIOD duration %q", b)
		}
		return period{start, start.Add(d)}, nil
	}
	q.Value = b
	end, _, err := r.dateTime(&q, rep, v)
	if err != nil || end.Before(start) {
		return period{}, fmt.Errorf("bad PERIOD end %q", b)
	}
	return period{start, end}, nil
}

// localTime is the instant of a wall-clock time in loc, as RFC 5545
// §3.3.5 places times a transition skips or repeats: a time in a
// spring-forward gap takes the offset before the gap (02:30 on the day New
// York springs forward is 03:30 EDT), a repeated time its first
// occurrence.
func localTime(y int, mo time.Month, d, h, mi, sec int, loc *time.Location) time.Time {
	t := time.Date(y, mo, d, h, mi, sec, 0, loc)
	if th, tm, ts := t.Clock(); th == h && tm == mi && ts == sec && t.Day() == d {
		return firstOf(t)
	}
	_, before := t.Add(-6 * time.Hour).Zone()
	wall := time.Date(y, mo, d, h, mi, sec, 0, time.UTC)
	return wall.Add(-time.Duration(before) * time.Second).In(loc)
}

// firstOf moves a repeated wall-clock time to its first occurrence (the
// one before the fall-back, with the larger offset), whatever the size of
// the step back: the zone's previous offset is read at the start of the
// zone period t falls in.
func firstOf(t time.Time) time.Time {
	start, _ := t.ZoneBounds()
	if start.IsZero() || t.Sub(start) >= 48*time.Hour {
		return t // no offset differs by two days: t is not repeated
	}
	_, off := t.Zone()
	_, earlier := start.Add(-time.Nanosecond).Zone()
	if earlier <= off {
		return t
	}
	e := t.Add(-time.Duration(earlier-off) * time.Second)
	if e.Before(start) && e.Hour() == t.Hour() && e.Minute() == t.Minute() && e.Second() == t.Second() {
		return e
	}
	return t
}

func (r *tzResolver) location(id string, rep *reporter, v *vevent) (*time.Location, error) {
	if loc, ok := r.cache[id]; ok {
		return loc, nil
	}
	loc, how, err := r.resolve(id)
	if how != "" {
		rep.note(v, fmt.Sprintf("TZID %q names no VTIMEZONE", id), how)
	}
	if err != nil {
		if !errors.Is(err, errUnknownTZID) {
			return nil, err
		}
		// Lotus Notes and others name zones nobody defines: the mailbox's
		// zone is the best reading left.
		if err := rep.repaired(v, err.Error(), "read its times in the mailbox's time zone"); err != nil {
			return nil, err
		}
		loc = r.floating
	}
	if r.cache == nil {
		r.cache = map[string]*time.Location{}
	}
	r.cache[id] = loc
	return loc, nil
}

// errUnknownTZID: a TZID that is no zone we know and that no VTIMEZONE
// defines.
var errUnknownTZID = errors.New("unknown TZID")

// resolve finds the zone a TZID names; how says how, when it was not by a
// zone name or a VTIMEZONE.
func (r *tzResolver) resolve(id string) (loc *time.Location, how string, err error) {
	clean := strings.Trim(id, `"`)
	if loc, err := wintz.Load(clean); err == nil {
		return loc, "", nil
	}
	def := r.defs[id]
	if def != nil {
		if p := def.Props.Get("X-LIC-LOCATION"); p != nil {
			if loc, err := wintz.Load(strings.TrimSpace(p.Value)); err == nil {
				return loc, "", nil
			}
		}
	}
	// Vendor-prefixed ids such as /mozilla.org/20050126_1/Europe/London.
	if parts := strings.Split(strings.Trim(clean, "/"), "/"); len(parts) >= 2 {
		for i := len(parts) - 2; i >= 0; i-- {
			if loc, err := wintz.Load(strings.Join(parts[i:], "/")); err == nil {
				return loc, "", nil
			}
		}
	}
	if def == nil {
		if loc, err := wintz.Load(ianaCase(clean)); err == nil {
			return loc, "", nil // europe/berlin
		}
		// Outlook's display names, "(UTC-05:00) Eastern Time (US & Canada)".
		if win, ok := wintz.FromDisplayName(clean); ok {
			if loc, err := wintz.Load(win); err == nil {
				return loc, "read it as the Windows zone of that display name, " + win, nil
			}
		}
		return nil, "", fmt.Errorf("%w %q, and no VTIMEZONE defines it", errUnknownTZID, id)
	}
	if !yearlyRules(def) {
		loc, err := vtimezoneHistory(clean, def)
		if err != nil {
			return nil, "", fmt.Errorf("VTIMEZONE %q: %w", id, err)
		}
		return loc, "", nil
	}
	rule, err := vtimezoneRule(def)
	if err != nil {
		return nil, "", fmt.Errorf("VTIMEZONE %q: %w", id, err)
	}
	loc, err = rule.Location(clean)
	return loc, "", err
}

// yearlyRules reports whether a VTIMEZONE's newest STANDARD observance
// recurs (and so does its newest DAYLIGHT one, if it has any): a yearly
// rule then describes it from now on. Otherwise it is a history of dated
// changes.
func yearlyRules(def *ical.Component) bool {
	newest := map[string]*ical.Component{}
	starts := map[string]string{}
	for _, c := range def.Children {
		if c.Name != ical.CompTimezoneStandard && c.Name != ical.CompTimezoneDaylight {
			continue
		}
		start := ""
		if p := c.Props.Get(ical.PropDateTimeStart); p != nil {
			start = p.Value
		}
		if newest[c.Name] == nil || start > starts[c.Name] {
			newest[c.Name], starts[c.Name] = c, start
		}
	}
	std, dst := newest[ical.CompTimezoneStandard], newest[ical.CompTimezoneDaylight]
	if std == nil || std.Props.Get(ical.PropRecurrenceRule) == nil {
		return std != nil && dst == nil // no DAYLIGHT: a fixed offset
	}
	return dst == nil || dst.Props.Get(ical.PropRecurrenceRule) != nil
}

// historyEnd bounds the expansion of an observance's RRULE in a history.
var historyEnd = time.Date(2100, 1, 1, 0, 0, 0, 0, time.UTC)

// vtimezoneHistory reads every onset of every observance — DTSTART, RDATE
// and RRULE (up to historyEnd) — into a zone with those changes (RFC 5545
// §3.6.5: each onset is a local time in the offset before it).
func vtimezoneHistory(name string, def *ical.Component) (*time.Location, error) {
	type onset struct {
		at       time.Time
		from, to int // minutes east of UTC
		dst      bool
	}
	var onsets []onset
	for _, c := range def.Children {
		if c.Name != ical.CompTimezoneStandard && c.Name != ical.CompTimezoneDaylight {
			continue
		}
		to, err := utcOffset(c)
		if err != nil {
			return nil, err
		}
		from, err := offsetProp(c, ical.PropTimezoneOffsetFrom)
		if err != nil {
			return nil, err
		}
		start := c.Props.Get(ical.PropDateTimeStart)
		if start == nil || len(start.Value) < 15 {
			return nil, fmt.Errorf("%s has no DTSTART with a time", c.Name)
		}
		wall, err := time.Parse("20060102T150405", start.Value[:15])
		if err != nil {
			return nil, fmt.Errorf("%s: bad DTSTART %q", c.Name, start.Value)
		}
		walls := []time.Time{wall}
		for _, p := range c.Props.Values(ical.PropRecurrenceDates) {
			for _, v := range strings.Split(p.Value, ",") {
				if w, err := time.Parse("20060102T150405", strings.TrimSuffix(strings.TrimSpace(v), "Z")); err == nil {
					walls = append(walls, w)
				}
			}
		}
		if p := c.Props.Get(ical.PropRecurrenceRule); p != nil {
			opt, err := rrule.StrToROptionInLocation(strings.Join(strings.Fields(p.Value), ""), time.UTC)
			if err != nil {
				return nil, fmt.Errorf("%s: RRULE: %w", c.Name, err)
			}
			opt.Dtstart = wall
			r, err := rrule.NewRRule(*opt)
			if err != nil {
				return nil, fmt.Errorf("%s: RRULE: %w", c.Name, err)
			}
			walls = append(walls, r.Between(wall, historyEnd, false)...)
		}
		for _, w := range walls {
			onsets = append(onsets, onset{at: w.Add(-time.Duration(from) * time.Minute), from: from, to: to, dst: c.Name == ical.CompTimezoneDaylight})
		}
	}
	if len(onsets) == 0 {
		return nil, errors.New("no STANDARD or DAYLIGHT observance")
	}
	slices.SortFunc(onsets, func(a, b onset) int { return a.at.Compare(b.at) })
	changes := make([]wintz.Change, 0, len(onsets))
	for _, o := range onsets {
		changes = append(changes, wintz.Change{At: o.at, Offset: o.to * 60, DST: o.dst})
	}
	return wintz.History(name, onsets[0].from*60, changes)
}

// offsetProp reads a UTC offset property in minutes east of UTC.
func offsetProp(c *ical.Component, name string) (int, error) {
	p := c.Props.Get(name)
	if p == nil {
		return 0, fmt.Errorf("%s has no %s", c.Name, name)
	}
	return parseOffset(p.Value)
}

// vtimezoneRule reads the newest STANDARD and DAYLIGHT observances of a
// VTIMEZONE into a yearly rule.
func vtimezoneRule(def *ical.Component) (wintz.Rule, error) {
	var std, dst *ical.Component
	var stdStart, dstStart string
	for _, c := range def.Children {
		start := ""
		if p := c.Props.Get(ical.PropDateTimeStart); p != nil {
			start = p.Value
		}
		switch c.Name {
		case ical.CompTimezoneStandard:
			if std == nil || start > stdStart {
				std, stdStart = c, start
			}
		case ical.CompTimezoneDaylight:
			if dst == nil || start > dstStart {
				dst, dstStart = c, start
			}
		}
	}
	if std == nil {
		return wintz.Rule{}, errors.New("no STANDARD observance")
	}
	stdOff, err := utcOffset(std)
	if err != nil {
		return wintz.Rule{}, err
	}
	rule := wintz.Rule{Bias: -stdOff}
	if dst == nil || std.Props.Get(ical.PropRecurrenceRule) == nil || dst.Props.Get(ical.PropRecurrenceRule) == nil {
		return rule, nil
	}
	dstOff, err := utcOffset(dst)
	if err != nil {
		return wintz.Rule{}, err
	}
	if rule.Standard, err = observanceTransition(std, 0); err != nil {
		return wintz.Rule{}, err
	}
	if rule.Daylight, err = observanceTransition(dst, -(dstOff - stdOff)); err != nil {
		return wintz.Rule{}, err
	}
	return rule, rule.Validate()
}

// utcOffset returns TZOFFSETTO in minutes east of UTC.
func utcOffset(c *ical.Component) (int, error) {
	p := c.Props.Get(ical.PropTimezoneOffsetTo)
	if p == nil {
		return 0, fmt.Errorf("%s has no TZOFFSETTO", c.Name)
	}
	return parseOffset(p.Value)
}

// parseOffset reads a UTC-OFFSET value (§3.3.14) in minutes east of UTC.
func parseOffset(s string) (int, error) {
	v := strings.TrimSpace(s)
	if len(v) != 5 && len(v) != 7 || (v[0] != '+' && v[0] != '-') {
		return 0, fmt.Errorf("bad UTC offset %q", v)
	}
	h, err1 := strconv.Atoi(v[1:3])
	m, err2 := strconv.Atoi(v[3:5])
	if err1 != nil || err2 != nil {
		return 0, fmt.Errorf("bad UTC offset %q", v)
	}
	off := h*60 + m
	if v[0] == '-' {
		off = -off
	}
	return off, nil
}

// observanceTransition reads FREQ=YEARLY;BYMONTH=m;BYDAY=nWD and the time of
// day of DTSTART.
func observanceTransition(c *ical.Component, bias int) (wintz.Transition, error) {
	t := wintz.Transition{Bias: bias}
	start := c.Props.Get(ical.PropDateTimeStart)
	if start == nil || len(start.Value) < 15 {
		return t, fmt.Errorf("%s has no DTSTART with a time", c.Name)
	}
	st, err := time.Parse("20060102T150405", start.Value[:15])
	if err != nil {
		return t, fmt.Errorf("%s: bad DTSTART %q", c.Name, start.Value)
	}
	t.Time = time.Duration(st.Hour())*time.Hour + time.Duration(st.Minute())*time.Minute + time.Duration(st.Second())*time.Second
	for _, part := range strings.Split(c.Props.Get(ical.PropRecurrenceRule).Value, ";") {
		k, v, _ := strings.Cut(part, "=")
		switch strings.ToUpper(k) {
		case "BYMONTH":
			if t.Month, err = strconv.Atoi(v); err != nil {
				return t, fmt.Errorf("%s: bad BYMONTH %q", c.Name, v)
			}
		case "BYDAY":
			if len(v) < 3 {
				return t, fmt.Errorf("%s: bad BYDAY %q", c.Name, v)
			}
			n, day := v[:len(v)-2], strings.ToUpper(v[len(v)-2:])
			wd := strings.Index("SUMOTUWETHFRSA", day)
			if wd < 0 || wd%2 != 0 {
				return t, fmt.Errorf("%s: bad BYDAY %q", c.Name, v)
			}
			t.Weekday = time.Weekday(wd / 2)
			order, err := strconv.Atoi(strings.TrimPrefix(n, "+"))
			switch {
			case err != nil:
				return t, fmt.Errorf("%s: BYDAY %q needs an ordinal", c.Name, v)
			case order == -1 || order == 5:
				t.DayOrder = 5
			case order >= 1 && order <= 4:
				t.DayOrder = order
			default:
				return t, fmt.Errorf("%s: BYDAY ordinal %d is not expressible", c.Name, order)
			}
		}
	}
	if t.Month == 0 || t.DayOrder == 0 {
		return t, fmt.Errorf("%s: RRULE needs BYMONTH and BYDAY", c.Name)
	}
	return t, nil
}

// ianaCase writes a zone name with capitalised words, as the IANA database
// does (europe/berlin → Europe/Berlin); the few names that are not so
// written (America/Port-au-Prince) stay unknown in lower case.
func ianaCase(id string) string {
	b := []byte(strings.ToLower(id))
	up := true
	for i, c := range b {
		if up && c >= 'a' && c <= 'z' {
			b[i] = c - 'a' + 'A'
		}
		up = c == '/' || c == '_' || c == '-'
	}
	return string(b)
}
