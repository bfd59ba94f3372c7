package ews

import (
	"bytes"
	"encoding/xml"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/calfed/calfed/internal/soap"
)

// decodeAvailability reads a GetUserAvailability envelope without
// encoding/xml, which spends most of its time on reflection and on
// allocating tokens: decoding was a fifth of a standard request's CPU.
//
// It reads only what it can read exactly as soap.Decode and encoding/xml
// would, and declines (ok false) everything else: another operation, a
// byte sequence encoding/xml would refuse or might read differently, an
// element that would be decoded twice, a TimeZoneDefinition with periods.
// The caller then decodes the request with soap.Decode, so a request this
// reader accepts gives the envelope soap.Decode gives, and a request it
// declines gets exactly the answer, fault or not, it got before. It
// declines before looking at anything when the request fails the size,
// depth or element-count limits or holds a document type declaration.
func decodeAvailability(data []byte, l soap.Limits) (env *envelope, ver soap.Version, ok bool) {
	if _, err := soap.CheckLimits(data, l); err != nil {
		return nil, ver, false
	}
	s := scanners.Get().(*xscan)
	defer s.release()
	s.data, s.maxDepth = data, l.MaxDepth
	if s.maxDepth <= 0 {
		s.maxDepth = soap.DefaultMaxDepth
	}
	if !s.nextStart() {
		return nil, ver, false
	}
	switch {
	case s.inSpace(soap.NS11):
		ver = soap.V11
	case s.inSpace(soap.NS12):
		ver = soap.V12
	default:
		return nil, ver, false
	}
	if string(s.local()) != "Envelope" || s.empty {
		return nil, ver, false
	}
	ns := ver.Namespace()
	env = &envelope{}
	sawHeader, sawBody := false, false
	for s.next() {
		switch s.kind {
		case tokStart:
			switch {
			case s.inSpace(ns) && string(s.local()) == "Header":
				if sawHeader || !s.header(env) {
					return nil, ver, false
				}
				sawHeader = true
			case s.inSpace(ns) && string(s.local()) == "Body":
				if sawBody || !s.body(env) {
					return nil, ver, false
				}
				sawBody = true
			default:
				if !s.skip() {
					return nil, ver, false
				}
			}
		case tokEnd:
			return env, ver, sawBody
		}
	}
	return nil, ver, false
}

// header reads the children of soap:Header as envelope.Header does.
func (s *xscan) header(env *envelope) bool {
	sawContext := false
	for s.next() {
		switch s.kind {
		case tokEnd:
			return true
		case tokStart:
			if !s.inSpace(nsTypes) {
				if !s.skip() {
					return false
				}
				continue
			}
			switch string(s.local()) {
			case "RequestServerVersion":
				for _, a := range s.attrs {
					if string(localName(a.name)) == "Version" {
						env.version = strings.TrimSpace(string(s.decode(a.raw)))
					}
				}
				if !s.skip() {
					return false
				}
			case "TimeZoneContext":
				if sawContext {
					return false
				}
				sawContext = true
				var ok bool
				if env.tzContext, ok = s.timeZoneContext(); !ok {
					return false
				}
			default:
				if !s.skip() {
					return false
				}
			}
		}
	}
	return false
}

// timeZoneContext reads TimeZoneContext: a TimeZoneDefinition named by its
// Id, without periods or transitions (those are left to encoding/xml).
func (s *xscan) timeZoneContext() (*timeZoneDefinition, bool) {
	var def *timeZoneDefinition
	for s.next() {
		switch s.kind {
		case tokEnd:
			return def, true
		case tokStart:
			if string(s.local()) != "TimeZoneDefinition" {
				if !s.skip() {
					return nil, false
				}
				continue
			}
			if def != nil {
				return nil, false
			}
			def = &timeZoneDefinition{}
			for _, a := range s.attrs {
				switch string(localName(a.name)) {
				case "Id":
					def.ID = string(s.decode(a.raw))
				case "Name":
					def.Name = string(s.decode(a.raw))
				}
			}
			if !s.timeZoneDefinition(def) {
				return nil, false
			}
		}
	}
	return nil, false
}

