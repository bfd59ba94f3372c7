package soap

import (
	"strconv"
	"unicode/utf8"
)

// Writer appends XML to a byte slice. Names are written verbatim (prefix
// included); text and attribute values are escaped. It exists because
// free/busy responses can carry tens of thousands of events and reflection-
// based marshalling costs more than the rest of the request.
type Writer struct {
	B []byte
}

// Start writes <name attr="value"...>. attrs alternate names and values.
func (w *Writer) Start(name string, attrs ...string) {
	w.B = append(w.B, '<')
	w.B = append(w.B, name...)
	w.attrs(attrs)
	w.B = append(w.B, '>')
}

// Empty writes <name attr="value".../>.
func (w *Writer) Empty(name string, attrs ...string) {
	w.B = append(w.B, '<')
	w.B = append(w.B, name...)
	w.attrs(attrs)
	w.B = append(w.B, '/', '>')
}

func (w *Writer) attrs(attrs []string) {
	for i := 0; i+1 < len(attrs); i += 2 {
		w.B = append(w.B, ' ')
		w.B = append(w.B, attrs[i]...)
		w.B = append(w.B, '=', '"')
		w.escape(attrs[i+1], true)
		w.B = append(w.B, '"')
	}
}

// End writes </name>.
func (w *Writer) End(name string) {
	w.B = append(w.B, '<', '/')
	w.B = append(w.B, name...)
	w.B = append(w.B, '>')
}

// Text writes escaped character data.
func (w *Writer) Text(s string) { w.escape(s, false) }

// Elem writes <name attrs...>text</name>.
func (w *Writer) Elem(name, text string, attrs ...string) {
	w.Start(name, attrs...)
	w.escape(text, false)
	w.End(name)
}

// ElemInt writes <name>n</name>.
func (w *Writer) ElemInt(name string, n int) {
	w.Start(name)
	w.B = strconv.AppendInt(w.B, int64(n), 10)
	w.End(name)
}

// ElemBool writes <name>true|false</name>.
func (w *Writer) ElemBool(name string, v bool) {
	w.Start(name)
	w.B = strconv.AppendBool(w.B, v)
	w.End(name)
}

// Raw appends b unchanged; the caller guarantees it is well-formed.
func (w *Writer) Raw(b []byte) { w.B = append(w.B, b...) }

// plain marks the bytes that never need escaping anywhere.
var plain = func() (t [256]bool) {
	for c := 0x20; c < 0x80; c++ {
		t[c] = c != '<' && c != '>' && c != '&' && c != '"'
	}
	t['\t'] = false
	t['\n'] = false
	return t
}()

func (w *Writer) escape(s string, attr bool) {
	i := 0
	for i < len(s) && plain[s[i]] {
		i++
	}
	if i == len(s) {
		w.B = append(w.B, s...)
		return
	}
	last := 0
	for i < len(s) {
		c := s[i]
		var esc string
		width := 1
		switch {
		case c == '<':
			esc = "&lt;"
		case c == '>':
			esc = "&gt;"
		case c == '&':
			esc = "&amp;"
		case c == '"' && attr:
			esc = "&quot;"
		case (c == '\n' || c == '\r' || c == '\t') && attr:
			esc = "&#x" + strconv.FormatInt(int64(c), 16) + ";"
		case c == '\r':
			esc = "&#xD;"
		case c < 0x20 && c != '\n' && c != '\t':
			esc = "\uFFFD" // not representable in XML 1.0
		case c >= utf8.RuneSelf:
			r, n := utf8.DecodeRuneInString(s[i:])
			width = n
			if r == utf8.RuneError && n == 1 || r == 0xFFFE || r == 0xFFFF {
				esc = "\uFFFD"
			}
		}
		if esc == "" {
			i += width
			continue
		}
		w.B = append(w.B, s[last:i]...)
		w.B = append(w.B, esc...)
		i += width
		last = i
	}
	w.B = append(w.B, s[last:]...)
}
