package calendar

import (
	"bytes"
	"fmt"
	"strings"
)

// Problem is something in a calendar that calfed repaired, or an event it
// skipped because it could not interpret it. A calendar with problems is
// still served (unless Options.Strict); Problems lists them, and
// `calfed calendar check` prints them.
type Problem struct {
	File   string `json:"file"`
	Line   int    `json:"line,omitempty"` // 1-based; 0 when unknown
	UID    string `json:"uid,omitempty"`
	What   string `json:"what"`   // what was wrong
	Action string `json:"action"` // what calfed did
	// Skipped is set when an event (or a file) was left out; otherwise
	// the problem was repaired.
	Skipped bool `json:"skipped"`
}

func (p Problem) String() string {
	var b strings.Builder
	b.WriteString(p.File)
	if p.Line > 0 {
		fmt.Fprintf(&b, ":%d", p.Line)
	}
	if p.UID != "" {
		fmt.Fprintf(&b, " (UID %s)", p.UID)
	}
	fmt.Fprintf(&b, ": %s; %s", p.What, p.Action)
	return b.String()
}

// contentLine is one unfolded content line and the physical line it
// starts on.
type contentLine struct {
	text string
	line int
}

// utf8BOM starts files written by some Windows tools.
var utf8BOM = []byte{0xEF, 0xBB, 0xBF}

// unfold reads data into content lines (RFC 5545 §3.1), repairing what
// exporters get wrong and noting each repair:
//   - a UTF-8 byte-order mark, and CR LF, LF or CR line ends, in any mix;
//   - a line without a colon (an exporter that broke a line without
//     folding it, as Apple's X-APPLE-STRUCTURED-LOCATION sometimes is):
//     dropped, as Thunderbird's libical does with a line it cannot parse;
//   - lines before the first BEGIN:VCALENDAR or after the last
//     END:VCALENDAR (mail signatures, HTML, a second copy's garbage):
//     dropped.
func unfold(file string, data []byte, problems *[]Problem) []contentLine {
	data = bytes.TrimPrefix(data, utf8BOM)
	var out []contentLine
	lineNo := 0
	for len(data) > 0 {
		i := bytes.IndexAny(data, "\r\n")
		var raw []byte
		if i < 0 {
			raw, data = data, nil
		} else {
			raw = data[:i]
			if data[i] == '\r' && i+1 < len(data) && data[i+1] == '\n' {
				i++
			}
			data = data[i+1:]
		}
		lineNo++
		if len(raw) > 0 && (raw[0] == ' ' || raw[0] == '\t') && len(out) > 0 {
			out[len(out)-1].text += string(raw[1:])
			continue
		}
		if len(bytes.TrimSpace(raw)) == 0 {
			continue
		}
		if len(out) == 0 {
			raw = bytes.TrimLeft(raw, " \t") // indented first line (node-ical's test files)
		}
		out = append(out, contentLine{text: string(raw), line: lineNo})
	}
	// Drop what lies outside the VCALENDAR objects, and lines without a
	// colon.
	kept := out[:0]
	depth := 0
	var outside []contentLine
	for _, l := range out {
		name, _, hasColon := splitContentLine(l.text)
		switch {
		case depth == 0 && !strings.EqualFold(l.text, "BEGIN:VCALENDAR"):
			outside = append(outside, l)
			continue
		case !hasColon:
			*problems = append(*problems, Problem{File: file, Line: l.line,
				What: fmt.Sprintf("a content line without a colon (%.40q)", l.text), Action: "ignored the line"})
			continue
		}
		if tidy, ok := tidyParamQuotes(l.text); ok {
			*problems = append(*problems, Problem{File: file, Line: l.line,
				What: "spaces before a quoted parameter value (a fold that kept its indent)", Action: "removed them"})
			l.text = tidy
		}
		switch {
		case strings.EqualFold(name, "BEGIN"):
			depth++
		case strings.EqualFold(name, "END"):
			depth--
		}
		kept = append(kept, l)
	}
	for _, l := range outside {
		*problems = append(*problems, Problem{File: file, Line: l.line,
			What: fmt.Sprintf("text outside BEGIN:VCALENDAR … END:VCALENDAR (%.40q)", l.text), Action: "ignored the line"})
		break // one report is enough: the rest is the same garbage
	}
	return kept
}

// splitContentLine splits a content line into its name (with parameters)
// and value at the first colon outside a quoted parameter value.
func splitContentLine(s string) (name, value string, ok bool) {
	quoted := false
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '"':
			quoted = !quoted
		case ':':
			if !quoted {
				n := s[:i]
				if j := strings.IndexByte(n, ';'); j >= 0 {
					n = n[:j]
				}
				return n, s[i+1:], true
			}
		}
	}
	return "", "", false
}

// tidyParamQuotes removes whitespace between a parameter's = or , and the
// opening quote of its value (DELEGATED-FROM=  "mailto:…", left by a fold
// indented with two spaces): RFC 5545 §3.1 allows nothing there, and
// python-icalendar and libical read the value as if it were not.
func tidyParamQuotes(s string) (string, bool) {
	var b []byte
	quoted := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '"':
			quoted = !quoted
		case quoted:
		case c == ':':
			if b == nil {
				return s, false
			}
			return string(append(b, s[i:]...)), true
		case c == '=' || c == ',':
			j := i + 1
			for j < len(s) && (s[j] == ' ' || s[j] == '\t') {
				j++
			}
			if j > i+1 && j < len(s) && s[j] == '"' {
				if b == nil {
					b = []byte(s[:i+1])
				} else {
					b = append(b, c)
				}
				i = j - 1
				continue
			}
		}
		if b != nil {
			b = append(b, c)
		}
	}
	return s, false
}

// encode writes content lines back as an iCalendar stream for the decoder,
// unfolded, one per CR LF line.
func encode(lines []contentLine) []byte {
	n := 0
	for _, l := range lines {
		n += len(l.text) + 2
	}
	b := make([]byte, 0, n)
	for _, l := range lines {
		b = append(b, l.text...)
		b = append(b, '\r', '\n')
	}
	return b
}