// timeZoneDefinition reads the periods and transitions of a
// TimeZoneDefinition, as types.go's struct tags direct encoding/xml.
func (s *xscan) timeZoneDefinition(def *timeZoneDefinition) bool {
	var seen [3]bool
	return s.children(func(name []byte) bool {
		switch string(name) {
		case "Periods":
			return once(&seen[0]) && s.children(func(name []byte) bool {
				if string(name) != "Period" {
					return s.skip()
				}
				def.Periods = append(def.Periods, struct {
					Bias string `xml:"Bias,attr"`
					Name string `xml:"Name,attr"`
					ID   string `xml:"Id,attr"`
				}{})
				p := &def.Periods[len(def.Periods)-1]
				for _, a := range s.attrs {
					switch string(localName(a.name)) {
					case "Bias":
						p.Bias = string(s.decode(a.raw))
					case "Name":
						p.Name = string(s.decode(a.raw))
					case "Id":
						p.ID = string(s.decode(a.raw))
					}
				}
				return s.skip()
			})
		case "TransitionsGroups":
			return once(&seen[1]) && s.children(func(name []byte) bool {
				if string(name) != "TransitionsGroup" {
					return s.skip()
				}
				def.Groups = append(def.Groups, transitionsGroup{})
				return s.transitionsGroup(&def.Groups[len(def.Groups)-1])
			})
		case "Transitions":
			return once(&seen[2]) && s.children(func([]byte) bool {
				def.Transitions.Items = append(def.Transitions.Items, transitionItem{
					XMLName: xml.Name{Space: string(s.open[len(s.open)-1].ns), Local: string(s.local())}})
				it := &def.Transitions.Items[len(def.Transitions.Items)-1]
				sawTo := false
				return s.children(func(name []byte) bool {
					if string(name) != "To" {
						return s.skip()
					}
					if !once(&sawTo) {
						return false
					}
					for _, a := range s.attrs {
						if string(localName(a.name)) == "Kind" {
							it.To.Kind = string(s.decode(a.raw))
						}
					}
					return s.stringValue(&it.To.Value)
				})
			})
		}
		return s.skip()
	})
}

func (s *xscan) transitionsGroup(g *transitionsGroup) bool {
	for _, a := range s.attrs {
		if string(localName(a.name)) == "Id" {
			g.ID = string(s.decode(a.raw))
		}
	}
	return s.children(func(name []byte) bool {
		switch string(name) {
		case "RecurringDayTransition":
			g.Recurring = append(g.Recurring, recurringDayTransition{})
			t := &g.Recurring[len(g.Recurring)-1]
			var seen [5]bool
			return s.children(func(name []byte) bool {
				switch string(name) {
				case "To":
					return once(&seen[0]) && s.stringValue(&t.To)
				case "TimeOffset":
					return once(&seen[1]) && s.stringValue(&t.TimeOffset)
				case "Month":
					return once(&seen[2]) && s.intValue(&t.Month)
				case "DayOfWeek":
					return once(&seen[3]) && s.stringValue(&t.DayOfWeek)
				case "Occurrence":
					return once(&seen[4]) && s.intValue(&t.Occurrence)
				}
				return s.skip()
			})
		case "Transition":
			g.Plain = append(g.Plain, struct {
				To string `xml:"To"`
			}{})
			t := &g.Plain[len(g.Plain)-1]
			sawTo := false
			return s.children(func(name []byte) bool {
				if string(name) != "To" {
					return s.skip()
				}
				return once(&sawTo) && s.stringValue(&t.To)
			})
		}
		return s.skip()
	})
}

// body reads soap:Body: its first child must be GetUserAvailabilityRequest;
// later children are skipped, as soap.Decode does.
func (s *xscan) body(env *envelope) bool {
	first := true
	for s.next() {
		switch s.kind {
		case tokEnd:
			return !first
		case tokStart:
			if !first {
				if !s.skip() {
					return false
				}
				continue
			}
			first = false
			if !s.inSpace(nsMessages) || string(s.local()) != "GetUserAvailabilityRequest" {
				return false
			}
			env.op = xml.Name{Space: nsMessages, Local: "GetUserAvailabilityRequest"}
			env.gua = &getUserAvailabilityRequest{}
			if !s.availability(env.gua) {
				return false
			}
		}
	}
	return false
}

// The request's elements are matched by local name in any namespace, as
// the struct tags of types.go match them; an element met twice where the
// type holds one is declined (encoding/xml would merge the two).

