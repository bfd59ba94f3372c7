// Package xmlcmp compares XML documents by meaning: element and attribute
// names by namespace URI (never by prefix), attributes in any order,
// namespace declarations and whitespace-only text ignored. Element order
// counts. Tests use it instead of comparing bytes.
package xmlcmp

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"io"
	"sort"
	"strings"
)

// Canonical renders doc as one line per element, indented by depth:
//
//	{namespace}Local attr="v" ... = text
func Canonical(doc []byte) (string, error) {
	d := xml.NewDecoder(bytes.NewReader(doc))
	var b strings.Builder
	depth := 0
	var text strings.Builder
	flush := func() {
		if t := strings.TrimSpace(text.String()); t != "" {
			b.WriteString(" = ")
			b.WriteString(t)
		}
		text.Reset()
	}
	for {
		tok, err := d.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			return "", err
		}
		switch t := tok.(type) {
		case xml.StartElement:
			flush()
			if depth > 0 || b.Len() > 0 {
				b.WriteByte('\n')
			}
			b.WriteString(strings.Repeat("  ", depth))
			fmt.Fprintf(&b, "{%s}%s", t.Name.Space, t.Name.Local)
			var attrs []string
			for _, a := range t.Attr {
				if a.Name.Space == "xmlns" || (a.Name.Space == "" && a.Name.Local == "xmlns") {
					continue
				}
				attrs = append(attrs, fmt.Sprintf(" {%s}%s=%q", a.Name.Space, a.Name.Local, a.Value))
			}
			sort.Strings(attrs)
			b.WriteString(strings.Join(attrs, ""))
			depth++
		case xml.EndElement:
			flush()
			depth--
		case xml.CharData:
			text.Write(t)
		}
	}
	return b.String(), nil
}

// Diff returns "" when a and b mean the same, else the first differing
// lines of their canonical forms.
func Diff(a, b []byte) (string, error) {
	ca, err := Canonical(a)
	if err != nil {
		return "", fmt.Errorf("first document: %w", err)
	}
	cb, err := Canonical(b)
	if err != nil {
		return "", fmt.Errorf("second document: %w", err)
	}
	if ca == cb {
		return "", nil
	}
	la, lb := strings.Split(ca, "\n"), strings.Split(cb, "\n")
	for i := 0; i < len(la) || i < len(lb); i++ {
		var x, y string
		if i < len(la) {
			x = la[i]
		}
		if i < len(lb) {
			y = lb[i]
		}
		if x != y {
			return fmt.Sprintf("line %d:\n- %s\n+ %s", i+1, x, y), nil
		}
	}
	return "documents differ", nil
}
