// Package xmltree has the few namespace-aware look-ups over etree elements
// that the token packages (federation, sts, wstrust, wsfed) share: etree's
// own paths match prefixes, never namespaces.
package xmltree

import (
	"encoding/base64"
	"strings"

	"github.com/beevik/etree"
)

// Children returns the child elements of el named {ns}local, in order.
func Children(el *etree.Element, ns, local string) []*etree.Element {
	var out []*etree.Element
	for _, c := range el.ChildElements() {
		if c.Tag == local && c.NamespaceURI() == ns {
			out = append(out, c)
		}
	}
	return out
}

// FindAll returns el and its descendants named {ns}local, in document
// order. el may be nil.
func FindAll(el *etree.Element, ns, local string) []*etree.Element {
	var out []*etree.Element
	var walk func(*etree.Element)
	walk = func(e *etree.Element) {
		if e.Tag == local && e.NamespaceURI() == ns {
			out = append(out, e)
		}
		for _, c := range e.ChildElements() {
			walk(c)
		}
	}
	if el != nil {
		walk(el)
	}
	return out
}

// Find returns the first of FindAll, or nil.
func Find(el *etree.Element, ns, local string) *etree.Element {
	if all := FindAll(el, ns, local); len(all) > 0 {
		return all[0]
	}
	return nil
}

// Base64 decodes an element's text, ignoring the whitespace line breaks
// that base64 in XML often carries.
func Base64(el *etree.Element) ([]byte, error) {
	s := strings.Map(func(r rune) rune {
		if r == ' ' || r == '\n' || r == '\r' || r == '\t' {
			return -1
		}
		return r
	}, el.Text())
	return base64.StdEncoding.DecodeString(s)
}
