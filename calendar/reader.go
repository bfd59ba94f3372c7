package calendar

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"unsafe"

	"github.com/emersion/go-ical"
)

// maxDepth bounds how deeply components may nest. RFC 5545 needs three
// levels (VCALENDAR, VEVENT, VALARM; VCALENDAR, VTIMEZONE, STANDARD) and
// libical's cluster files add a VCALENDAR around them; a file nesting
// deeper is refused whole rather than read at any cost.
const maxDepth = 64

// utf8BOM starts files written by some Windows tools.
var utf8BOM = []byte{0xEF, 0xBB, 0xBF}

// object is one iCalendar object of a file (RFC 5545 §3.4): its VCALENDAR
// as written, and the components calfed reads from it in order, with
// those of a VCALENDAR nested in it (see readFile).
type object struct {
	cal   *component
	comps []located
}

// located is a component and the physical line of its BEGIN.
type located struct {
	comp *component
	line int
}

// component is a component as read: its properties in the order written
// and the components inside it. (go-ical's Component groups properties
// by name in a map, which cost more to build for each VEVENT than the
// rest of reading it; compile reads each VEVENT's properties once.)
type component struct {
	name     string
	props    []ical.Prop
	children []*component
}

// get is the first property of c named name, as ical.Props.Get finds
// it, or nil.
func (c *component) get(name string) *ical.Prop {
	for i := range c.props {
		if c.props[i].Name == name {
			return &c.props[i]
		}
	}
	return nil
}

// grouped is c as go-ical's Component, its properties grouped by name in
// the order written, as go-ical's decoder groups them: how tz.go reads a
// VTIMEZONE.
func (c *component) grouped() *ical.Component {
	g := &ical.Component{Name: c.name, Props: make(ical.Props, len(c.props))}
	for i := range c.props {
		g.Props.Add(&c.props[i])
	}
	for _, ch := range c.children {
		g.Children = append(g.Children, ch.grouped())
	}
	return g
}

// readFile reads a file's bytes into its iCalendar objects in one pass:
// content lines unfolded (RFC 5545 §3.1), each split into name,
// parameters and value, and the components built as the lines come.
// The grammar of a content line is go-ical's (names and parameter names
// upper-cased, parameter values unquoted, comma-separated values split
// outside quotes, the value kept as written), and so are the types
// returned. What exporters get wrong is repaired and noted in problems,
// each naming the physical line its content line starts on:
//   - a UTF-8 byte-order mark, and CR LF, LF or CR line ends, in any mix;
//   - a line without a colon (an exporter that broke a line without
//     folding it, as Apple's X-APPLE-STRUCTURED-LOCATION sometimes is):
//     dropped, as Thunderbird's libical does with a line it cannot parse;
//   - lines before the first BEGIN:VCALENDAR, between objects or after
//     the last END:VCALENDAR (mail signatures, HTML, a second copy's
//     garbage): dropped, noted once;
//   - spaces before a quoted parameter value (see tidyParamQuotes);
//   - a VCALENDAR nested in another (libical's cluster files,
//     concatenated exports): its components read as the outer one's, as
//     libical and python-icalendar read them; RFC 5545 §3.4 does not nest
//     objects.
//
// A file without any BEGIN:VCALENDAR fails with ErrNotCalendar; one whose
// content lines break RFC 5545 §3.1's grammar (a parameter without "=",
// a quote inside an unquoted parameter value, text after a quoted one), a
// component closed by another's END or left open, or components nested
// deeper than maxDepth fails with a ParseError naming the line
// (docs/protocol.md §6.2).
//
// The components are for reading: props whose parameters are written
// alike share one Params, and the components of a file share a few
// arrays. Their strings are the file's own bytes (unfolded lines) or
// the unfolded text of sc (folded ones), and with the arrays, live only
// while the calendar is compiled (see scratch). Whatever outlives that is
// copied: the items' texts (itemTexts), the series's UIDs (keepSeries),
// the UID of a Problem or a ParseError (keptUID); the texts of Problems
// and errors, the line outside the objects among them, are formatted
// afresh; the text of VTIMEZONEs and TZID parameter values, which zones
// keep as their names (and wintz.Load caches zones by), are copied here;
// RRULEs are kept as rrule-go's options, which hold no text.
// TestParseKeepsNothingOfItsScratch checks it.
func readFile(file string, data []byte, problems *[]Problem) ([]object, error) {
	return new(scratch).readFile(file, data, problems)
}

