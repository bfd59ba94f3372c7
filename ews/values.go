package ews

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// Namespaces. docs/protocol.md §0.
const (
	nsMessages = "http://schemas.microsoft.com/exchange/services/2006/messages"
	nsTypes    = "http://schemas.microsoft.com/exchange/services/2006/types"
	nsErrors   = "http://schemas.microsoft.com/exchange/services/2006/errors"
)

// legacyVersions are the RequestServerVersion values below Exchange2012 by
// Exchange's enum ordinal: they get the legacy merged digits, where 4 means
// NoData and WorkingElsewhere counts as Free. Everything else, unknown
// strings included, is treated as newest. docs/protocol.md §1.6.
var legacyVersions = map[string]bool{
	"Exchange2007": true, "Exchange2007_SP1": true, "Exchange2009": true,
	"Exchange2010": true, "Exchange2010_SP1": true,
}

// parseDateTime reads an xs:dateTime. Without an offset the value is wall
// time in zone (docs/protocol.md §1.6); with Z or an offset it is an instant.
func parseDateTime(s string, zone *time.Location) (time.Time, error) {
	s = strings.TrimSpace(s)
	// The layout the value's shape calls for first: trying layouts in
	// turn costs an error value for each that fails. The layouts with an
	// offset and those without accept no value in common, so the order
	// below gives the same reading.
	n := len(s)
	switch {
	case n > 0 && s[n-1] == 'Z' || n > 6 && (s[n-6] == '+' || s[n-6] == '-') && s[n-3] == ':':
		if t, err := time.Parse("2006-01-02T15:04:05.999999999Z07:00", s); err == nil {
			return t, nil
		}
	case n == len("2006-01-02"):
		if t, err := time.ParseInLocation("2006-01-02", s, zone); err == nil {
			return t, nil
		}
	default:
		if t, err := time.ParseInLocation("2006-01-02T15:04:05.999999999", s, zone); err == nil {
			return t, nil
		}
	}
	for _, layout := range []string{"2006-01-02T15:04:05.999999999Z07:00", "2006-01-02T15:04:05Z07:00"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t, nil
		}
	}
	if t, err := time.ParseInLocation("2006-01-02T15:04:05.999999999", s, zone); err == nil {
		return t, nil
	}
	if t, err := time.ParseInLocation("2006-01-02", s, zone); err == nil {
		return t, nil
	}
	return time.Time{}, fmt.Errorf("invalid xs:dateTime %q", s)
}

// wallClock writes instants as unbiased local time in one zone, without
// an offset, as Exchange 2010 and later emit CalendarEvent times
// (docs/protocol.md §1.6). It looks the zone's offset up once for each span
// of time the offset holds (a zone changes it twice a year at most), not
// once per instant: a detailed answer writes two times for every event.
type wallClock struct {
	zone     *time.Location
	off      int64 // the offset in seconds over [from, to)
	from, to int64 // Unix seconds; from == to: nothing looked up yet
	day      int64 // the local day (Unix seconds / 86400) date was written for
	date     [11]byte
}

func newWallClock(zone *time.Location) wallClock { return wallClock{zone: zone, day: math.MinInt64} }

// append appends t as wall time. A day's date is worked out once: the
// events of an answer come in order, many to a day.
func (c *wallClock) append(b []byte, t time.Time) []byte {
	sec := t.Unix()
	if sec < c.from || sec >= c.to {
		c.lookup(t)
	}
	local := sec + c.off
	day, s := local/86400, local%86400
	if s < 0 {
		day, s = day-1, s+86400
	}
	if day != c.day {
		y, mo, d := time.Unix(day*86400, 0).UTC().Date()
		if y < 0 || y > 9999 {
			return time.Unix(local, 0).UTC().AppendFormat(b, "2006-01-02T15:04:05")
		}
		c.date = [11]byte{byte('0' + y/1000), byte('0' + y/100%10), byte('0' + y/10%10), byte('0' + y%10), '-',
			byte('0' + int(mo)/10), byte('0' + int(mo)%10), '-', byte('0' + d/10), byte('0' + d%10), 'T'}
		c.day = day
	}
	h, mi, ss := s/3600, s/60%60, s%60
	b = append(b, c.date[:]...)
	return append(b, byte('0'+h/10), byte('0'+h%10), ':', byte('0'+mi/10), byte('0'+mi%10), ':', byte('0'+ss/10), byte('0'+ss%10))
}

// lookup finds the zone's offset at t and the span it holds over.
func (c *wallClock) lookup(t time.Time) {
	local := t.In(c.zone)
	_, off := local.Zone()
	start, end := local.ZoneBounds()
	c.off = int64(off)
	c.from, c.to = math.MinInt64, math.MaxInt64
	if !start.IsZero() {
		c.from = start.Unix()
	}
	if !end.IsZero() {
		c.to = end.Unix()
	}
	if sec := t.Unix(); sec < c.from || sec >= c.to {
		// Not a span the zone reports: this instant alone.
		c.from, c.to = sec, sec+1
	}
}

// parseXSDuration reads the xs:duration forms EWS uses for time zone
// biases and offsets: [-]PnDTnHnMnS.
func parseXSDuration(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	if !strings.HasPrefix(s, "P") || len(s) < 2 {
		return 0, fmt.Errorf("invalid xs:duration %q", s)
	}
	s = s[1:]
	var d time.Duration
	inTime := false
	num := ""
	parts := 0
	for _, c := range s {
		switch {
		case c >= '0' && c <= '9' || c == '.':
			num += string(c)
			continue
		case c == 'T':
			inTime = true
			continue
		}
		if num == "" {
			return 0, fmt.Errorf("invalid xs:duration %q", s)
		}
		f, err := strconv.ParseFloat(num, 64)
		if err != nil {
			return 0, fmt.Errorf("invalid xs:duration %q", s)
		}
		num = ""
		unit := map[rune]time.Duration{'D': 24 * time.Hour, 'H': time.Hour, 'S': time.Second}[c]
		if c == 'M' {
			if !inTime {
				return 0, fmt.Errorf("months are not allowed in a time zone duration %q", s)
			}
			unit = time.Minute
		}
		if unit == 0 {
			return 0, fmt.Errorf("invalid xs:duration %q", s)
		}
		d += time.Duration(f * float64(unit))
		parts++
	}
	if num != "" || parts == 0 {
		return 0, fmt.Errorf("invalid xs:duration %q", s)
	}
	if neg {
		d = -d
	}
	return d, nil
}

// formatXSDuration writes d as Exchange does: -PT1H, PT5H30M, PT0H.
func formatXSDuration(d time.Duration) string {
	var b strings.Builder
	if d < 0 {
		b.WriteByte('-')
		d = -d
	}
	b.WriteString("PT")
	h, m, s := int(d/time.Hour), int(d/time.Minute)%60, int(d/time.Second)%60
	if h > 0 || (m == 0 && s == 0) {
		fmt.Fprintf(&b, "%dH", h)
	}
	if m > 0 {
		fmt.Fprintf(&b, "%dM", m)
	}
	if s > 0 {
		fmt.Fprintf(&b, "%dS", s)
	}
	return b.String()
}
