package calendar

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/emersion/go-ical"
	"github.com/teambition/rrule-go"
)

// File is one iCalendar document.
type File struct {
	Name string // for error messages
	Data []byte
}

// Options control how a calendar is compiled.
type Options struct {
	// Location is the zone of floating times and all-day dates: the
	// mailbox's zone. Default UTC.
	Location *time.Location
	// Owner is the mailbox address, matched against ATTENDEE to read its
	// PARTSTAT. Optional.
	Owner string
	// HorizonFrom and HorizonTo bound the pre-expanded series instances;
	// queries outside expand on demand. Zero values: 31 days before and 400
	// days after now.
	HorizonFrom, HorizonTo time.Time
	// MaxInstances bounds the instances one series may have inside the
	// horizon, and the iterations of one expansion. Default 100000.
	MaxInstances int
}

const (
	defaultMaxInstances = 100000
	defaultHorizonPast  = 31 * 24 * time.Hour
	defaultHorizonAhead = 400 * 24 * time.Hour
)

// ErrParse is wrapped by every ParseError.
var ErrParse = errors.New("calendar: malformed iCalendar data")

// ParseError names the file and line of a problem.
type ParseError struct {
	File string
	Line int    // 1-based; 0 when unknown
	UID  string // the VEVENT's UID when known
	Err  error
}

func (e *ParseError) Error() string {
	var b strings.Builder
	b.WriteString("calendar: ")
	b.WriteString(e.File)
	if e.Line > 0 {
		fmt.Fprintf(&b, ":%d", e.Line)
	}
	if e.UID != "" {
		fmt.Fprintf(&b, ": VEVENT UID=%s", e.UID)
	}
	b.WriteString(": ")
	b.WriteString(e.Err.Error())
	return b.String()
}

func (e *ParseError) Unwrap() []error { return []error{ErrParse, e.Err} }

// vevent is a VEVENT with where it came from.
type vevent struct {
	comp *ical.Component
	file string
	line int
	tz   *tzResolver
}

func (v *vevent) fail(err error) error {
	uid, _ := v.comp.Props.Text(ical.PropUID)
	return &ParseError{File: v.file, Line: v.line, UID: uid, Err: err}
}

// Parse compiles iCalendar files into a Calendar. Any malformed event fails
// the whole calendar: free/busy built from part of a calendar would show a
// busy person as free.
func Parse(files []File, opt Options) (*Calendar, error) {
	if opt.Location == nil {
		opt.Location = time.UTC
	}
	if opt.MaxInstances <= 0 {
		opt.MaxInstances = defaultMaxInstances
	}
	if opt.HorizonFrom.IsZero() || opt.HorizonTo.IsZero() {
		now := time.Now()
		opt.HorizonFrom, opt.HorizonTo = now.Add(-defaultHorizonPast), now.Add(defaultHorizonAhead)
	}
	var events []vevent
	for _, f := range files {
		evs, err := decodeFile(f, opt.Location)
		if err != nil {
			return nil, err
		}
		events = append(events, evs...)
	}
	return compile(events, opt)
}

// ErrNotCalendar is wrapped by the ParseError of a file that holds no
// iCalendar object at all (empty, or some other content): it must not
// read as a calendar without events, which would show its owner free.
var ErrNotCalendar = errors.New("calendar: not an iCalendar file")