// readFile is readFile reading into sc.
func (sc *scratch) readFile(file string, data []byte, problems *[]Problem) ([]object, error) {
	data = bytes.TrimPrefix(data, utf8BOM)
	r := icsReader{scratch: sc, file: file, problems: problems, flat: len(sc.located)}
	// What the maps hold names the previous file's text.
	clear(sc.params)
	clear(sc.tzids)
	sc.stack, sc.props = sc.stack[:0], sc.props[:0]
	// The content line being read is data[start:end] until a fold joins
	// it, then sc.unfold[start:end].
	start, end, startLine := 0, 0, 0
	folded := false
	room := false // sc.unfold has room for the rest of the file
	seen := false // a content line has begun
	lineNo := 0
	nextLF, nextCR := -1, -1
	for p := 0; p < len(data); {
		// The physical line at p ends at the next CR or LF; both are
		// looked for once per occurrence, whatever the mix of ends.
		if nextLF < p {
			nextLF = indexFrom(data, p, '\n')
		}
		if nextCR < p {
			nextCR = indexFrom(data, p, '\r')
		}
		b, e := p, min(nextLF, nextCR)
		p = e + 1
		if e < len(data) && data[e] == '\r' && p < len(data) && data[p] == '\n' {
			p++
		}
		lineNo++
		if e > b && (data[b] == ' ' || data[b] == '\t') && seen {
			// A fold: the line so far is copied to the unfolded text,
			// which is given room for the whole file at its first fold,
			// and so never moves while its strings are in use.
			if !folded {
				if !room && cap(sc.unfold)-len(sc.unfold) < len(data) {
					sc.unfold = make([]byte, 0, max(len(data), 2*cap(sc.unfold)))
				}
				room = true
				n := len(sc.unfold)
				sc.unfold = append(sc.unfold, data[start:end]...)
				start, folded = n, true
			}
			sc.unfold = append(sc.unfold, data[b+1:e]...)
			end = len(sc.unfold)
			continue
		}
		if blank(data[b:e]) {
			continue
		}
		if seen {
			if err := r.line(sc.text(data, start, end, folded), startLine); err != nil {
				return nil, err
			}
		} else {
			for data[b] == ' ' || data[b] == '\t' {
				b++ // an indented first line (node-ical's test files)
			}
		}
		seen = true
		start, end, startLine, folded = b, e, lineNo, false
	}
	if seen {
		if err := r.line(sc.text(data, start, end, folded), startLine); err != nil {
			return nil, err
		}
	}
	return r.finish()
}

// text is the content line at [start, end) of data, or of the unfolded
// text when it was folded, without a copy.
func (sc *scratch) text(data []byte, start, end int, folded bool) string {
	if folded {
		data = sc.unfold
	}
	return unsafe.String(&data[start], end-start) // not empty: blank lines begin none
}

// indexFrom is the index of the first c in data from i on, or len(data).
func indexFrom(data []byte, i int, c byte) int {
	if j := bytes.IndexByte(data[i:], c); j >= 0 {
		return i + j
	}
	return len(data)
}

// blank reports whether a line is only white space.
func blank(b []byte) bool {
	if len(b) == 0 {
		return true
	}
	if c := b[0]; c < 0x80 && c != ' ' && c != '\t' && c != '\v' && c != '\f' {
		return false
	}
	return len(bytes.TrimSpace(b)) == 0
}

// scratch is the memory a loader reuses from one calendar to the next,
// rather than leave it as garbage each time: the bytes of the files, the
// unfolded text, the components and their properties, compile's room.
// A calendar's components are in use until it is compiled: Parse keeps
// nothing of them (it copies what it keeps), and the next Parse with
// the same scratch writes over them. One Parse at a time uses a scratch.
type scratch struct {
	file   []byte      // FileSource reads a calendar's files into it
	unfold []byte      // the text of folded content lines, unfolded
	stack  []frame     // the open components
	props  []ical.Prop // the properties of the open components, innermost last
	vals   []string    // parameter values, shared by the props (see parse)
	tzids  map[string]string
	// params holds the Params parsed from each text of parameters: the
	// props of a file repeat a few (TZID=…, ROLE=…;PARTSTAT=…;RSVP=…),
	// and those that repeat one share its Params, which nothing changes.
	params   map[string]ical.Params
	propRoom arena[ical.Prop] // the properties of closed components
	compRoom arena[component]
	located  []located // the components of the objects read
	events   []vevent
	fields   []fields
	// compile's room: maps whose keys name the text, cleared for each
	// calendar, and the items and instances before they are kept.
	masters map[string]*series
	first   map[revision]int32
	items   []Item
	pending []wide
}

