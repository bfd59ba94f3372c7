package calendar

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/emersion/go-ical"
	"github.com/teambition/rrule-go"

	"github.com/calfed/calfed/internal/domainname"
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
	// queries outside expand on demand. Zero values: 62 days before and 93
	// days after now.
	HorizonFrom, HorizonTo time.Time
	// MaxInstances bounds the instances one series may have inside the
	// horizon, and the iterations of one expansion. Default 100000.
	MaxInstances int
	// Strict fails the calendar on any problem instead of repairing it or
	// skipping the event (see Problem).
	Strict bool
}

const (
	defaultMaxInstances = 100000
	// Every window of the longest length Exchange asks (62 days,
	// docs/protocol.md §1.7) starting from two months back to a month
	// ahead falls inside; others are expanded when asked and kept for the
	// next query (see Calendar.AppendEvents).
	defaultHorizonPast  = 62 * 24 * time.Hour
	defaultHorizonAhead = 93 * 24 * time.Hour
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
	comp *component
	file string
	line int
	tz   *tzResolver
}

func (v *vevent) fail(err error) error {
	return &ParseError{File: v.file, Line: v.line, UID: v.keptUID(), Err: err}
}

func (v *vevent) uid() string { return textValue(v.comp.get(ical.PropUID)) }

// keptUID is uid as a string of its own, for what outlives the parse:
// the file's text is read into one buffer (see readFile).
func (v *vevent) keptUID() string { return strings.Clone(v.uid()) }

// reporter collects the problems of one Parse, or turns the first into
// the error when the parse is strict.
type reporter struct {
	strict   bool
	problems []Problem
}

// skip records that v was left out because of err; strict, it returns
// err as v's ParseError instead.
func (r *reporter) skip(v *vevent, err error) error {
	var pe *ParseError
	if errors.As(err, &pe) {
		return err // already v's, from a strict repair
	}
	if r.strict {
		return v.fail(err)
	}
	r.problems = append(r.problems, Problem{File: v.file, Line: v.line, UID: v.keptUID(), What: err.Error(), Action: "skipped the event", Skipped: true})
	return nil
}

// note records what calfed did by the RFCs' own rules but a reader may
// not expect (an older revision left out); it never fails a strict parse.
func (r *reporter) note(v *vevent, what, action string) {
	r.problems = append(r.problems, Problem{File: v.file, Line: v.line, UID: v.keptUID(), What: what, Action: action})
}

// repaired records a repair in v; strict, it refuses the event instead.
func (r *reporter) repaired(v *vevent, what, action string) error {
	if r.strict {
		return v.fail(errors.New(what))
	}
	r.problems = append(r.problems, Problem{File: v.file, Line: v.line, UID: v.keptUID(), What: what, Action: action})
	return nil
}

// Parse compiles iCalendar files into a Calendar. It reads leniently and
// reports loudly: what exporters commonly get wrong is repaired, and an
// event that cannot be interpreted is left out, each noted in the
// Calendar's Problems. A file that cannot be read as iCalendar at all
// fails the calendar, unless other files of it can be read (a CalDAV
// collection with one broken object). Options.Strict fails the calendar
// on the first problem instead.
func Parse(files []File, opt Options) (*Calendar, error) {
	return new(scratch).parse(files, opt)
}

// parse is Parse reading into sc, which a loader reuses: nothing the
// Calendar keeps is in sc or in the files' Data.
func (sc *scratch) parse(files []File, opt Options) (*Calendar, error) {
	sc.reset()
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
	if err := checkSize(files); err != nil {
		return nil, err
	}
	rep := &reporter{strict: opt.Strict}
	var firstErr error
	read := 0
	for _, f := range files {
		var fileProblems []Problem
		err := sc.decodeFile(f, opt.Location, &fileProblems)
		if err != nil {
			if firstErr == nil {
				firstErr = err
			}
			rep.problems = append(rep.problems, Problem{File: f.Name, What: err.Error(), Action: "skipped the file", Skipped: true})
			continue
		}
		if opt.Strict && len(fileProblems) > 0 {
			p := fileProblems[0]
			return nil, &ParseError{File: p.File, Line: p.Line, Err: errors.New(p.What)}
		}
		read++
		rep.problems = append(rep.problems, fileProblems...)
	}
	if firstErr != nil && (read == 0 || opt.Strict) {
		return nil, firstErr
	}
	cal, err := sc.compile(sc.events, opt, rep)
	if err != nil {
		return nil, err
	}
	cal.problems = rep.problems
	return cal, nil
}

