// Package xmlsem compares XML documents by meaning, as calfed's tests and
// conformance replay need it: element and attribute names by namespace URI
// (never by prefix), attributes in any order, namespace declarations and
// whitespace around elements ignored, element order significant unless the
// caller names a parent whose children form a set. Free/busy semantics
// (calendar events as a set, times as instants or wall-clock times, merged
// strings digit by digit) are an option. Every difference is reported with
// the path where it is found. Documents are bounded in size and depth and
// may not declare a document type.
package xmlsem

import (
	"bytes"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/beevik/etree"
)

// Difference is one place where two documents differ in meaning.
type Difference struct {
	Path     string `json:"path"` // Envelope/Body/…/FreeBusyResponse[2]/FreeBusyView/…/BusyType
	Expected string `json:"expected"`
	Got      string `json:"got"`
}

func (d Difference) String() string {
	return fmt.Sprintf("%s: expected %s, got %s", d.Path, show(d.Expected), show(d.Got))
}

func show(s string) string {
	if s == "" {
		return "nothing"
	}
	if len(s) > 120 {
		s = s[:117] + "..."
	}
	return fmt.Sprintf("%q", s)
}

// Options say what a comparison disregards. The zero value is the
// strictest comparison: every element and attribute counts, in order.
type Options struct {
	// FreeBusy compares with free/busy semantics ([MS-OXWAVLS]): the
	// children of CalendarEventArray as a set, StartTime and EndTime as
	// instants where they carry an offset and as wall-clock times where
	// they do not, MergedFreeBusy strings reported at their first
	// differing digit.
	FreeBusy bool
	// Ignore names what is skipped: an element's or attribute's local
	// name, Element/@Attr for one element's attribute, Parent/Child for
	// one parent's child element.
	Ignore []string
	// Unordered names parents (by local name) whose children the schema
	// declares as xs:all or as a set, so their order carries no meaning.
	Unordered []string
}

// freeBusySets are, in a free/busy comparison, the parents whose children
// are compared as sets.
var freeBusySets = map[string]bool{"CalendarEventArray": true}

// Compare reports where got differs in meaning from expected. An error
// means expected is not a document this package reads; a got that is not
// is itself a difference, at path "/".
func Compare(expected, got []byte, o Options) ([]Difference, error) {
	e, err := parseXML(expected)
	if err != nil {
		return nil, fmt.Errorf("expected document: %w", err)
	}
	g, err := parseXML(got)
	if err != nil {
		return []Difference{{Path: "/", Expected: "an XML document", Got: "not XML: " + err.Error()}}, nil
	}
	c := newComparer(o)
	if e.Tag != g.Tag || e.NamespaceURI() != g.NamespaceURI() {
		return []Difference{{Path: "/", Expected: qname(e), Got: qname(g)}}, nil
	}
	c.element(e.Tag, e, g)
	return c.diffs, nil
}

func newComparer(o Options) *comparer {
	c := &comparer{freeBusy: o.FreeBusy, ignore: map[string]bool{}, unordered: map[string]bool{}}
	for _, n := range o.Ignore {
		c.ignore[n] = true
	}
	for _, n := range o.Unordered {
		c.unordered[n] = true
	}
	return c
}