func (s *xscan) availability(r *getUserAvailabilityRequest) bool {
	return s.children(func(name []byte) bool {
		switch string(name) {
		case "TimeZone":
			if r.TimeZone != nil {
				return false
			}
			r.TimeZone = &serializableTimeZone{}
			return s.timeZone(r.TimeZone)
		case "MailboxDataArray":
			if r.MailboxDataArray != nil {
				return false
			}
			r.MailboxDataArray = &MailboxDataArray{}
			return s.mailboxes(r.MailboxDataArray)
		case "FreeBusyViewOptions":
			if r.FreeBusyViewOptions != nil {
				return false
			}
			r.FreeBusyViewOptions = &FreeBusyViewOptions{}
			return s.viewOptions(r.FreeBusyViewOptions)
		case "SuggestionsViewOptions":
			if r.SuggestionsViewOptions != nil {
				return false
			}
			r.SuggestionsViewOptions = &struct{}{}
		}
		return s.skip()
	})
}

func (s *xscan) timeZone(tz *serializableTimeZone) bool {
	var seen [3]bool
	return s.children(func(name []byte) bool {
		switch string(name) {
		case "Bias":
			return once(&seen[0]) && s.intValue(&tz.Bias)
		case "StandardTime":
			if !once(&seen[1]) {
				return false
			}
			tz.StandardTime = &serializableTimeZoneTime{}
			return s.timeZoneTime(tz.StandardTime)
		case "DaylightTime":
			if !once(&seen[2]) {
				return false
			}
			tz.DaylightTime = &serializableTimeZoneTime{}
			return s.timeZoneTime(tz.DaylightTime)
		}
		return s.skip()
	})
}

func (s *xscan) timeZoneTime(t *serializableTimeZoneTime) bool {
	var seen [6]bool
	return s.children(func(name []byte) bool {
		switch string(name) {
		case "Bias":
			return once(&seen[0]) && s.intValue(&t.Bias)
		case "Time":
			return once(&seen[1]) && s.stringValue(&t.Time)
		case "DayOrder":
			return once(&seen[2]) && s.intValue(&t.DayOrder)
		case "Month":
			return once(&seen[3]) && s.intValue(&t.Month)
		case "DayOfWeek":
			return once(&seen[4]) && s.stringValue(&t.DayOfWeek)
		case "Year":
			return once(&seen[5]) && s.stringValue(&t.Year)
		}
		return s.skip()
	})
}

func (s *xscan) mailboxes(a *MailboxDataArray) bool {
	return s.children(func(name []byte) bool {
		if string(name) != "MailboxData" {
			return s.skip()
		}
		a.MailboxData = append(a.MailboxData, MailboxData{})
		md := &a.MailboxData[len(a.MailboxData)-1]
		var seen [3]bool
		return s.children(func(name []byte) bool {
			switch string(name) {
			case "Email":
				if !once(&seen[0]) {
					return false
				}
				var seenEmail [3]bool
				return s.children(func(name []byte) bool {
					switch string(name) {
					case "Name":
						return once(&seenEmail[0]) && s.stringValue(&md.Email.Name)
					case "Address":
						return once(&seenEmail[1]) && s.stringValue(&md.Email.Address)
					case "RoutingType":
						return once(&seenEmail[2]) && s.stringValue(&md.Email.RoutingType)
					}
					return s.skip()
				})
			case "AttendeeType":
				return once(&seen[1]) && s.stringValue(&md.AttendeeType)
			case "ExcludeConflicts":
				return once(&seen[2]) && s.stringValue(&md.ExcludeConflicts)
			}
			return s.skip()
		})
	})
}

func (s *xscan) viewOptions(o *FreeBusyViewOptions) bool {
	return s.children(func(name []byte) bool {
		switch string(name) {
		case "TimeWindow":
			if o.TimeWindow != nil {
				return false
			}
			o.TimeWindow = &TimeWindow{}
			return s.children(func(name []byte) bool {
				switch string(name) {
				case "StartTime":
					return o.TimeWindow.StartTime == nil && s.optionalString(&o.TimeWindow.StartTime)
				case "EndTime":
					return o.TimeWindow.EndTime == nil && s.optionalString(&o.TimeWindow.EndTime)
				}
				return s.skip()
			})
		case "MergedFreeBusyIntervalInMinutes":
			return o.MergedFreeBusyIntervalInMinutes == nil && s.optionalString(&o.MergedFreeBusyIntervalInMinutes)
		case "RequestedView":
			return o.RequestedView == nil && s.optionalString(&o.RequestedView)
		}
		return s.skip()
	})
}