func decodeFile(f File, floating *time.Location) (evs []vevent, err error) {
	data := f.Data
	if !bytes.Contains(bytes.ToUpper(data[:min(len(data), 4096)]), []byte("BEGIN:VCALENDAR")) {
		return nil, &ParseError{File: f.Name, Err: ErrNotCalendar}
	}
	cr := &countingReader{r: bytes.NewReader(data)}
	br := bufio.NewReaderSize(cr, 4096)
	dec := ical.NewDecoder(br)
	starts := veventLines(data)
	defer func() {
		if r := recover(); r != nil {
			err = &ParseError{File: f.Name, Err: fmt.Errorf("%v", r)}
		}
	}()
	consumed := int64(0)
	for {
		cal, err := dec.Decode()
		if err == io.EOF {
			if rest := bytes.TrimSpace(data[consumed:]); len(rest) > 0 {
				return nil, &ParseError{File: f.Name, Line: lineAt(data, int64(len(data))-1), Err: errors.New("unexpected end of file: a component is not closed")}
			}
			return evs, nil
		}
		off := cr.n - int64(br.Buffered())
		if err != nil {
			return nil, &ParseError{File: f.Name, Line: lineAt(data, off-1), Err: err}
		}
		consumed = off
		tz := &tzResolver{floating: floating, defs: map[string]*ical.Component{}, file: f.Name}
		for _, c := range cal.Children {
			if c.Name == ical.CompTimezone {
				if id, _ := c.Props.Text(ical.PropTimezoneID); id != "" {
					tz.defs[id] = c
				}
			}
		}
		for _, c := range cal.Children {
			if c.Name != ical.CompEvent {
				continue
			}
			line := 0
			if len(starts) > 0 {
				line, starts = starts[0], starts[1:]
			}
			evs = append(evs, vevent{comp: c, file: f.Name, line: line, tz: tz})
		}
	}
}

type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

func lineAt(data []byte, off int64) int {
	if off < 0 {
		off = 0
	}
	if off > int64(len(data)) {
		off = int64(len(data))
	}
	return bytes.Count(data[:off], []byte{'\n'}) + 1
}

// veventLines returns the line numbers of the BEGIN:VEVENT lines, in order.
func veventLines(data []byte) []int {
	var lines []int
	for n, line := 1, data; len(line) > 0; n++ {
		i := bytes.IndexByte(line, '\n')
		cur := line
		if i >= 0 {
			cur, line = line[:i], line[i+1:]
		} else {
			line = nil
		}
		if bytes.EqualFold(bytes.TrimSpace(cur), []byte("BEGIN:VEVENT")) {
			lines = append(lines, n)
		}
	}
	return lines
}

// timing is where an event sits in time.
type timing struct {
	start  time.Time
	allDay bool
	dur    time.Duration // timed events
	days   int           // all-day events
}

func (t timing) endOf(start time.Time) time.Time {
	if t.allDay {
		return start.AddDate(0, 0, t.days)
	}
	return start.Add(t.dur)
}

func eventTiming(v *vevent) (timing, error) {
	p := v.comp.Props.Get(ical.PropDateTimeStart)
	if p == nil {
		return timing{}, errors.New("DTSTART is missing")
	}
	start, allDay, err := v.tz.dateTime(p)
	if err != nil {
		return timing{}, fmt.Errorf("DTSTART: %w", err)
	}
	t := timing{start: start, allDay: allDay}
	if e := v.comp.Props.Get(ical.PropDateTimeEnd); e != nil {
		end, endAllDay, err := v.tz.dateTime(e)
		if err != nil {
			return timing{}, fmt.Errorf("DTEND: %w", err)
		}
		if endAllDay != allDay {
			return timing{}, errors.New("DTSTART and DTEND differ in value type (DATE and DATE-TIME)")
		}
		if end.Before(start) {
			return timing{}, fmt.Errorf("DTEND %s is before DTSTART %s", e.Value, p.Value)
		}
		if allDay {
			t.days = daysBetween(start, end)
		} else {
			t.dur = end.Sub(start)
		}
		return t, nil
	}
	if d := v.comp.Props.Get(ical.PropDuration); d != nil {
		dur, err := d.Duration()
		if err != nil {
			return timing{}, fmt.Errorf("DURATION: %w", err)
		}
		if dur < 0 {
			return timing{}, fmt.Errorf("DURATION %s is negative", d.Value)
		}
		if allDay {
			t.days = int((dur + 24*time.Hour - 1) / (24 * time.Hour))
		} else {
			t.dur = dur
		}
		return t, nil
	}
	if allDay {
		t.days = 1 // RFC 5545 3.6.1: a DATE start alone lasts one day
	}
	return t, nil
}