// reset makes the whole of sc available to the next Parse.
func (sc *scratch) reset() {
	sc.unfold = sc.unfold[:0]
	sc.vals = sc.vals[:0]
	sc.propRoom.reset()
	sc.compRoom.reset()
	sc.events = sc.events[:0]
	sc.located = sc.located[:0]
}

// maxKept bounds each part of a scratch kept for the next calendar, in
// bytes: one huge calendar does not hold its size for the rest of a
// loader's pass.
const maxKept = 64 << 20

// trim lets go of the parts of sc larger than maxKept.
func (sc *scratch) trim() {
	if cap(sc.file) > maxKept {
		sc.file = nil
	}
	if cap(sc.unfold) > maxKept {
		sc.unfold = nil
	}
	if len(sc.propRoom.all)*int(unsafe.Sizeof(ical.Prop{})) > maxKept {
		sc.propRoom = arena[ical.Prop]{}
	}
	if len(sc.compRoom.all)*int(unsafe.Sizeof(component{})) > maxKept {
		sc.compRoom = arena[component]{}
	}
	if cap(sc.fields)*int(unsafe.Sizeof(fields{})) > maxKept {
		sc.fields = nil
	}
	if cap(sc.pending)*int(unsafe.Sizeof(wide{})) > maxKept {
		sc.pending = nil
	}
}

// arena hands out parts of one array, then of a larger one once it is
// full; reset starts again at the beginning of the last one, once nothing
// handed out is in use.
type arena[T any] struct {
	all  []T
	used int
}

// take returns n zero or stale elements.
func (a *arena[T]) take(n int) []T {
	if len(a.all)-a.used < n {
		a.all = make([]T, max(n, 2*len(a.all), 64))
		a.used = 0
	}
	s := a.all[a.used : a.used+n : a.used+n]
	a.used += n
	return s
}

func (a *arena[T]) reset() { a.used = 0 }

// icsReader builds the components of one file from its content lines.
type icsReader struct {
	*scratch
	file     string
	problems *[]Problem
	objs     []object
	flat     int // where the current object's components start in located
	// section is the last text of parameters found in params, and
	// sectionParams its Params.
	section       string
	sectionParams ical.Params
	nested        []Problem // VCALENDARs nested in others, noted after the lines' repairs
	inTZ          int       // open VTIMEZONEs
	kept          int       // content lines read inside objects
	last          int       // the physical line of the last of them

	outside     string // the first line outside any object, and its line
	outsideLine int
}

// frame is an open component.
type frame struct {
	comp  *component
	line  int // its BEGIN's
	props int // where its properties start in icsReader.props
}

// line reads one unfolded content line that starts on physical line n.
func (r *icsReader) line(text string, n int) error {
	if len(r.stack) == 0 && !strings.EqualFold(text, "BEGIN:VCALENDAR") {
		if r.outsideLine == 0 {
			r.outside, r.outsideLine = text, n
		}
		return nil
	}
	colon := unquotedColon(text)
	if colon < 0 {
		*r.problems = append(*r.problems, Problem{File: r.file, Line: n,
			What: fmt.Sprintf("a content line without a colon (%.40q)", text), Action: "ignored the line"})
		return nil
	}
	if strings.IndexByte(text[:colon], '"') >= 0 {
		if tidy, ok := tidyParamQuotes(text); ok {
			*r.problems = append(*r.problems, Problem{File: r.file, Line: n,
				What: "spaces before a quoted parameter value (a fold that kept its indent)", Action: "removed them"})
			text = tidy
		}
	}
	r.kept++
	r.last = n
	if r.inTZ > 0 {
		text = strings.Clone(text) // see readFile
	}
	prop, err := r.parse(text, colon)
	if err != nil {
		return &ParseError{File: r.file, Line: n, Err: err}
	}
	switch prop.Name {
	case "BEGIN":
		return r.begin(prop.Value, n)
	case "END":
		return r.end(prop.Value, n)
	}
	r.props = append(r.props, prop)
	return nil
}