// once marks an element seen and reports whether it was not before.
func once(seen *bool) bool {
	if *seen {
		return false
	}
	*seen = true
	return true
}

// children calls f with the local name of each child element of the
// element just started; f consumes the child. It returns at the element's
// end.
func (s *xscan) children(f func(local []byte) bool) bool {
	if s.empty {
		return s.next() // the end of <x/>
	}
	for s.next() {
		switch s.kind {
		case tokEnd:
			return true
		case tokStart:
			if !f(s.local()) {
				return false
			}
		}
	}
	return false
}

// text reads the character data of the element just started, up to its
// end. An element with child elements is declined: encoding/xml would
// skip them and join the text around them.
func (s *xscan) text() ([]byte, bool) {
	var out []byte
	pieces := 0
	for s.next() {
		switch s.kind {
		case tokEnd:
			return out, true
		case tokStart:
			return nil, false
		case tokText:
			// Text broken by comments is joined; the first piece may be
			// the request's own bytes, so the join is made in a copy.
			t := s.decode(s.raw)
			switch pieces {
			case 0:
				out = t
			case 1:
				out = append(bytes.Clone(out), t...)
			default:
				out = append(out, t...)
			}
			pieces++
		}
	}
	return nil, false
}

func (s *xscan) stringValue(dst *string) bool {
	t, ok := s.text()
	*dst = string(t)
	return ok
}

func (s *xscan) optionalString(dst **string) bool {
	t, ok := s.text()
	v := string(t)
	*dst = &v
	return ok
}

// intValue reads an xs:int as encoding/xml does: no text is zero, and
// the text without surrounding white space must be a decimal number.
// Anything else is declined, for encoding/xml to refuse it.
func (s *xscan) intValue(dst *int) bool {
	t, ok := s.text()
	if !ok {
		return false
	}
	if len(t) == 0 {
		*dst = 0
		return true
	}
	n, err := strconv.ParseInt(strings.TrimSpace(string(t)), 10, strconv.IntSize)
	*dst = int(n)
	return err == nil
}

// skip consumes the element just started and all it holds.
func (s *xscan) skip() bool {
	depth := 1
	for depth > 0 && s.next() {
		switch s.kind {
		case tokStart:
			depth++
		case tokEnd:
			depth--
		}
	}
	return depth == 0
}

// xscan walks the tokens of an XML document held in memory. It checks
// what encoding/xml's strict decoder checks (well-formed tags, matching
// end tags, quoted attribute values, known entities, valid UTF-8 and XML
// characters, comments without "--", an XML declaration of version 1.0 in
// UTF-8), and declines, by stopping, at everything it does not read: CDATA
// sections, document type declarations, processing instructions other
// than the XML declaration, names outside ASCII, undeclared prefixes,
// text outside the root element.
type xscan struct {
	data     []byte
	pos      int
	maxDepth int

	kind  tokKind
	name  []byte  // tokStart, tokEnd: the qualified name as written
	attrs []xattr // tokStart
	empty bool    // tokStart: <x/>; its tokEnd comes next
	raw   []byte  // tokText: the text as written

	open    []xopen
	ns      []xbinding
	started bool // the root element has been read
	failed  bool
}

// scanners are reused: their stacks are what a request would allocate.
var scanners = sync.Pool{New: func() any {
	return &xscan{attrs: make([]xattr, 0, 8), open: make([]xopen, 0, 16), ns: make([]xbinding, 0, 16)}
}}

// release clears s of the request and makes it free for another. Stacks
// grown past an ordinary request's are left to the collector.
func (s *xscan) release() {
	if cap(s.attrs) > 64 || cap(s.open) > 64 || cap(s.ns) > 2*maxBindings {
		return
	}
	clear(s.attrs[:cap(s.attrs)])
	clear(s.open[:cap(s.open)])
	clear(s.ns[:cap(s.ns)])
	*s = xscan{attrs: s.attrs[:0], open: s.open[:0], ns: s.ns[:0]}
	scanners.Put(s)
}

type tokKind uint8

const (
	tokStart tokKind = iota + 1
	tokEnd
	tokText
	tokOther // a comment or the XML declaration
)

type xattr struct{ name, raw []byte }

type xopen struct {
	name   []byte
	nsMark int // len(ns) before the element's declarations
	ns     []byte
}

type xbinding struct{ prefix, uri []byte }