// Canonical renders doc as one line per element, indented two spaces per
// level of depth, for tests that look for a value in a document whatever
// its prefixes and attribute order:
//
//	{namespace}Local {namespace}attr="v" ... = text
//
// Attributes are sorted, namespace declarations left out, text trimmed.
// An error means doc is not a document Compare reads.
func Canonical(doc []byte) (string, error) {
	root, err := parseXML(doc)
	if err != nil {
		return "", err
	}
	var b strings.Builder
	var walk func(e *etree.Element, depth int)
	walk = func(e *etree.Element, depth int) {
		if b.Len() > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(strings.Repeat("  ", depth))
		b.WriteString(qname(e))
		var attrs []string
		for _, a := range e.Attr {
			if a.Space == "xmlns" || (a.Space == "" && a.Key == "xmlns") {
				continue
			}
			attrs = append(attrs, fmt.Sprintf(" {%s}%s=%q", a.NamespaceURI(), a.Key, a.Value))
		}
		sort.Strings(attrs)
		b.WriteString(strings.Join(attrs, ""))
		var text strings.Builder
		for _, t := range e.Child {
			if cd, ok := t.(*etree.CharData); ok {
				text.WriteString(cd.Data)
			}
		}
		if t := strings.TrimSpace(text.String()); t != "" {
			b.WriteString(" = ")
			b.WriteString(t)
		}
		for _, ch := range e.ChildElements() {
			walk(ch, depth+1)
		}
	}
	walk(root, 0)
	return b.String(), nil
}

// maxBody bounds what is parsed: captured answers are never this large.
const maxBody = 32 << 20

func parseXML(b []byte) (*etree.Element, error) {
	if len(b) > maxBody {
		return nil, errors.New("larger than 32 MiB")
	}
	if bytes.Contains(b, []byte("<!DOCTYPE")) || bytes.Contains(b, []byte("<!ENTITY")) {
		return nil, errors.New("document type declarations are refused")
	}
	doc := etree.NewDocument()
	doc.ReadSettings.Permissive = false
	if err := doc.ReadFromBytes(b); err != nil {
		return nil, err
	}
	if doc.Root() == nil {
		return nil, errors.New("no root element")
	}
	type at struct {
		e     *etree.Element
		depth int
	}
	for stack := []at{{doc.Root(), 1}}; len(stack) > 0; {
		top := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if top.depth > maxDepth {
			return nil, fmt.Errorf("nested deeper than %d elements", maxDepth)
		}
		for _, ch := range top.e.ChildElements() {
			stack = append(stack, at{ch, top.depth + 1})
		}
	}
	return doc.Root(), nil
}

// maxDepth bounds nesting: EWS answers are a dozen levels deep.
const maxDepth = 256

func qname(e *etree.Element) string { return "{" + e.NamespaceURI() + "}" + e.Tag }

type comparer struct {
	freeBusy  bool
	ignore    map[string]bool
	unordered map[string]bool
	diffs     []Difference
}

func (c *comparer) add(path, expected, got string) {
	c.diffs = append(c.diffs, Difference{Path: path, Expected: expected, Got: got})
}

// element compares two elements of the same name found at path.
func (c *comparer) element(path string, e, g *etree.Element) {
	c.attributes(path, e, g)
	et, gt := strings.TrimSpace(e.Text()), strings.TrimSpace(g.Text())
	if len(e.ChildElements()) == 0 && len(g.ChildElements()) == 0 {
		if !c.sameText(e.Tag, et, gt) {
			c.textDiff(path, e.Tag, et, gt)
		}
		return
	}
	switch {
	case c.freeBusy && freeBusySets[e.Tag], c.unordered[e.Tag]:
		c.asSet(path, e, g)
	default:
		c.inSequence(path, e, g)
	}
}

func (c *comparer) attributes(path string, e, g *etree.Element) {
	attrs := func(x *etree.Element) map[string]string {
		m := map[string]string{}
		for _, a := range x.Attr {
			if c.skipAttr(x, a) {
				continue
			}
			m["{"+a.NamespaceURI()+"}"+a.Key] = a.Value
		}
		return m
	}
	ea, ga := attrs(e), attrs(g)
	both := maps.Clone(ea)
	maps.Copy(both, ga)
	for _, k := range slices.Sorted(maps.Keys(both)) {
		ev, eok := ea[k]
		gv, gok := ga[k]
		if eok != gok || ev != gv {
			// An attribute written empty is there; one left out is not.
			if !eok {
				ev = "(absent)"
			}
			if !gok {
				gv = "(absent)"
			}
			_, local, _ := strings.Cut(k, "}")
			c.add(path+"/@"+local, ev, gv)
		}
	}
}

