package ews

import (
	"encoding/xml"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/calfed/calfed/internal/wintz"
)

// envelope collects what the handler needs from a request envelope.
type envelope struct {
	version   string              // RequestServerVersion/@Version
	tzContext *timeZoneDefinition // TimeZoneContext/TimeZoneDefinition
	op        xml.Name            // the body's operation element
	gua       *getUserAvailabilityRequest
	gstz      *getServerTimeZones
}

func (e *envelope) Header(d *xml.Decoder, start xml.StartElement) error {
	if start.Name.Space != nsTypes {
		return d.Skip()
	}
	switch start.Name.Local {
	case "RequestServerVersion":
		for _, a := range start.Attr {
			if a.Name.Local == "Version" {
				e.version = strings.TrimSpace(a.Value)
			}
		}
		return d.Skip()
	case "TimeZoneContext":
		var tc struct {
			Def *timeZoneDefinition `xml:"TimeZoneDefinition"`
		}
		if err := d.DecodeElement(&tc, &start); err != nil {
			return schemaError(err)
		}
		e.tzContext = tc.Def
		return nil
	}
	return d.Skip()
}

func (e *envelope) Body(d *xml.Decoder, start xml.StartElement) error {
	e.op = start.Name
	if start.Name.Space != nsMessages {
		return d.Skip()
	}
	var err error
	switch start.Name.Local {
	case "GetUserAvailabilityRequest":
		e.gua = &getUserAvailabilityRequest{}
		err = d.DecodeElement(e.gua, &start)
	case "GetServerTimeZones":
		e.gstz = &getServerTimeZones{}
		err = d.DecodeElement(e.gstz, &start)
	default:
		return d.Skip()
	}
	if err != nil {
		return schemaError(err)
	}
	return nil
}

// schemaError describes a decoding failure without naming Go types.
func schemaError(err error) *requestError {
	var se *xml.SyntaxError
	if errors.As(err, &se) {
		return faultf(ErrorSchemaValidation, "The request failed schema validation: %s (line %d).", se.Msg, se.Line)
	}
	var re *requestError
	if errors.As(err, &re) {
		return re
	}
	return faultf(ErrorSchemaValidation, "The request failed schema validation: an element has an invalid value.")
}

// legacy reports whether the request gets pre-Exchange2012 merged digits.
func (e *envelope) legacy() bool { return legacyVersions[e.version] }

var ruleZones sync.Map // wintz.Rule -> *time.Location

func ruleLocation(r wintz.Rule) (*time.Location, error) {
	if loc, ok := ruleZones.Load(r); ok {
		return loc.(*time.Location), nil
	}
	loc, err := r.Location("Request")
	if err != nil {
		return nil, err
	}
	ruleZones.Store(r, loc)
	return loc, nil
}

// zone picks the request's time zone: the TimeZoneContext header unless it
// is UTC, else the legacy body TimeZone, else UTC. A definition calfed
// cannot resolve (a custom zone such as tzone://Microsoft/Custom without
// usable rules) gives way to the body's TimeZone, which Exchange's
// requests always carry too. docs/protocol.md §1.3.
func (e *envelope) zone() (*time.Location, *requestError) {
	if def := e.tzContext; def != nil && def.ID != "UTC" {
		loc, err := contextZone(def)
		if err == nil {
			return loc, nil
		}
		if e.gua == nil || e.gua.TimeZone == nil {
			return nil, faultf(ErrorTimeZone, "The time zone in TimeZoneContext is invalid: %v", err)
		}
	}
	if e.gua != nil && e.gua.TimeZone != nil {
		r, err := legacyRule(e.gua.TimeZone)
		if err == nil {
			var loc *time.Location
			if loc, err = ruleLocation(r); err == nil {
				return loc, nil
			}
		}
		return nil, faultf(ErrorTimeZone, "The TimeZone element is invalid: %v", err)
	}
	return time.UTC, nil
}

var weekdays = map[string]time.Weekday{
	"Sunday": time.Sunday, "Monday": time.Monday, "Tuesday": time.Tuesday, "Wednesday": time.Wednesday,
	"Thursday": time.Thursday, "Friday": time.Friday, "Saturday": time.Saturday,
}

// Location is the zone tz describes, named by its POSIX TZ string (there
// is no zone name in a legacy rule).
func (tz *SerializableTimeZone) Location() (*time.Location, error) {
	r, err := legacyRule(tz)
	if err != nil {
		return nil, err
	}
	return r.Location(r.POSIX())
}