// maxBindings bounds the namespace declarations in scope at once: real
// requests have a handful.
const maxBindings = 64

// inSpace reports whether the element just started is in namespace ns.
func (s *xscan) inSpace(ns string) bool { return string(s.open[len(s.open)-1].ns) == ns }

// local is the local name of the element just started.
func (s *xscan) local() []byte { return localName(s.name) }

func localName(qname []byte) []byte {
	if i := bytes.IndexByte(qname, ':'); i >= 0 {
		return qname[i+1:]
	}
	return qname
}

// nextStart reads up to the root element: only white space, comments and
// the XML declaration may come before it.
func (s *xscan) nextStart() bool {
	for s.next() {
		switch s.kind {
		case tokStart:
			return true
		case tokText:
			if len(bytes.TrimLeft(s.raw, " \t\r\n")) != 0 {
				return false
			}
		case tokEnd:
			return false
		}
	}
	return false
}

// next reads the next token; false when the document ends or is
// declined.
func (s *xscan) next() bool {
	if s.failed {
		return false
	}
	if s.kind == tokStart && s.empty {
		s.kind, s.empty = tokEnd, false
		s.pop()
		return true
	}
	if s.pos >= len(s.data) {
		return s.fail()
	}
	if s.data[s.pos] != '<' {
		end := bytes.IndexByte(s.data[s.pos:], '<')
		if end < 0 {
			return s.fail() // text running to the end of the document
		}
		s.raw = s.data[s.pos : s.pos+end]
		s.pos += end
		s.kind = tokText
		if !checkText(s.raw, false) || !s.started && len(bytes.TrimLeft(s.raw, " \t\r\n")) != 0 {
			return s.fail()
		}
		return true
	}
	if s.pos+1 >= len(s.data) {
		return s.fail()
	}
	switch s.data[s.pos+1] {
	case '/':
		return s.endTag()
	case '?':
		return s.declaration()
	case '!':
		return s.comment()
	}
	return s.startTag()
}

func (s *xscan) fail() bool {
	s.failed = true
	return false
}

func (s *xscan) endTag() bool {
	s.pos += 2
	name, ok := s.readName()
	if !ok || len(s.open) == 0 {
		return s.fail()
	}
	s.skipSpace()
	if s.pos >= len(s.data) || s.data[s.pos] != '>' {
		return s.fail()
	}
	s.pos++
	if !bytes.Equal(name, s.open[len(s.open)-1].name) {
		return s.fail()
	}
	s.kind, s.name = tokEnd, name
	s.pop()
	return true
}

func (s *xscan) pop() {
	top := s.open[len(s.open)-1]
	s.ns = s.ns[:top.nsMark]
	s.open = s.open[:len(s.open)-1]
}

// declaration reads <?xml …?>, as encoding/xml checks it: version 1.0 and
// encoding UTF-8 when given. Its content must be plain ASCII.
func (s *xscan) declaration() bool {
	rest := s.data[s.pos+2:]
	if !bytes.HasPrefix(rest, []byte("xml")) || len(rest) < 4 || !isSpace(rest[3]) {
		return s.fail()
	}
	end := bytes.Index(rest, []byte("?>"))
	if end < 0 {
		return s.fail()
	}
	content := rest[3:end]
	for _, c := range content {
		if c < 0x20 && !isSpace(c) || c >= 0x7f {
			return s.fail()
		}
	}
	// encoding/xml's reading of the declaration: after the target's
	// white space, version and encoding by procInst.
	text := strings.TrimLeft(string(content), " \t\r\n")
	if v := procInst("version", text); v != "" && v != "1.0" {
		return s.fail()
	}
	if e := procInst("encoding", text); e != "" && !strings.EqualFold(e, "utf-8") {
		return s.fail()
	}
	s.pos += 2 + end + 2
	s.kind = tokOther
	return true
}

// procInst is encoding/xml's reading of a pseudo-attribute of the XML
// declaration, which is not an XML attribute reading: the first param=
// followed by a quote, up to the same quote.
func procInst(param, s string) string {
	param += "="
	i := 0
	var sep byte
	for i < len(s) {
		sub := s[i:]
		k := strings.Index(sub, param)
		if k < 0 || len(param)+k >= len(sub) {
			return ""
		}
		i += len(param) + k + 1
		if c := sub[len(param)+k]; c == '\'' || c == '"' {
			sep = c
			break
		}
	}
	if sep == 0 {
		return ""
	}
	j := strings.IndexByte(s[i:], sep)
	if j < 0 {
		return ""
	}
	return s[i : i+j]
}