// unquotedColon is the index of the first colon of s outside a quoted
// parameter value, or -1.
func unquotedColon(s string) int {
	c := strings.IndexByte(s, ':')
	if c < 0 {
		return -1
	}
	q := strings.IndexByte(s[:c], '"')
	if q < 0 {
		return c
	}
	for i := q; ; {
		// s[i] opens a quoted value: skip to its end, then to the next
		// quote or colon.
		j := strings.IndexByte(s[i+1:], '"')
		if j < 0 {
			return -1
		}
		i += 1 + j + 1
		k := strings.IndexAny(s[i:], `":`)
		if k < 0 {
			return -1
		}
		if i += k; s[i] == ':' {
			return i
		}
	}
}

// parse splits a content line as go-ical's decoder does (RFC 5545 §3.1):
// the name up to the first ";" or ":", each parameter's name up to its
// "=", its values quoted or up to the next ",", ";" or ":", and the value
// after the colon that ends the parameters. Names are upper-cased.
//
// Parameters written alike share their Params (see icsReader.params).
func (r *icsReader) parse(s string, colon int) (ical.Prop, error) {
	// The name ends at the first ";" or ":" (line found a colon), looked
	// for as two bytes rather than as a set, which costs more to build
	// than most names take to read.
	i := strings.IndexByte(s, ':')
	if j := strings.IndexByte(s[:i], ';'); j >= 0 {
		i = j
	}
	if i == 0 {
		return ical.Prop{}, errors.New("a content line without a property name")
	}
	// i > 0: line found a colon.
	prop := ical.Prop{Name: strings.ToUpper(s[:i])}
	if i == colon {
		prop.Value = s[colon+1:]
		return prop, nil
	}
	line := s
	section := s[i:colon]
	if section == r.section {
		// As the line before (ATTENDEEs one after another, DTSTART and
		// DTEND in one zone): compared before hashing.
		prop.Params, prop.Value = r.sectionParams, s[colon+1:]
		return prop, nil
	}
	if params, ok := r.params[section]; ok {
		r.section, r.sectionParams = section, params
		prop.Params, prop.Value = params, s[colon+1:]
		return prop, nil
	}
	s = s[i:]
	for s[0] == ';' {
		s = s[1:]
		eq := strings.IndexByte(s, '=')
		switch {
		case eq < 0:
			return ical.Prop{}, fmt.Errorf("%.40s: a parameter without \"=\" (%.40q)", prop.Name, s)
		case eq == 0:
			return ical.Prop{}, fmt.Errorf("%.40s: a parameter without a name", prop.Name)
		}
		name := strings.ToUpper(s[:eq])
		s = s[eq+1:]
		first := len(r.vals)
		for {
			var v string
			if s != "" && s[0] == '"' {
				q := strings.IndexByte(s[1:], '"')
				if q < 0 {
					return ical.Prop{}, fmt.Errorf("%.40s: parameter %.40s: a quoted value without its closing quote", prop.Name, name)
				}
				v, s = s[1:1+q], s[2+q:]
			} else {
				k := valueEnd(s)
				if k < 0 {
					v, s = s, ""
				} else if s[k] == '"' {
					return ical.Prop{}, fmt.Errorf("%.40s: parameter %.40s: a quote inside an unquoted value (RFC 5545 §3.1 allows none)", prop.Name, name)
				} else {
					v, s = s[:k], s[k:]
				}
			}
			if name == ical.ParamTimezoneID {
				v = r.tzid(v)
			}
			r.vals = append(r.vals, v)
			if s == "" {
				return ical.Prop{}, fmt.Errorf("%.40s: parameter %.40s runs to the end of the line: no colon before the value", prop.Name, name)
			}
			if s[0] == ',' {
				s = s[1:]
				continue
			}
			if s[0] == ';' || s[0] == ':' {
				break
			}
			return ical.Prop{}, fmt.Errorf("%.40s: parameter %.40s: %.10q after a quoted value", prop.Name, name, s)
		}
		if prop.Params == nil {
			prop.Params = make(ical.Params, 1)
		}
		// The values share r.vals's array: full slices of it, so that
		// appending to one copies it rather than overwrite the next.
		vals := r.vals[first:len(r.vals):len(r.vals)]
		if old, ok := prop.Params[name]; ok {
			vals = append(old, vals...)
		}
		prop.Params[name] = vals
	}
	prop.Value = s[1:] // s[0] == ':'
	if len(line)-len(s) == colon {
		// Parsed up to the first unquoted colon, as every line with the
		// same text before it will be.
		if r.params == nil {
			r.params = map[string]ical.Params{}
		}
		r.params[section] = prop.Params
		r.section, r.sectionParams = section, prop.Params
	}
	return prop, nil
}