// skipAttr: namespace declarations and ignored attributes carry no meaning.
func (c *comparer) skipAttr(e *etree.Element, a etree.Attr) bool {
	return a.Space == "xmlns" || (a.Space == "" && a.Key == "xmlns") || c.ignore[a.Key] || c.ignore[e.Tag+"/@"+a.Key]
}

// inSequence compares children in order: the i-th child named X in one
// with the i-th named X in the other, then the order of the names.
func (c *comparer) inSequence(path string, e, g *etree.Element) {
	before := len(c.diffs)
	ec, gc := c.kept(e), c.kept(g)
	count := map[string][2]int{}
	var names []string
	for side, list := range [2][]*etree.Element{ec, gc} {
		for _, x := range list {
			k := qname(x)
			if _, ok := count[k]; !ok {
				names = append(names, k)
			}
			n := count[k]
			n[side]++
			count[k] = n
		}
	}
	byName := func(list []*etree.Element, k string) []*etree.Element {
		var out []*etree.Element
		for _, x := range list {
			if qname(x) == k {
				out = append(out, x)
			}
		}
		return out
	}
	for _, k := range names {
		es, gs := byName(ec, k), byName(gc, k)
		n := count[k]
		indexed := n[0] > 1 || n[1] > 1
		for i := 0; i < len(es) || i < len(gs); i++ {
			p := childPath(path, localOf(k), i, indexed)
			switch {
			case i >= len(gs):
				c.add(p, summary(es[i]), "")
			case i >= len(es):
				c.add(p, "", summary(gs[i]))
			default:
				c.element(p, es[i], gs[i])
			}
		}
	}
	// Order: the names, in the order each first appears, must agree.
	if eo, gO := order(ec), order(gc); len(c.diffs) == before && eo != gO && sameSet(ec, gc) {
		c.add(path, "children in the order "+eo, gO)
	}
}

func localOf(k string) string {
	_, l, _ := strings.Cut(k, "}")
	return l
}

func childPath(path, local string, i int, indexed bool) string {
	if indexed {
		return fmt.Sprintf("%s/%s[%d]", path, local, i+1)
	}
	return path + "/" + local
}

func order(list []*etree.Element) string {
	var names []string
	for _, x := range list {
		if n := len(names); n == 0 || names[n-1] != x.Tag {
			names = append(names, x.Tag)
		}
	}
	return strings.Join(names, ",")
}

func sameSet(a, b []*etree.Element) bool {
	m := map[string]int{}
	for _, x := range a {
		m[qname(x)]++
	}
	for _, x := range b {
		m[qname(x)]--
	}
	for _, v := range m {
		if v != 0 {
			return false
		}
	}
	return true
}

// kept are e's child elements minus the ignored ones.
func (c *comparer) kept(e *etree.Element) []*etree.Element {
	var out []*etree.Element
	for _, x := range e.ChildElements() {
		if !c.ignore[x.Tag] && !c.ignore[e.Tag+"/"+x.Tag] {
			out = append(out, x)
		}
	}
	return out
}

// asSet matches children by meaning regardless of order; what is left
// unmatched on either side is reported, paired by position.
func (c *comparer) asSet(path string, e, g *etree.Element) {
	ec, gc := c.kept(e), c.kept(g)
	// Match by canonical key: linear, whatever the sizes.
	byKey := map[string][]int{}
	for j, y := range gc {
		k := c.key(y)
		byKey[k] = append(byKey[k], j)
	}
	used := make([]bool, len(gc))
	var missing []int
	for i, x := range ec {
		k := c.key(x)
		if js := byKey[k]; len(js) > 0 {
			used[js[0]], byKey[k] = true, js[1:]
			continue
		}
		missing = append(missing, i)
	}
	var extra []int
	for j := range gc {
		if !used[j] {
			extra = append(extra, j)
		}
	}
	// Pair the leftovers so a changed item reads as its changed field.
	for len(missing) > 0 && len(extra) > 0 {
		x, y := ec[missing[0]], gc[extra[0]]
		if qname(x) != qname(y) {
			break
		}
		c.element(fmt.Sprintf("%s/%s[%d]", path, x.Tag, missing[0]+1), x, y)
		missing, extra = missing[1:], extra[1:]
	}
	for _, i := range missing {
		c.add(fmt.Sprintf("%s/%s[%d]", path, ec[i].Tag, i+1), summary(ec[i]), "")
	}
	for _, j := range extra {
		c.add(fmt.Sprintf("%s/%s[%d]", path, gc[j].Tag, j+1), "", summary(gc[j]))
	}
}