func daysBetween(a, b time.Time) int {
	ad := time.Date(a.Year(), a.Month(), a.Day(), 0, 0, 0, 0, time.UTC)
	bd := time.Date(b.Year(), b.Month(), b.Day(), 0, 0, 0, 0, time.UTC)
	return int(bd.Sub(ad) / (24 * time.Hour))
}

func eventItem(v *vevent, owner string, allDay bool) *Item {
	props := v.comp.Props
	text := func(name string) string {
		s, _ := props.Text(name)
		return s
	}
	it := &Item{
		UID:      text(ical.PropUID),
		Subject:  text(ical.PropSummary),
		Location: text(ical.PropLocation),
		Busy:     busyType(props, owner),
		AllDay:   allDay,
		Meeting:  props.Get(ical.PropOrganizer) != nil || props.Get(ical.PropAttendee) != nil,
	}
	if c := strings.ToUpper(strings.TrimSpace(text(ical.PropClass))); c != "" && c != "PUBLIC" {
		it.Private = true // RFC 5545 3.8.1.3: unknown classes are treated as PRIVATE
	}
	for _, ch := range v.comp.Children {
		if ch.Name == ical.CompAlarm {
			it.Reminder = true
		}
	}
	it.idHex = itemID(it.UID, v.file, v.line)
	return it
}

// busyType applies docs/protocol.md §6, with the owner's PARTSTAT between TRANSP and
// STATUS: an invitation the owner has not answered is Tentative, a declined
// one Free.
func busyType(props ical.Props, owner string) BusyType {
	if p := props.Get("X-MICROSOFT-CDO-BUSYSTATUS"); p != nil {
		switch strings.ToUpper(strings.TrimSpace(p.Value)) {
		case "FREE":
			return Free
		case "TENTATIVE":
			return Tentative
		case "BUSY":
			return Busy
		case "OOF":
			return OOF
		case "WORKINGELSEWHERE":
			return WorkingElsewhere
		}
	}
	transp := ""
	if p := props.Get(ical.PropTransparency); p != nil {
		transp = strings.ToUpper(strings.TrimSpace(p.Value))
	}
	if transp == "TRANSPARENT" {
		return Free
	}
	if owner != "" {
		for _, a := range props.Values(ical.PropAttendee) {
			addr := strings.TrimPrefix(strings.ToLower(strings.TrimSpace(a.Value)), "mailto:")
			if addr != owner {
				continue
			}
			switch strings.ToUpper(a.Params.Get(ical.ParamParticipationStatus)) {
			case "NEEDS-ACTION", "TENTATIVE":
				return Tentative
			case "DECLINED":
				return Free
			}
		}
	}
	if transp == "OPAQUE" {
		return Busy
	}
	if p := props.Get(ical.PropStatus); p != nil && strings.EqualFold(strings.TrimSpace(p.Value), "TENTATIVE") {
		return Tentative
	}
	return Busy
}

func isCancelled(c *ical.Component) bool {
	p := c.Props.Get(ical.PropStatus)
	return p != nil && strings.EqualFold(strings.TrimSpace(p.Value), "CANCELLED")
}