// valueEnd is the index of the first '"', ';', ',' or ':' in s, or -1:
// where an unquoted parameter value ends.
func valueEnd(s string) int {
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '"', ';', ',', ':':
			return i
		}
	}
	return -1
}

// tzid returns a TZID parameter's value as a string of its own, one per
// file and zone: zones keep their names for as long as they are used.
func (r *icsReader) tzid(v string) string {
	if c, ok := r.tzids[v]; ok {
		return c
	}
	if r.tzids == nil {
		r.tzids = map[string]string{}
	}
	c := strings.Clone(v)
	r.tzids[c] = c
	return c
}

// componentName is name as a constant when it names a component calfed
// reads, so that it holds nothing of the file.
func componentName(name string) string {
	switch name {
	case ical.CompEvent:
		return ical.CompEvent
	case ical.CompAlarm:
		return ical.CompAlarm
	case ical.CompCalendar:
		return ical.CompCalendar
	case ical.CompTimezone:
		return ical.CompTimezone
	case ical.CompTimezoneStandard:
		return ical.CompTimezoneStandard
	case ical.CompTimezoneDaylight:
		return ical.CompTimezoneDaylight
	case ical.CompToDo:
		return ical.CompToDo
	case ical.CompJournal:
		return ical.CompJournal
	case ical.CompFreeBusy:
		return ical.CompFreeBusy
	}
	return name
}

func (r *icsReader) begin(value string, n int) error {
	if len(r.stack) == maxDepth {
		return &ParseError{File: r.file, Line: n, Err: fmt.Errorf("components nested more than %d deep", maxDepth)}
	}
	name := componentName(strings.ToUpper(value))
	if name == ical.CompCalendar && len(r.stack) > 0 && r.stack[len(r.stack)-1].comp.name == ical.CompCalendar {
		r.nested = append(r.nested, Problem{File: r.file, Line: n, What: "a VCALENDAR nested in another",
			Action: "read its components as the outer calendar's"})
	}
	if name == ical.CompTimezone {
		r.inTZ++
	}
	c := &r.compRoom.take(1)[0]
	*c = component{name: name}
	r.stack = append(r.stack, frame{comp: c, line: n, props: len(r.props)})
	return nil
}

func (r *icsReader) end(value string, n int) error {
	f := r.stack[len(r.stack)-1]
	c := f.comp
	if !strings.EqualFold(value, c.name) {
		return &ParseError{File: r.file, Line: n, Err: fmt.Errorf("END:%.40s closes %.40s (line %d)", value, c.name, f.line)}
	}
	r.stack = r.stack[:len(r.stack)-1]
	if c.name == ical.CompTimezone {
		r.inTZ--
	}
	c.props = r.keep(r.props[f.props:])
	r.props = r.props[:f.props]
	if len(r.stack) == 0 {
		r.objs = append(r.objs, object{cal: c, comps: r.located[r.flat:len(r.located):len(r.located)]})
		r.flat = len(r.located)
		return nil
	}
	parent := r.stack[len(r.stack)-1].comp
	parent.children = append(parent.children, c)
	if parent.name == ical.CompCalendar && c.name != ical.CompCalendar {
		r.located = append(r.located, located{comp: c, line: f.line})
	}
	return nil
}

// keep copies a component's properties into the room kept for them,
// with no room to grow into the next component's.
func (r *icsReader) keep(ps []ical.Prop) []ical.Prop {
	if len(ps) == 0 {
		return nil
	}
	kept := r.propRoom.take(len(ps))
	copy(kept, ps)
	return kept
}

// finish ends the file: every component closed, at least one object.
func (r *icsReader) finish() ([]object, error) {
	if len(r.stack) > 0 {
		f := r.stack[len(r.stack)-1]
		return nil, &ParseError{File: r.file, Line: r.last,
			Err: fmt.Errorf("unexpected end of file: %.40s (line %d) is not closed", f.comp.name, f.line)}
	}
	if r.kept == 0 {
		return nil, &ParseError{File: r.file, Err: ErrNotCalendar}
	}
	if r.outsideLine > 0 {
		// One report is enough: the rest is the same garbage.
		*r.problems = append(*r.problems, Problem{File: r.file, Line: r.outsideLine,
			What: fmt.Sprintf("text outside BEGIN:VCALENDAR … END:VCALENDAR (%.40q)", r.outside), Action: "ignored the line"})
	}
	*r.problems = append(*r.problems, r.nested...)
	return r.objs, nil
}