// key is e's canonical form under this comparison: two elements have the
// same key exactly when element() finds no difference between them.
func (c *comparer) key(e *etree.Element) string {
	var b strings.Builder
	b.WriteString(qname(e))
	var attrs []string
	for _, a := range e.Attr {
		if c.skipAttr(e, a) {
			continue
		}
		attrs = append(attrs, "{"+a.NamespaceURI()+"}"+a.Key+"="+a.Value)
	}
	sort.Strings(attrs)
	b.WriteString(fmt.Sprintf("%q", attrs))
	children := c.kept(e)
	if len(e.ChildElements()) == 0 {
		b.WriteString(fmt.Sprintf("=%q", c.textKey(e.Tag, strings.TrimSpace(e.Text()))))
		return b.String()
	}
	keys := make([]string, len(children))
	for i, ch := range children {
		keys[i] = c.key(ch)
	}
	if (c.freeBusy && freeBusySets[e.Tag]) || c.unordered[e.Tag] {
		sort.Strings(keys)
	}
	b.WriteString(fmt.Sprintf("%q", keys))
	return b.String()
}

// textKey is a leaf's text as sameText compares it.
func (c *comparer) textKey(tag, text string) string {
	if c.freeBusy && (tag == "StartTime" || tag == "EndTime") {
		if t, zoned := parseDateTime(text); !t.IsZero() {
			if zoned {
				return "instant " + t.UTC().Format(time.RFC3339Nano)
			}
			return "wall " + t.Format("2006-01-02T15:04:05.999999999")
		}
	}
	return text
}

// summary is a one-line rendering of an element for a report.
func summary(e *etree.Element) string {
	doc := etree.NewDocument()
	doc.SetRoot(e.Copy())
	doc.WriteSettings.CanonicalEndTags = true
	s, _ := doc.WriteToString()
	return strings.Join(strings.Fields(s), " ")
}

func (c *comparer) sameText(tag, e, g string) bool {
	if e == g {
		return true
	}
	if c.freeBusy {
		switch tag {
		case "StartTime", "EndTime":
			return sameInstant(e, g)
		}
	}
	return false
}

// textDiff reports a text difference; merged free/busy strings name the
// first differing digit.
func (c *comparer) textDiff(path, tag, e, g string) {
	if c.freeBusy && tag == "MergedFreeBusy" {
		for i := 0; i < len(e) || i < len(g); i++ {
			if i >= len(e) || i >= len(g) || e[i] != g[i] {
				c.add(fmt.Sprintf("%s[digit %d]", path, i), e, g)
				return
			}
		}
	}
	c.add(path, e, g)
}

// sameInstant compares two xs:dateTime values: with offsets as instants,
// without as wall-clock times (the request's zone, on both sides).
func sameInstant(a, b string) bool {
	ta, za := parseDateTime(a)
	tb, zb := parseDateTime(b)
	if ta.IsZero() || tb.IsZero() || za != zb {
		return false
	}
	return ta.Equal(tb)
}

func parseDateTime(s string) (time.Time, bool) {
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05Z07:00"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t, true
		}
	}
	if t, err := time.Parse("2006-01-02T15:04:05.999999999", s); err == nil {
		return t, false
	}
	return time.Time{}, false
}
