package calendar

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/emersion/go-ical"

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

// dateTime parses p's value; allDay reports a DATE value.
func (r *tzResolver) dateTime(p *ical.Prop) (t time.Time, allDay bool, err error) {
	v := strings.TrimSpace(p.Value)
	isDate := strings.EqualFold(p.Params.Get(ical.ParamValue), "DATE") || len(v) == 8
	if isDate {
		t, err := time.ParseInLocation("20060102", v, r.floating)
		if err != nil {
			return time.Time{}, false, fmt.Errorf("bad DATE %q", v)
		}
		return t, true, nil
	}
	if strings.HasSuffix(v, "Z") || strings.HasSuffix(v, "z") {
		t, err := time.Parse("20060102T150405", v[:len(v)-1])
		if err != nil {
			return time.Time{}, false, fmt.Errorf("bad DATE-TIME %q", v)
		}
		return t, false, nil
	}
	loc := r.floating
	if id := p.Params.Get(ical.ParamTimezoneID); id != "" {
		if loc, err = r.location(id); err != nil {
			return time.Time{}, false, err
		}
	}
	t, err = time.ParseInLocation("20060102T150405", v, loc)
	if err != nil {
		return time.Time{}, false, fmt.Errorf("bad DATE-TIME %q", v)
	}
	return t, false, nil
}

func (r *tzResolver) location(id string) (*time.Location, error) {
	if loc, ok := r.cache[id]; ok {
		return loc, nil
	}
	loc, err := r.resolve(id)
	if err != nil {
		return nil, err
	}
	if r.cache == nil {
		r.cache = map[string]*time.Location{}
	}
	r.cache[id] = loc
	return loc, nil
}

func (r *tzResolver) resolve(id string) (*time.Location, error) {
	clean := strings.Trim(id, `"`)
	if loc, err := wintz.Load(clean); err == nil {
		return loc, nil
	}
	def := r.defs[id]
	if def != nil {
		if p := def.Props.Get("X-LIC-LOCATION"); p != nil {
			if loc, err := wintz.Load(strings.TrimSpace(p.Value)); err == nil {
				return loc, nil
			}
		}
	}
	// Vendor-prefixed ids such as /mozilla.org/20050126_1/Europe/London.
	if parts := strings.Split(strings.Trim(clean, "/"), "/"); len(parts) >= 2 {
		for i := len(parts) - 2; i >= 0; i-- {
			if loc, err := wintz.Load(strings.Join(parts[i:], "/")); err == nil {
				return loc, nil
			}
		}
	}
	if def == nil {
		return nil, fmt.Errorf("unknown TZID %q and no VTIMEZONE defines it", id)
	}
	rule, err := vtimezoneRule(def)
	if err != nil {
		return nil, fmt.Errorf("VTIMEZONE %q: %w", id, err)
	}
	return rule.Location(clean)
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
	v := strings.TrimSpace(p.Value)
	if len(v) != 5 && len(v) != 7 || (v[0] != '+' && v[0] != '-') {
		return 0, fmt.Errorf("bad TZOFFSETTO %q", v)
	}
	h, err1 := strconv.Atoi(v[1:3])
	m, err2 := strconv.Atoi(v[3:5])
	if err1 != nil || err2 != nil {
		return 0, fmt.Errorf("bad TZOFFSETTO %q", v)
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