// compile groups VEVENTs into single items, series and their overrides.
func compile(events []vevent, opt Options) (*Calendar, error) {
	cal := &Calendar{from: opt.HorizonFrom.Unix(), to: opt.HorizonTo.Unix(), maxInstances: opt.MaxInstances}
	masters := map[string]*series{}
	var overrides []*vevent
	for i := range events {
		v := &events[i]
		if v.comp.Props.Get(ical.PropRecurrenceID) != nil {
			overrides = append(overrides, v)
			continue
		}
		if isCancelled(v.comp) {
			continue
		}
		tm, err := eventTiming(v)
		if err != nil {
			return nil, v.fail(err)
		}
		item := eventItem(v, opt.Owner, tm.allDay)
		hasRule := v.comp.Props.Get(ical.PropRecurrenceRule) != nil || v.comp.Props.Get(ical.PropRecurrenceDates) != nil
		if !hasRule {
			cal.add(instance{start: tm.start.Unix(), end: tm.endOf(tm.start).Unix(), item: item})
			continue
		}
		s, err := newSeries(v, item, tm)
		if err != nil {
			return nil, v.fail(err)
		}
		if _, dup := masters[item.UID]; !dup {
			masters[item.UID] = s
		}
		cal.series = append(cal.series, s)
	}
	for _, v := range overrides {
		uid, _ := v.comp.Props.Text(ical.PropUID)
		rid, _, err := v.tz.dateTime(v.comp.Props.Get(ical.PropRecurrenceID))
		if err != nil {
			return nil, v.fail(fmt.Errorf("RECURRENCE-ID: %w", err))
		}
		ov := &override{cancelled: isCancelled(v.comp)}
		if !ov.cancelled {
			tm, err := eventTiming(v)
			if err != nil {
				return nil, v.fail(err)
			}
			ov.item = eventItem(v, opt.Owner, tm.allDay)
			ov.start, ov.end = tm.start.Unix(), tm.endOf(tm.start).Unix()
		}
		ov.rid = rid.Unix()
		if s := masters[uid]; s != nil {
			s.overrides[ov.rid] = ov
			continue
		}
		// An exception without its series, as CalDAV delivers an invitation
		// to one occurrence: still an instance of a recurring meeting.
		if !ov.cancelled {
			cal.add(instance{start: ov.start, end: ov.end, item: ov.item, recID: ov.rid, recurring: true, exception: true})
		}
	}
	for _, s := range cal.series {
		err := s.expand(cal.from, cal.to, cal.maxInstances, func(in instance) {
			in.fromSeries = true
			cal.add(in)
		})
		if err != nil {
			return nil, err
		}
	}
	cal.sort()
	return cal, nil
}

func newSeries(v *vevent, item *Item, tm timing) (*series, error) {
	s := &series{item: item, timing: tm, overrides: map[int64]*override{}, file: v.file, line: v.line}
	set := &rrule.Set{}
	if p := v.comp.Props.Get(ical.PropRecurrenceRule); p != nil {
		if len(v.comp.Props.Values(ical.PropRecurrenceRule)) > 1 {
			return nil, errors.New("more than one RRULE")
		}
		opt, err := rrule.StrToROptionInLocation(p.Value, tm.start.Location())
		if err != nil {
			return nil, fmt.Errorf("RRULE: %w", err)
		}
		opt.Dtstart = tm.start
		r, err := rrule.NewRRule(*opt)
		if err != nil {
			return nil, fmt.Errorf("RRULE: %w", err)
		}
		set.RRule(r)
	} else {
		set.RDate(tm.start) // RDATE alone: DTSTART is the first instance
	}
	set.DTStart(tm.start)
	for _, name := range []string{ical.PropRecurrenceDates, ical.PropExceptionDates} {
		for _, p := range v.comp.Props.Values(name) {
			if strings.EqualFold(p.Params.Get(ical.ParamValue), "PERIOD") {
				return nil, fmt.Errorf("%s: PERIOD values are not supported", name)
			}
			for _, val := range strings.Split(p.Value, ",") {
				q := p
				q.Value = strings.TrimSpace(val)
				t, _, err := v.tz.dateTime(&q)
				if err != nil {
					return nil, fmt.Errorf("%s: %w", name, err)
				}
				if name == ical.PropRecurrenceDates {
					set.RDate(t)
				} else {
					set.ExDate(t)
				}
			}
		}
	}
	s.set = set
	return s, nil
}