// comment reads <!-- … -->; the first "--" in it must end it, as
// encoding/xml requires. CDATA sections and declarations are declined.
func (s *xscan) comment() bool {
	rest := s.data[s.pos:]
	if !bytes.HasPrefix(rest, []byte("<!--")) {
		return s.fail()
	}
	k := bytes.Index(rest[4:], []byte("--"))
	if k < 0 || 4+k+2 >= len(rest) || rest[4+k+2] != '>' {
		return s.fail()
	}
	s.pos += 4 + k + 3
	s.kind = tokOther
	return true
}

func (s *xscan) startTag() bool {
	if s.started && len(s.open) == 0 {
		return s.fail() // a second root: soap.Decode never reads it
	}
	s.pos++
	name, ok := s.readName()
	if !ok {
		return s.fail()
	}
	s.attrs = s.attrs[:0]
	s.empty = false
	for {
		spaced := s.skipSpace()
		if s.pos >= len(s.data) {
			return s.fail()
		}
		c := s.data[s.pos]
		if c == '/' {
			if s.pos+1 >= len(s.data) || s.data[s.pos+1] != '>' {
				return s.fail()
			}
			s.pos += 2
			s.empty = true
			break
		}
		if c == '>' {
			s.pos++
			break
		}
		if !spaced {
			return s.fail()
		}
		an, ok := s.readName()
		if !ok {
			return s.fail()
		}
		s.skipSpace()
		if s.pos >= len(s.data) || s.data[s.pos] != '=' {
			return s.fail()
		}
		s.pos++
		s.skipSpace()
		if s.pos >= len(s.data) || s.data[s.pos] != '"' && s.data[s.pos] != '\'' {
			return s.fail()
		}
		q := s.data[s.pos]
		end := bytes.IndexByte(s.data[s.pos+1:], q)
		if end < 0 {
			return s.fail()
		}
		raw := s.data[s.pos+1 : s.pos+1+end]
		s.pos += end + 2
		if !checkText(raw, true) {
			return s.fail()
		}
		s.attrs = append(s.attrs, xattr{an, raw})
	}
	if len(s.open) >= s.maxDepth {
		return s.fail()
	}
	mark := len(s.ns)
	for _, a := range s.attrs {
		if len(s.ns) >= maxBindings {
			// Looking names up is linear in the bindings in scope;
			// encoding/xml, with a map, takes such a document.
			return s.fail()
		}
		switch {
		case string(a.name) == "xmlns":
			s.ns = append(s.ns, xbinding{nil, s.decode(a.raw)})
		case bytes.HasPrefix(a.name, []byte("xmlns:")):
			// encoding/xml keeps xml and xmlns whatever is declared;
			// undeclaring a prefix is not XML 1.0.
			uri := s.decode(a.raw)
			if p := string(a.name[len("xmlns:"):]); len(uri) == 0 || p == "xml" || p == "xmlns" {
				return s.fail()
			}
			s.ns = append(s.ns, xbinding{a.name[len("xmlns:"):], uri})
		}
	}
	var prefix []byte
	if i := bytes.IndexByte(name, ':'); i >= 0 {
		prefix = name[:i]
	} else if string(name) == "xmlns" {
		return s.fail() // in no namespace for encoding/xml, whatever the default
	}
	uri, ok := s.lookup(prefix)
	if !ok {
		return s.fail()
	}
	s.open = append(s.open, xopen{name: name, nsMark: mark, ns: uri})
	s.kind, s.name, s.started = tokStart, name, true
	return true
}

// lookup finds the namespace bound to prefix; the default namespace is
// empty unless declared. Undeclared prefixes, and xml and xmlns, are not
// found.
func (s *xscan) lookup(prefix []byte) ([]byte, bool) {
	for i := len(s.ns) - 1; i >= 0; i-- {
		if bytes.Equal(s.ns[i].prefix, prefix) {
			return s.ns[i].uri, true
		}
	}
	return nil, prefix == nil
}