// ErrNotCalendar is wrapped by the ParseError of a file that holds no
// iCalendar object at all (empty, or some other content): it must not
// read as a calendar without events, which would show its owner free.
var ErrNotCalendar = errors.New("calendar: not an iCalendar file")

// maxCalendarBytes bounds the files of one calendar together: an item
// keeps where its texts are as 32-bit offsets (see Item), and the texts
// are never longer than the files they come from.
const maxCalendarBytes = math.MaxUint32

func checkSize(files []File) error {
	total := 0
	for _, f := range files {
		total += len(f.Data)
	}
	if total > maxCalendarBytes {
		return fmt.Errorf("calendar: %d bytes of iCalendar in one calendar; at most %d are read", total, maxCalendarBytes)
	}
	return nil
}

// decodeFile reads a file's VEVENTs, each with the VTIMEZONEs of its
// object (see readFile), after those of sc.events.
func (sc *scratch) decodeFile(f File, floating *time.Location, problems *[]Problem) error {
	objs, err := sc.readFile(f.Name, f.Data, problems)
	if err != nil {
		return err
	}
	evs := sc.events
	for _, o := range objs {
		tz := &tzResolver{floating: floating, defs: map[string]*ical.Component{}, file: f.Name}
		for _, c := range o.comps {
			if c.comp.name == ical.CompTimezone {
				if id := textValue(c.comp.get(ical.PropTimezoneID)); id != "" {
					tz.defs[id] = c.comp.grouped()
				}
			}
		}
		for _, c := range o.comps {
			if c.comp.name == ical.CompEvent {
				evs = append(evs, vevent{comp: c.comp, file: f.Name, line: c.line, tz: tz})
			}
		}
	}
	sc.events = evs
	return nil
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

// fields are the properties of a VEVENT compile reads, found in one pass
// over its properties: a single property is the first of its name, as
// ical.Props.Get reads it; the others are every one of their name, in
// the order written.
type fields struct {
	uid, summary, location, class      *ical.Prop
	start, end, duration, recurrenceID *ical.Prop
	status, transp, busyStatus         *ical.Prop
	sequence, stamp                    *ical.Prop
	meeting                            bool // has an ORGANIZER or an ATTENDEE
	alarm                              bool // has a VALARM
	attendees, rrules, rdates, exdates []ical.Prop
}

func (f *fields) read(c *component) {
	for i := range c.props {
		p := &c.props[i]
		switch p.Name {
		case ical.PropUID:
			first(&f.uid, p)
		case ical.PropSummary:
			first(&f.summary, p)
		case ical.PropLocation:
			first(&f.location, p)
		case ical.PropClass:
			first(&f.class, p)
		case ical.PropDateTimeStart:
			first(&f.start, p)
		case ical.PropDateTimeEnd:
			first(&f.end, p)
		case ical.PropDuration:
			first(&f.duration, p)
		case ical.PropRecurrenceID:
			first(&f.recurrenceID, p)
		case ical.PropStatus:
			first(&f.status, p)
		case ical.PropTransparency:
			first(&f.transp, p)
		case "X-MICROSOFT-CDO-BUSYSTATUS":
			first(&f.busyStatus, p)
		case ical.PropSequence:
			first(&f.sequence, p)
		case ical.PropDateTimeStamp:
			first(&f.stamp, p)
		case ical.PropOrganizer:
			f.meeting = true
		case ical.PropAttendee:
			f.meeting = true
			f.attendees = gather(f.attendees, c.props, i)
		case ical.PropRecurrenceRule:
			f.rrules = gather(f.rrules, c.props, i)
		case ical.PropRecurrenceDates:
			f.rdates = gather(f.rdates, c.props, i)
		case ical.PropExceptionDates:
			f.exdates = gather(f.exdates, c.props, i)
		}
	}
	for _, ch := range c.children {
		if ch.name == ical.CompAlarm {
			f.alarm = true
		}
	}
}

// first sets *f to p unless an earlier property of its name set it.
func first(f **ical.Prop, p *ical.Prop) {
	if *f == nil {
		*f = p
	}
}

// gather adds props[i] to s, the earlier properties of its name: a part
// of props as long as they are written one after the other, as they
// mostly are, a copy once they are not.
func gather(s, props []ical.Prop, i int) []ical.Prop {
	if len(s) == 0 {
		return props[i : i+1 : i+1]
	}
	if &s[len(s)-1] == &props[i-1] {
		return props[i-len(s) : i+1 : i+1]
	}
	return append(s, props[i]) // s has no room: a part of props is copied
}

func (f *fields) cancelled() bool {
	return f.status != nil && strings.EqualFold(strings.TrimSpace(f.status.Value), "CANCELLED")
}

// eventTiming reads DTSTART and DTEND or DURATION, repairing what
// exporters commonly get wrong (each noted through rep).
func eventTiming(v *vevent, f *fields, rep *reporter) (timing, error) {
	p := f.start
	if p == nil || strings.TrimSpace(p.Value) == "" {
		return timing{}, errors.New("DTSTART is missing")
	}
	start, allDay, err := v.tz.dateTime(p, rep, v)
	if err != nil {
		return timing{}, fmt.Errorf("DTSTART: %w", err)
	}
	t := timing{start: start, allDay: allDay}
	if allDay {
		t.days = 1 // RFC 5545 3.6.1: a DATE start alone lasts one day
	}
	if e := f.end; e != nil && strings.TrimSpace(e.Value) != "" {
		if id := p.Params.Get(ical.ParamTimezoneID); id != "" && e.Params.Get(ical.ParamTimezoneID) == "" && !strings.HasSuffix(strings.ToUpper(strings.TrimSpace(e.Value)), "Z") {
			// A floating end after a zoned start (Sunbird exports): the
			// end is in the start's zone, as every client shows it.
			q := *e
			q.Params = ical.Params{}
			for k, vs := range e.Params {
				q.Params[k] = vs
			}
			q.Params.Set(ical.ParamTimezoneID, id)
			e = &q
		}
		end, endAllDay, err := v.tz.dateTime(e, rep, v)
		if err != nil {
			return timing{}, fmt.Errorf("DTEND: %w", err)
		}
		switch {
		case end.Before(start):
			// SabreDAV and others swap them: the time between is what was
			// meant busy, so it stays busy from DTSTART for that long.
			if allDay {
				t.days = max(1, daysBetween(end, start))
			} else {
				t.dur = start.Sub(end)
			}
			return t, rep.repaired(v, fmt.Sprintf("DTEND %s is before DTSTART %s", e.Value, p.Value), "took the time between them as the length")
		case allDay && !endAllDay:
			// An all-day start with a timed end: the days it touches, as
			// Outlook shows it.
			t.days = max(1, daysBetween(start, end.In(start.Location())))
			if end.In(start.Location()).Hour() > 0 || end.In(start.Location()).Minute() > 0 {
				t.days = max(1, daysBetween(start, end.In(start.Location()))+1)
			}
			return t, rep.repaired(v, "DTSTART is a DATE but DTEND a DATE-TIME", fmt.Sprintf("read it as %d whole days", t.days))
		case !allDay && endAllDay:
			t.dur = end.Sub(start)
			return t, rep.repaired(v, "DTSTART is a DATE-TIME but DTEND a DATE", "read DTEND as midnight of that day")
		case allDay:
			if t.days = daysBetween(start, end); t.days == 0 {
				// Google and Outlook show such an event as the one day.
				t.days = 1
				return t, rep.repaired(v, "an all-day event whose DTEND equals its DTSTART", "read it as one day")
			}
		default:
			t.dur = end.Sub(start)
		}
		return t, nil
	}
	if d := f.duration; d != nil && strings.TrimSpace(d.Value) != "" {
		if fixed, ok := weeksAfterT(d.Value); ok {
			// DURATION:PT1W (Synology exports): the week is plainly meant.
			if err := rep.repaired(v, fmt.Sprintf("DURATION %s writes weeks after the T", d.Value), "read it as "+fixed); err != nil {
				return timing{}, err
			}
			q := *d
			q.Value = fixed
			d = &q
		}
		dur, err := duration(d)
		if err != nil {
			return timing{}, fmt.Errorf("DURATION: %w", err)
		}
		if dur < 0 {
			return t, rep.repaired(v, fmt.Sprintf("DURATION %s is negative", d.Value), "ignored DURATION")
		}
		if allDay {
			t.days = max(1, int((dur+24*time.Hour-1)/(24*time.Hour)))
		} else {
			t.dur = dur
		}
	}
	return t, nil
}

func daysBetween(a, b time.Time) int {
	ad := time.Date(a.Year(), a.Month(), a.Day(), 0, 0, 0, 0, time.UTC)
	bd := time.Date(b.Year(), b.Month(), b.Day(), 0, 0, 0, 0, time.UTC)
	return int(bd.Sub(ad) / (24 * time.Hour))
}

// textValue reads a TEXT property as one value (RFC 5545 §3.3.11):
// backslash escapes undone, an unescaped comma kept (SUMMARY and
// LOCATION are single values; exporters often leave commas unescaped).
func textValue(p *ical.Prop) string {
	if p == nil {
		return ""
	}
	v := p.Value
	if !strings.Contains(v, `\`) {
		return v
	}
	var b strings.Builder
	for i := 0; i < len(v); i++ {
		if v[i] == '\\' && i+1 < len(v) {
			i++
			switch v[i] {
			case 'n', 'N':
				b.WriteByte('\n')
			default:
				b.WriteByte(v[i])
			}
			continue
		}
		b.WriteByte(v[i])
	}
	return b.String()
}

// eventItem reads what v's instances share, its texts into t's.
func eventItem(v *vevent, f *fields, owner string, allDay bool, t *itemTable) Item {
	it := Item{
		Busy:     busyType(f, owner),
		AllDay:   allDay,
		Meeting:  f.meeting,
		Reminder: f.alarm,
	}
	if c := strings.TrimSpace(textValue(f.class)); c != "" && !strings.EqualFold(c, "PUBLIC") {
		it.Private = true // RFC 5545 3.8.1.3: unknown classes are treated as PRIVATE
	}
	it.subject, it.location = t.texts.add(textValue(f.summary)), t.texts.add(textValue(f.location))
	it.id = itemID(textValue(f.uid), v.file, v.line)
	return it
}

// busyType applies docs/protocol.md §6, with the owner's PARTSTAT between TRANSP and
// STATUS: an invitation the owner has not answered is Tentative, a declined
// one Free.
func busyType(f *fields, owner string) BusyType {
	if p := f.busyStatus; p != nil {
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
	if p := f.transp; p != nil {
		transp = strings.ToUpper(strings.TrimSpace(p.Value))
	}
	if transp == "TRANSPARENT" {
		return Free
	}
	if owner != "" {
		for _, a := range f.attendees {
			v := strings.TrimSpace(a.Value)
			if len(v) >= 7 && strings.EqualFold(v[:7], "mailto:") {
				v = v[7:]
			}
			if !mayBe(v, owner) {
				continue
			}
			if addr, err := domainname.Address(v); err != nil || addr != owner {
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
	if p := f.status; p != nil && strings.EqualFold(strings.TrimSpace(p.Value), "TENTATIVE") {
		return Tentative
	}
	return Busy
}

// mayBe reports whether the address addr may have the canonical form
// owner (domainname.Address), cheaply: the attendees of a calendar are
// many, and canonicalising each domain costs an IDNA conversion. The
// local parts must match without regard to case, and a domain written
// in ASCII must be owner's, but for case and a final dot; a domain in
// other characters may be owner's in its ASCII form.
func mayBe(addr, owner string) bool {
	at, oat := strings.LastIndexByte(addr, '@'), strings.LastIndexByte(owner, '@')
	if at < 0 || oat < 0 || !strings.EqualFold(addr[:at], owner[:oat]) {
		return false
	}
	dom := addr[at+1:]
	for i := 0; i < len(dom); i++ {
		if dom[i] >= 0x80 {
			return true
		}
	}
	return strings.EqualFold(strings.TrimSuffix(dom, "."), owner[oat+1:])
}

// compile groups VEVENTs into single items, series and their overrides.
func (sc *scratch) compile(events []vevent, opt Options, rep *reporter) (*Calendar, error) {
	cal := &Calendar{from: opt.HorizonFrom.Unix(), to: opt.HorizonTo.Unix(), maxInstances: opt.MaxInstances}
	if opt.Owner != "" {
		// Compared as the directory compares addresses; an owner with no
		// canonical form is no attendee's address.
		owner, err := domainname.Address(strings.TrimSpace(opt.Owner))
		if err != nil {
			return nil, fmt.Errorf("calendar: owner: %w", err)
		}
		opt.Owner = owner
	}
	if sc.masters == nil {
		sc.masters, sc.first = map[string]*series{}, map[revision]int32{}
	}
	masters := sc.masters
	clear(masters)
	var series []*series
	same := &itemTable{same: map[Item]uint32{}}
	// Both are copied when the calendar is built (keepItems, pack).
	if cap(sc.items) < len(events) {
		sc.items = make([]Item, 0, len(events))
	}
	if cap(sc.pending) < 2*len(events) {
		sc.pending = make([]wide, 0, 2*len(events)) // the series's instances in the horizon join them
	}
	cal.items, cal.pending = sc.items[:0], sc.pending[:0]
	if cap(sc.fields) < len(events) {
		sc.fields = make([]fields, len(events))
	}
	fs := sc.fields[:len(events)]
	clear(fs)
	for i := range events {
		fs[i].read(events[i].comp)
	}
	var overrides []int
	superseded := latestSequence(events, fs, rep, sc.first)
	for i := range events {
		v, f := &events[i], &fs[i]
		if superseded != nil && superseded[i] {
			continue
		}
		if f.recurrenceID != nil {
			overrides = append(overrides, i)
			continue
		}
		if f.cancelled() {
			continue
		}
		tm, err := eventTiming(v, f, rep)
		if err != nil {
			if err := rep.skip(v, err); err != nil {
				return nil, err
			}
			continue
		}
		item := eventItem(v, f, opt.Owner, tm.allDay, same)
		s, err := newSeries(v, f, tm, opt.MaxInstances, rep)
		if err != nil {
			if err := rep.skip(v, err); err != nil {
				return nil, err
			}
			continue
		}
		if s == nil {
			ref := cal.register(item, same, false)
			cal.add(occurrence{start: tm.start.Unix(), end: tm.endOf(tm.start).Unix(), ref: ref}, false)
			continue
		}
		s.ref = cal.register(item, same, true)
		if _, dup := masters[s.uid]; !dup {
			masters[s.uid] = s
		}
		series = append(series, s)
	}
	for _, i := range overrides {
		v := &events[i]
		if err := addOverride(cal, masters, same, v, &fs[i], opt, rep); err != nil {
			if err := rep.skip(v, err); err != nil {
				return nil, err
			}
		}
	}
	for _, s := range series {
		s.settle()
	}
	cal.keepSeries(series)
	cal.keepItems(same)
	if err := cal.expandHorizon(); err != nil {
		return nil, err
	}
	return cal, nil
}

// addOverride attaches an override VEVENT (one with RECURRENCE-ID) to its
// series, or adds it alone when its series is not here.
func addOverride(cal *Calendar, masters map[string]*series, same *itemTable, v *vevent, f *fields, opt Options, rep *reporter) error {
	uid := textValue(f.uid)
	ridProp := f.recurrenceID
	rid, _, err := v.tz.dateTime(ridProp, rep, v)
	if err != nil {
		return fmt.Errorf("RECURRENCE-ID: %w", err)
	}
	ov := &override{cancelled: f.cancelled(), future: strings.EqualFold(ridProp.Params.Get(ical.ParamRange), "THISANDFUTURE")}
	if !ov.cancelled {
		tm, err := eventTiming(v, f, rep)
		if err != nil {
			return err
		}
		ov.ref = cal.register(eventItem(v, f, opt.Owner, tm.allDay, same), same, true)
		ov.start, ov.end = tm.start.Unix(), tm.endOf(tm.start).Unix()
	}
	s := masters[uid]
	if s == nil {
		// An exception without its series, as CalDAV delivers an invitation
		// to one occurrence: still an instance of a recurring meeting.
		ov.rid = rid.Unix()
		if !ov.cancelled {
			cal.add(occurrence{start: ov.start, end: ov.end, ref: ov.ref, recID: ov.rid, recurring: true, exception: true}, false)
		}
		return nil
	}
	ov.rid = s.key(rid)
	s.overrides = append(s.overrides, *ov)
	return nil
}

// latestSequence marks, of the VEVENTs sharing a UID and RECURRENCE-ID,
// all but the one with the highest SEQUENCE, then the latest DTSTAMP,
// then the last in the files: a newer revision supersedes the older (RFC
// 5546 §2.1.4; Confluence exports keep every revision). nil when no
// VEVENT is superseded.
//
// first is room for the first VEVENT of each UID and RECURRENCE-ID; it
// is cleared first.
func latestSequence(events []vevent, fs []fields, rep *reporter, first map[revision]int32) (superseded []bool) {
	type key = revision
	keyOf := func(i int) (key, bool) {
		uid := textValue(fs[i].uid)
		if uid == "" {
			return key{}, false
		}
		k := key{uid: uid}
		if p := fs[i].recurrenceID; p != nil {
			k.rid = strings.ToUpper(strings.TrimSpace(p.Value))
		}
		return k, true
	}
	// Most calendars hold each revision once: the ranks are read only
	// for the keys seen twice.
	clear(first)
	var dups map[key]int // key: the index kept so far
	for i := range events {
		k, ok := keyOf(i)
		if !ok {
			continue
		}
		f, seen := first[k]
		if !seen {
			first[k] = int32(i)
			continue
		}
		if dups == nil {
			dups = map[key]int{}
		}
		b, ok := dups[k]
		if !ok {
			b = int(f)
		}
		if !rankOf(&fs[i]).below(rankOf(&fs[b])) {
			b = i
		}
		dups[k] = b
	}
	if dups == nil {
		return nil
	}
	superseded = make([]bool, len(events))
	for i := range events {
		k, ok := keyOf(i)
		b, dup := dups[k]
		if !ok || !dup || b == i {
			continue
		}
		superseded[i] = true
		kept := &events[b]
		r := rankOf(&fs[b])
		rep.note(&events[i], fmt.Sprintf("another VEVENT with this UID (line %d) is a newer revision (SEQUENCE %d, DTSTAMP %s)", kept.line, r.seq, r.stamp),
			"left this one out (RFC 5546 §2.1.4)")
	}
	return superseded
}

// revision names the revisions of one VEVENT: its UID and RECURRENCE-ID.
type revision struct{ uid, rid string }

// rank orders the revisions of one VEVENT.
type rank struct {
	seq   int
	stamp string
}

func rankOf(f *fields) rank {
	seq := 0
	if s := strings.TrimSpace(textValue(f.sequence)); s != "" {
		seq, _ = strconv.Atoi(s)
	}
	return rank{seq: seq, stamp: strings.TrimSpace(textValue(f.stamp))}
}

// below reports whether r is an older revision than o; of equal ones,
// the later in the files wins.
func (r rank) below(o rank) bool {
	return r.seq < o.seq || r.seq == o.seq && r.stamp < o.stamp
}

// newSeries reads an event's recurrence: every RRULE (RFC 5545 allows more
// than one), RDATE (DATE, DATE-TIME or PERIOD values) and EXDATE, with
// DTSTART always the first instance (§3.8.5.3). It returns nil when the
// event does not recur.
func newSeries(v *vevent, f *fields, tm timing, maxInstances int, rep *reporter) (*series, error) {
	if len(f.rrules)+len(f.rdates)+len(f.exdates) == 0 {
		return nil, nil
	}
	s := &series{uid: textValue(f.uid), timing: tm, file: v.file, line: v.line}
	recurs := false
	for _, p := range f.rrules {
		value, err := ruleText(p.Value, v, rep)
		if err != nil {
			return nil, err
		}
		if value == "" {
			continue
		}
		opt, err := rrule.StrToROptionInLocation(value, tm.start.Location())
		if err != nil {
			return nil, fmt.Errorf("RRULE: %w", err)
		}
		opt.Dtstart = tm.start.Truncate(time.Second)
		if err := checkOrdinals(opt); err != nil {
			return nil, fmt.Errorf("RRULE: %w", err)
		}
		if _, err := rrule.NewRRule(*opt); err != nil {
			return nil, fmt.Errorf("RRULE: %w", err)
		}
		if !tm.allDay && len(opt.Byhour)+len(opt.Byminute)+len(opt.Bysecond) == 0 && opt.Freq <= rrule.DAILY {
			s.clock = true // occurrences keep DTSTART's wall-clock time
		}
		explicitDefaults(opt)
		never, err := neverMatches(*opt)
		if err != nil {
			return nil, fmt.Errorf("RRULE: %w", err)
		}
		if never {
			if err := rep.repaired(v, fmt.Sprintf("RRULE %s matches no day of any year", value), "ignored it: DTSTART and the RDATEs are the instances"); err != nil {
				return nil, err
			}
			recurs = true // DTSTART is still the series's first instance
			continue
		}
		if err := countToUntil(opt, 4*maxInstances); err != nil {
			return nil, fmt.Errorf("RRULE: %w", err)
		}
		if r, ok := simple(*opt); ok {
			s.simples = append(s.simples, r)
		} else {
			s.rules = append(s.rules, *opt)
		}
		recurs = true
	}
	for _, name := range []string{ical.PropRecurrenceDates, ical.PropExceptionDates} {
		ps := f.rdates
		if name == ical.PropExceptionDates {
			ps = f.exdates
		}
		for _, p := range ps {
			period := strings.EqualFold(p.Params.Get(ical.ParamValue), "PERIOD")
			for _, val := range strings.Split(p.Value, ",") {
				if val = strings.TrimSpace(val); val == "" {
					continue // an empty RDATE: or EXDATE: says nothing
				}
				q := p
				q.Value = val
				if period || strings.Contains(val, "/") {
					if name == ical.PropExceptionDates {
						return nil, fmt.Errorf("%s: PERIOD values are not allowed", name)
					}
					per, err := v.tz.period(&q, rep, v)
					if err != nil {
						return nil, fmt.Errorf("%s: %w", name, err)
					}
					s.rare().periods = append(s.rare().periods, per)
					recurs = true
					continue
				}
				t, _, err := v.tz.dateTime(&q, rep, v)
				if err != nil {
					return nil, fmt.Errorf("%s: %w", name, err)
				}
				t = t.Truncate(time.Second)
				if name == ical.PropRecurrenceDates {
					s.rdates = append(s.rdates, t)
					recurs = true
					if s.clock {
						x := s.rare()
						if x.rdates == nil {
							x.rdates = map[int64]bool{}
						}
						x.rdates[t.Unix()] = true
					}
				} else {
					s.exdates = append(s.exdates, t.Unix())
					if s.x != nil {
						if s.x.exdates == nil {
							s.x.exdates = map[int64]bool{}
						}
						s.x.exdates[s.key(t)] = true
					}
				}
			}
		}
	}
	if !recurs {
		return nil, nil
	}
	s.rdates = append(s.rdates, tm.start.Truncate(time.Second)) // the first instance, whether or not a rule makes it
	slices.SortFunc(s.rdates, func(a, b time.Time) int { return a.Compare(b) })
	slices.Sort(s.exdates)
	s.exdates = slices.Compact(s.exdates)
	return s, nil
}

// checkOrdinals refuses a BYDAY ordinal beyond the weekdays of its
// period (RFC 5545 §3.3.10): more than five in a month (a MONTHLY rule, or
// a YEARLY one with BYMONTH), more than 53 in a year. The recurrence
// library indexes past its arrays on such an ordinal, and panics.
func checkOrdinals(o *rrule.ROption) error {
	most := 53
	if o.Freq == rrule.MONTHLY || o.Freq == rrule.YEARLY && len(o.Bymonth) > 0 {
		most = 5
	}
	for _, w := range o.Byweekday {
		if n := w.N(); n > most || n < -most {
			period := "year"
			if most == 5 {
				period = "month"
			}
			return fmt.Errorf("BYDAY=%s: a %s has at most %d of each weekday", w, period, most)
		}
	}
	return nil
}

// ruleText reads an RRULE value as rrule-go takes it: whitespace (BYDAY=MO,
// TU) removed and RSCALE=GREGORIAN (RFC 7529) dropped, both noted; another
// RSCALE is an error. An empty RRULE gives "".
func ruleText(value string, v *vevent, rep *reporter) (string, error) {
	clean := strings.Join(strings.Fields(value), "")
	if clean == "" {
		return "", rep.repaired(v, "an empty RRULE", "ignored it")
	}
	if clean != value {
		if err := rep.repaired(v, fmt.Sprintf("RRULE %q has spaces", value), "removed them"); err != nil {
			return "", err
		}
	}
	var parts []string
	for _, part := range strings.Split(clean, ";") {
		k, val, _ := strings.Cut(part, "=")
		switch strings.ToUpper(k) {
		case "RSCALE":
			if !strings.EqualFold(val, "GREGORIAN") {
				return "", fmt.Errorf("RRULE: RSCALE=%s calendars are not supported", val)
			}
			continue
		case "SKIP":
			continue // RFC 7529: only meaningful with a non-Gregorian RSCALE
		case "FREQ", "UNTIL", "COUNT", "INTERVAL", "BYSECOND", "BYMINUTE", "BYHOUR", "BYDAY", "BYMONTHDAY",
			"BYYEARDAY", "BYWEEKNO", "BYMONTH", "BYSETPOS", "WKST":
		default:
			if err := rep.repaired(v, fmt.Sprintf("RRULE part %q is not RFC 5545's", part), "ignored the part"); err != nil {
				return "", err
			}
			continue
		}
		if part != "" {
			parts = append(parts, part)
		}
	}
	return strings.Join(parts, ";"), nil
}

// weeksAfterT reports whether a DURATION is weeks written after the T
// ("PT2W", "-PT1W"), and how RFC 5545 §3.3.6 writes them.
func weeksAfterT(value string) (string, bool) {
	v := strings.ToUpper(strings.TrimSpace(value))
	sign := ""
	if v != "" && (v[0] == '-' || v[0] == '+') {
		sign, v = v[:1], v[1:]
	}
	n, ok := strings.CutPrefix(v, "PT")
	if !ok {
		return "", false
	}
	n, ok = strings.CutSuffix(n, "W")
	if !ok || n == "" || strings.Trim(n, "0123456789") != "" {
		return "", false
	}
	return sign + "P" + n + "W", true
}

// duration reads a DURATION value (RFC 5545 §3.3.6), weeks included.
func duration(p *ical.Prop) (time.Duration, error) {
	v := strings.ToUpper(strings.TrimSpace(p.Value))
	sign := time.Duration(1)
	switch {
	case strings.HasPrefix(v, "-"):
		sign, v = -1, v[1:]
	case strings.HasPrefix(v, "+"):
		v = v[1:]
	}
	if w, ok := strings.CutSuffix(strings.TrimPrefix(v, "P"), "W"); ok && strings.HasPrefix(v, "P") {
		n, err := strconv.Atoi(w)
		if err != nil || n < 0 {
			return 0, fmt.Errorf("bad DURATION %q", p.Value)
		}
		return sign * time.Duration(n) * 7 * 24 * time.Hour, nil
	}
	if p.Name == ical.PropDuration && p.Params.Get(ical.ParamValue) == "" {
		if d, ok := plainDuration(p.Value); ok {
			return d, nil
		}
	}
	return p.Duration()
}

// plainDuration reads the DURATIONs most events have ("PT45M", "PT1H30M",
// "P1D", "P1DT12H") as ical.Prop.Duration reads them, without its cost;
// ok is false for any other text, left to it.
func plainDuration(s string) (d time.Duration, ok bool) {
	if len(s) < 3 || s[0] != 'P' {
		return 0, false
	}
	const units = "DTHMS" // in the order they come, each at most once; T is no unit
	size := [...]time.Duration{24 * time.Hour, 0, time.Hour, time.Minute, time.Second}
	at := 0 // the first of units that may come next
	for i := 1; i < len(s); {
		if s[i] == 'T' {
			if at > 1 || i+1 == len(s) {
				return 0, false
			}
			at, i = 2, i+1
			continue
		}
		n, j := 0, i
		for ; j < len(s) && j-i < 6 && '0' <= s[j] && s[j] <= '9'; j++ {
			n = n*10 + int(s[j]-'0')
		}
		if j == i || j == len(s) {
			return 0, false
		}
		k := strings.IndexByte(units, s[j])
		if k < at || k == 1 || k >= 2 && at < 2 {
			return 0, false // also k < 0
		}
		d += time.Duration(n) * size[k]
		at, i, ok = k+1, j+1, true
	}
	return d, ok
}
