package userfb

import (
	"crypto/sha256"
	"encoding/hex"
	"slices"
	"strings"
	"time"

	"github.com/calfed/calfed/freebusy"
)

// fbType is the FBTYPE of a busy type (RFC 5545 §3.2.9); empty for what
// is not busy (free, working elsewhere, no data), which is left out.
func fbType(b freebusy.BusyType) string {
	switch b {
	case freebusy.Busy:
		return "BUSY"
	case freebusy.Tentative:
		return "BUSY-TENTATIVE"
	case freebusy.OOF:
		return "BUSY-UNAVAILABLE"
	}
	return ""
}

const icalUTC = "20060102T150405Z"

// VFreeBusy writes a published VFREEBUSY (RFC 5545 §3.6.4, METHOD:PUBLISH
// of RFC 5546 §3.3.1) of address over [start, end): one FREEBUSY property
// per busy period, clipped to the window, in UTC, sorted by start.
func VFreeBusy(prodID, address string, start, end, now time.Time, events []freebusy.Event) []byte {
	var b strings.Builder
	line := func(s string) { b.WriteString(fold(s)) }
	line("BEGIN:VCALENDAR")
	line("VERSION:2.0")
	line("PRODID:" + text(prodID))
	line("METHOD:PUBLISH")
	line("BEGIN:VFREEBUSY")
	sum := sha256.Sum256([]byte(address + "\x00" + start.UTC().Format(icalUTC) + "\x00" + end.UTC().Format(icalUTC)))
	line("UID:" + hex.EncodeToString(sum[:16]) + "@calfed")
	line("DTSTAMP:" + now.UTC().Format(icalUTC))
	line("ORGANIZER:mailto:" + address)
	line("DTSTART:" + start.UTC().Format(icalUTC))
	line("DTEND:" + end.UTC().Format(icalUTC))
	type period struct {
		s, e time.Time
		t    string
	}
	var ps []period
	for _, e := range events {
		t := fbType(e.Busy)
		s, en := e.Start, e.End
		if s.Before(start) {
			s = start
		}
		if en.After(end) {
			en = end
		}
		if t == "" || !s.Before(en) {
			continue
		}
		ps = append(ps, period{s.UTC(), en.UTC(), t})
	}
	slices.SortStableFunc(ps, func(a, b period) int { return a.s.Compare(b.s) })
	for _, p := range ps {
		line("FREEBUSY;FBTYPE=" + p.t + ":" + p.s.Format(icalUTC) + "/" + p.e.Format(icalUTC))
	}
	line("END:VFREEBUSY")
	line("END:VCALENDAR")
	return []byte(b.String())
}

// text escapes a TEXT value (RFC 5545 §3.3.11).
func text(s string) string {
	return strings.NewReplacer(`\`, `\\`, ";", `\;`, ",", `\,`, "\n", `\n`, "\r", "").Replace(s)
}

// fold ends a content line with CRLF, folded at 75 octets without
// splitting a UTF-8 sequence (RFC 5545 §3.1).
func fold(s string) string {
	var b strings.Builder
	n := 0
	for _, r := range s {
		l := len(string(r))
		if n+l > 75 {
			b.WriteString("\r\n ")
			n = 1
		}
		b.WriteRune(r)
		n += l
	}
	b.WriteString("\r\n")
	return b.String()
}