// readName reads an ASCII XML name with at most one colon, inside it.
func (s *xscan) readName() ([]byte, bool) {
	start := s.pos
	colon := -1
	for s.pos < len(s.data) {
		c := s.data[s.pos]
		switch {
		case 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || c == '_':
		case '0' <= c && c <= '9' || c == '.' || c == '-':
			if s.pos == start || s.pos == colon+1 {
				return nil, false
			}
		case c == ':':
			if colon >= 0 || s.pos == start {
				return nil, false
			}
			colon = s.pos
		default:
			goto done
		}
		s.pos++
	}
done:
	if s.pos == start || s.pos == colon+1 {
		return nil, false
	}
	return s.data[start:s.pos], true
}

// skipSpace skips XML white space and reports whether there was any.
func (s *xscan) skipSpace() bool {
	start := s.pos
	for s.pos < len(s.data) && isSpace(s.data[s.pos]) {
		s.pos++
	}
	return s.pos > start
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\r' || c == '\n' }

// checkText reports whether raw (character data, or an attribute value
// when quoted) is text encoding/xml's strict decoder accepts: only the
// five predefined entities and character references to XML characters,
// valid UTF-8, XML characters only, no "<" in a value and no "]]>" in
// character data.
func checkText(raw []byte, quoted bool) bool {
	for i := 0; i < len(raw); {
		c := raw[i]
		switch {
		case c == '&':
			_, n := entityAt(raw[i:])
			if n == 0 {
				return false
			}
			i += n
			continue
		case c == '<':
			return false
		case c == ']' && !quoted && bytes.HasPrefix(raw[i:], []byte("]]>")):
			return false
		case c < 0x20:
			if c != '\t' && c != '\n' && c != '\r' {
				return false
			}
		case c >= utf8.RuneSelf:
			r, n := utf8.DecodeRune(raw[i:])
			if r == utf8.RuneError && n == 1 || !isXMLChar(r) {
				return false
			}
			i += n
			continue
		}
		i++
	}
	return true
}

// entityAt reads the entity or character reference at the start of b
// (which begins with &): the character it stands for and its length; 0
// for anything encoding/xml would refuse or read otherwise (a reference
// to a surrogate, which it reads as U+FFFD, included).
func entityAt(b []byte) (rune, int) {
	end := bytes.IndexByte(b[:min(len(b), 13)], ';')
	if end < 2 {
		return 0, 0
	}
	body := b[1:end]
	if body[0] != '#' {
		switch string(body) {
		case "lt":
			return '<', end + 1
		case "gt":
			return '>', end + 1
		case "amp":
			return '&', end + 1
		case "apos":
			return '\'', end + 1
		case "quot":
			return '"', end + 1
		}
		return 0, 0
	}
	digits, base := body[1:], 10
	if len(digits) > 0 && digits[0] == 'x' {
		digits, base = digits[1:], 16
	}
	if len(digits) == 0 || len(digits) > 8 {
		return 0, 0
	}
	var n rune
	for _, d := range digits {
		var v rune
		switch {
		case '0' <= d && d <= '9':
			v = rune(d - '0')
		case base == 16 && 'a' <= d && d <= 'f':
			v = rune(d-'a') + 10
		case base == 16 && 'A' <= d && d <= 'F':
			v = rune(d-'A') + 10
		default:
			return 0, 0
		}
		n = n*rune(base) + v
	}
	if !isXMLChar(n) || 0xD800 <= n && n <= 0xDFFF {
		return 0, 0
	}
	return n, end + 1
}

// isXMLChar is XML 1.0's Char production, as encoding/xml applies it.
func isXMLChar(r rune) bool {
	return r == 0x09 || r == 0x0A || r == 0x0D ||
		r >= 0x20 && r <= 0xD7FF ||
		r >= 0xE000 && r <= 0xFFFD ||
		r >= 0x10000 && r <= 0x10FFFF
}

// decode returns checked text as encoding/xml reads it: references
// replaced, and line ends (CR LF, lone CR) written as LF. Text without
// either is returned as it is, without a copy.
func (s *xscan) decode(raw []byte) []byte {
	if bytes.IndexByte(raw, '&') < 0 && bytes.IndexByte(raw, '\r') < 0 {
		return raw
	}
	out := make([]byte, 0, len(raw))
	for i := 0; i < len(raw); {
		switch c := raw[i]; c {
		case '&':
			r, n := entityAt(raw[i:])
			out = utf8.AppendRune(out, r)
			i += n
		case '\r':
			out = append(out, '\n')
			i++
			if i < len(raw) && raw[i] == '\n' {
				i++
			}
		default:
			out = append(out, c)
			i++
		}
	}
	return out
}
