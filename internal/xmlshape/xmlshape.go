// Package xmlshape compares the structure of two XML elements, as the
// tests that hold calfed's WS-Trust messages against the federation
// gateway's published samples need it (docs/gateway, FINDINGS §1): element
// names by namespace URI, their order and count, attribute names by
// namespace URI, and every value except those the caller names as varying
// from message to message (ids, times, signatures, key material).
// Prefixes, namespace declarations and whitespace between elements carry
// no meaning.
package xmlshape

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/beevik/etree"
)

// Rules say which values vary and which differences are deliberate. Paths
// are slash-separated local names from the root, e.g.
// "Envelope/Header/To" for an element's text or
// "Envelope/Header/To/@Id" for an attribute's value.
type Rules struct {
	// Varying lists the paths whose values are not compared: the element
	// or attribute must exist, its value may be anything.
	Varying []string
	// Skip lists the paths of subtrees that are not compared at all
	// beyond the element's own name.
	Skip []string
	// Deliberate lists differences that are expected, each path with
	// its reason; a listed path that does not differ is not an error.
	// It applies to values and to elements present on one side only.
	Deliberate map[string]string
}

// Compare lists every structural difference between got and want, each
// as "path: what". It is empty when they have the same shape.
func Compare(want, got *etree.Element, r Rules) []string {
	c := &cmp{rules: r, varying: set(r.Varying), skip: set(r.Skip)}
	if qname(want) != qname(got) {
		return []string{fmt.Sprintf("/: root %s, want %s", qname(got), qname(want))}
	}
	c.element(want.Tag, want, got)
	return c.diffs
}

func set(l []string) map[string]bool {
	m := map[string]bool{}
	for _, s := range l {
		m[s] = true
	}
	return m
}

type cmp struct {
	rules         Rules
	varying, skip map[string]bool
	diffs         []string
}

func (c *cmp) add(path, format string, args ...any) {
	if _, ok := c.rules.Deliberate[path]; ok {
		return
	}
	c.diffs = append(c.diffs, path+": "+fmt.Sprintf(format, args...))
}

func qname(e *etree.Element) string { return "{" + e.NamespaceURI() + "}" + e.Tag }

func (c *cmp) element(path string, want, got *etree.Element) {
	if c.skip[path] {
		return
	}
	c.attributes(path, want, got)
	wc, gc := want.ChildElements(), got.ChildElements()
	if len(wc) == 0 && len(gc) == 0 {
		wt, gt := strings.TrimSpace(want.Text()), strings.TrimSpace(got.Text())
		if wt != gt && !c.varying[path] {
			c.add(path, "text %q, want %q", gt, wt)
		}
		if (wt == "") != (gt == "") && c.varying[path] {
			c.add(path, "text %q, want %q", gt, wt)
		}
		return
	}
	// Children pair up in order; an element only one side has is reported
	// at its path, and the rest are still paired by name.
	i, j := 0, 0
	for i < len(wc) || j < len(gc) {
		switch {
		case i < len(wc) && j < len(gc) && qname(wc[i]) == qname(gc[j]):
			c.element(path+"/"+wc[i].Tag, wc[i], gc[j])
			i++
			j++
		case i < len(wc) && (j >= len(gc) || !later(gc[j:], wc[i])):
			c.add(path+"/"+wc[i].Tag, "missing %s", qname(wc[i]))
			i++
		default:
			c.add(path+"/"+gc[j].Tag, "unexpected %s", qname(gc[j]))
			j++
		}
	}
}

// later reports whether an element named as e comes in list.
func later(list []*etree.Element, e *etree.Element) bool {
	for _, x := range list {
		if qname(x) == qname(e) {
			return true
		}
	}
	return false
}

func (c *cmp) attributes(path string, want, got *etree.Element) {
	attrs := func(e *etree.Element) map[string]etree.Attr {
		m := map[string]etree.Attr{}
		for _, a := range e.Attr {
			if a.Space == "xmlns" || (a.Space == "" && a.Key == "xmlns") {
				continue
			}
			m["{"+a.NamespaceURI()+"}"+a.Key] = a
		}
		return m
	}
	wa, ga := attrs(want), attrs(got)
	both := maps.Clone(wa)
	maps.Copy(both, ga)
	for _, k := range slices.Sorted(maps.Keys(both)) {
		w, inW := wa[k]
		g, inG := ga[k]
		name := w.Key
		if !inW {
			name = g.Key
		}
		p := path + "/@" + name
		switch {
		case !inG:
			c.add(p, "missing attribute %s", k)
		case !inW:
			c.add(p, "unexpected attribute %s", k)
		case w.Value != g.Value && !c.varying[p]:
			c.add(p, "%q, want %q", g.Value, w.Value)
		}
	}
}