// Weekdays reads a space-separated list of day names (DayOfWeekType);
// Weekday, WeekendDay and Day are the lists they stand for.
func Weekdays(s string) ([]time.Weekday, error) {
	var out []time.Weekday
	for _, f := range strings.Fields(s) {
		switch f {
		case "Day":
			return []time.Weekday{0, 1, 2, 3, 4, 5, 6}, nil
		case "Weekday":
			out = append(out, 1, 2, 3, 4, 5)
		case "WeekendDay":
			out = append(out, 0, 6)
		default:
			wd, ok := weekdays[f]
			if !ok {
				return nil, fmt.Errorf("ews: unknown day %q", f)
			}
			out = append(out, wd)
		}
	}
	return out, nil
}

// legacyRule converts SerializableTimeZone. A zone without daylight time
// may omit both transitions or send them with month 0.
func legacyRule(tz *serializableTimeZone) (wintz.Rule, error) {
	r := wintz.Rule{Bias: tz.Bias}
	var err error
	if tz.StandardTime != nil && tz.DaylightTime != nil && tz.StandardTime.Month != 0 && tz.DaylightTime.Month != 0 {
		if r.Standard, err = legacyTransition(tz.StandardTime); err != nil {
			return r, fmt.Errorf("StandardTime: %w", err)
		}
		if r.Daylight, err = legacyTransition(tz.DaylightTime); err != nil {
			return r, fmt.Errorf("DaylightTime: %w", err)
		}
	} else if tz.StandardTime != nil {
		r.Standard.Bias = tz.StandardTime.Bias
	}
	return r, r.Validate()
}

func legacyTransition(t *serializableTimeZoneTime) (wintz.Transition, error) {
	wd, ok := weekdays[strings.TrimSpace(t.DayOfWeek)]
	if !ok {
		return wintz.Transition{}, fmt.Errorf("unknown DayOfWeek %q", t.DayOfWeek)
	}
	at, err := time.Parse("15:04:05", strings.TrimSpace(t.Time))
	if err != nil {
		if at, err = time.Parse("15:04", strings.TrimSpace(t.Time)); err != nil {
			return wintz.Transition{}, fmt.Errorf("invalid Time %q", t.Time)
		}
	}
	return wintz.Transition{
		Bias: t.Bias, Month: t.Month, DayOrder: t.DayOrder, Weekday: wd,
		Time: time.Duration(at.Hour())*time.Hour + time.Duration(at.Minute())*time.Minute + time.Duration(at.Second())*time.Second,
	}, nil
}

// contextZone resolves a TimeZoneDefinition: by its Windows id when known,
// else from its periods and the transitions group in force last.
func contextZone(def *timeZoneDefinition) (*time.Location, error) {
	if def.ID != "" {
		if loc, err := wintz.Load(def.ID); err == nil {
			return loc, nil
		}
	}
	if len(def.Groups) == 0 {
		return nil, fmt.Errorf("unknown time zone id %q and no transitions", def.ID)
	}
	biases := map[string]int{}
	for _, p := range def.Periods {
		d, err := parseXSDuration(p.Bias)
		if err != nil {
			return nil, err
		}
		biases[p.ID] = int(d / time.Minute)
	}
	group := def.Groups[len(def.Groups)-1]
	if n := len(def.Transitions.Items); n > 0 && def.Transitions.Items[n-1].To.Kind == "Group" {
		want := strings.TrimSpace(def.Transitions.Items[n-1].To.Value)
		for _, g := range def.Groups {
			if g.ID == want {
				group = g
			}
		}
	}
	switch {
	case len(group.Recurring) == 2:
		var ts [2]wintz.Transition
		var bs [2]int
		for i, rt := range group.Recurring {
			b, ok := biases[strings.TrimSpace(rt.To)]
			if !ok {
				return nil, fmt.Errorf("transition to unknown period %q", rt.To)
			}
			off, err := parseXSDuration(rt.TimeOffset)
			if err != nil {
				return nil, err
			}
			wd, ok := weekdays[strings.TrimSpace(rt.DayOfWeek)]
			if !ok {
				return nil, fmt.Errorf("unknown DayOfWeek %q", rt.DayOfWeek)
			}
			order := rt.Occurrence
			if order == -1 {
				order = 5
			}
			bs[i] = b
			ts[i] = wintz.Transition{Month: rt.Month, DayOrder: order, Weekday: wd, Time: off}
		}
		std, dst := 0, 1
		if bs[1] > bs[0] { // the larger bias is the smaller offset: standard time
			std, dst = 1, 0
		}
		r := wintz.Rule{Bias: bs[std], Standard: ts[std], Daylight: ts[dst]}
		r.Daylight.Bias = bs[dst] - bs[std]
		return ruleLocation(r)
	case len(group.Plain) >= 1:
		b, ok := biases[strings.TrimSpace(group.Plain[0].To)]
		if !ok {
			return nil, fmt.Errorf("transition to unknown period %q", group.Plain[0].To)
		}
		return ruleLocation(wintz.Rule{Bias: b})
	}
	return nil, fmt.Errorf("transitions group %q has no usable transitions", group.ID)
}
