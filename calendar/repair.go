package calendar

import (
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
