package wintz

import (
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Transition is the yearly change into one period, as Windows states it:
// on the DayOrder-th (5 = last) Weekday of Month, at Time of local wall-clock
// time in the offset in force before the change. EWS SerializableTimeZoneTime.
type Transition struct {
	Bias     int           // minutes added to Rule.Bias in this period
	Month    int           // 1–12; 0 means the zone has no such transition
	DayOrder int           // 1–4, 5 = last
	Weekday  time.Weekday  // day of the week
	Time     time.Duration // time of day of the change
}

// Rule is a zone with at most one daylight period a year, in Windows terms:
// UTC = local + Bias (+ the period's Bias). EWS SerializableTimeZone.
type Rule struct {
	Bias     int // minutes
	Standard Transition
	Daylight Transition
}

// ErrBadRule is returned for a rule that describes no possible zone.
var ErrBadRule = errors.New("wintz: invalid time zone rule")

// HasDST reports whether r has a daylight period.
func (r Rule) HasDST() bool {
	return r.Standard.Month != 0 && r.Daylight.Month != 0 && r.Standard.Bias != r.Daylight.Bias
}

// Validate checks the ranges EWS allows.
func (r Rule) Validate() error {
	if r.Bias < -24*60 || r.Bias > 24*60 {
		return fmt.Errorf("%w: bias %d minutes", ErrBadRule, r.Bias)
	}
	for _, t := range []Transition{r.Standard, r.Daylight} {
		if t.Month == 0 {
			continue
		}
		switch {
		case t.Month < 1 || t.Month > 12:
			return fmt.Errorf("%w: month %d", ErrBadRule, t.Month)
		case t.DayOrder < 1 || t.DayOrder > 5:
			return fmt.Errorf("%w: day order %d", ErrBadRule, t.DayOrder)
		case t.Weekday < time.Sunday || t.Weekday > time.Saturday:
			return fmt.Errorf("%w: weekday %d", ErrBadRule, t.Weekday)
		case t.Time < 0 || t.Time >= 24*time.Hour:
			return fmt.Errorf("%w: time %v", ErrBadRule, t.Time)
		case t.Bias < -24*60 || t.Bias > 24*60:
			return fmt.Errorf("%w: period bias %d", ErrBadRule, t.Bias)
		}
	}
	return nil
}

// POSIX returns r as a POSIX TZ string, e.g. "STD-1DST-2,M3.5.0/2,M10.5.0/3".
func (r Rule) POSIX() string {
	var b strings.Builder
	b.WriteString("STD")
	b.WriteString(posixOffset(r.Bias + r.Standard.Bias))
	if !r.HasDST() {
		return b.String()
	}
	b.WriteString("DST")
	b.WriteString(posixOffset(r.Bias + r.Daylight.Bias))
	for _, t := range []Transition{r.Daylight, r.Standard} {
		fmt.Fprintf(&b, ",M%d.%d.%d/%s", t.Month, t.DayOrder, int(t.Weekday), posixTime(t.Time))
	}
	return b.String()
}

// posixOffset renders minutes west of UTC (the Windows bias sign) as POSIX
// does: hours positive west.
func posixOffset(min int) string {
	sign := ""
	if min < 0 {
		sign, min = "-", -min
	}
	return fmt.Sprintf("%s%d:%02d", sign, min/60, min%60)
}

func posixTime(d time.Duration) string {
	s := int(d / time.Second)
	return fmt.Sprintf("%d:%02d:%02d", s/3600, s/60%60, s%60)
}

// Location builds a *time.Location that follows r in every year. It
// synthesises TZif version 2 data with no transitions and r as the footer
// rule, which the time package applies to all instants (RFC 8536 §3.3).
func (r Rule) Location(name string) (*time.Location, error) {
	if err := r.Validate(); err != nil {
		return nil, err
	}
	loc, err := time.LoadLocationFromTZData(name, tzif(-(r.Bias+r.Standard.Bias)*60, r.POSIX()))
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrBadRule, err)
	}
	return loc, nil
}

func tzif(stdOffsetSeconds int, footer string) []byte {
	const desig = "STD\x00"
	var b []byte
	block := func() {
		// ttinfo: utoff, isdst, desigidx; then the designations.
		b = binary.BigEndian.AppendUint32(b, uint32(int32(stdOffsetSeconds)))
		b = append(b, 0, 0)
		b = append(b, desig...)
	}
	header := func() {
		b = append(b, "TZif2"...)
		b = append(b, make([]byte, 15)...)
		for _, n := range []uint32{0, 0, 0, 0, 1, uint32(len(desig))} {
			b = binary.BigEndian.AppendUint32(b, n)
		}
	}
	header()
	block()
	header()
	block()
	b = append(b, '\n')
	b = append(b, footer...)
	b = append(b, '\n')
	return b
}

// RuleFor reads the rule loc follows in year: the standard offset and, when
// the zone changes to a larger offset and back within the year, the two
// transitions. Windows knows no negative daylight saving, so the period with
// the larger offset is the daylight one whatever the IANA data calls it.
func RuleFor(loc *time.Location, year int) Rule {
	start := time.Date(year, 1, 1, 0, 0, 0, 0, loc)
	type change struct {
		at       time.Time
		from, to int // UTC offsets in seconds
	}
	var changes []change
	t := start
	for i := 0; i < 16; i++ {
		_, end := t.ZoneBounds()
		if end.IsZero() || end.Year() > year {
			break
		}
		_, from := t.Zone()
		_, to := end.Zone()
		if from != to {
			changes = append(changes, change{end, from, to})
		}
		t = end
	}
	_, janOff := start.Zone()
	_, decOff := time.Date(year, 12, 31, 23, 0, 0, 0, loc).Zone()
	var up, down *change
	for i := range changes {
		c := &changes[i]
		if c.to > c.from {
			up = c
		} else {
			down = c
		}
	}
	if up == nil || down == nil {
		return Rule{Bias: -decOff / 60}
	}
	std, dst := down.to, up.to
	if janOff != std && janOff != dst {
		std = decOff
	}
	return Rule{
		Bias:     -std / 60,
		Standard: transitionAt(down.at, down.from, 0),
		Daylight: transitionAt(up.at, up.from, -(dst-std)/60),
	}
}

func transitionAt(at time.Time, fromOffset int, bias int) Transition {
	wall := at.UTC().Add(time.Duration(fromOffset) * time.Second)
	day := wall.Day()
	daysInMonth := time.Date(wall.Year(), wall.Month()+1, 0, 0, 0, 0, 0, time.UTC).Day()
	order := (day-1)/7 + 1
	if day+7 > daysInMonth {
		order = 5
	}
	return Transition{
		Bias:     bias,
		Month:    int(wall.Month()),
		DayOrder: order,
		Weekday:  wall.Weekday(),
		Time:     time.Duration(wall.Hour())*time.Hour + time.Duration(wall.Minute())*time.Minute + time.Duration(wall.Second())*time.Second,
	}
}

// Change is a zone's change of offset at an instant.
type Change struct {
	At     time.Time
	Offset int // seconds east of UTC from At on
	DST    bool
}

// History is a zone that has initial as its offset (seconds east of UTC)
// until the first of changes, then each change's offset in turn, and
// the last one for ever after: a VTIMEZONE written as dated observances.
// It synthesises TZif version 2 data with those transitions.
func History(name string, initial int, changes []Change) (*time.Location, error) {
	type info struct {
		off int
		dst bool
	}
	types := []info{{initial, false}}
	index := map[info]int{types[0]: 0}
	var times []int64
	var idx []byte
	for _, c := range changes {
		k := info{c.Offset, c.DST}
		i, ok := index[k]
		if !ok {
			if len(types) == 255 {
				return nil, fmt.Errorf("%w: too many distinct offsets", ErrBadRule)
			}
			i = len(types)
			index[k] = i
			types = append(types, k)
		}
		times = append(times, c.At.Unix())
		idx = append(idx, byte(i))
	}
	const desig = "LMT\x00"
	var b []byte
	header := func(timecnt, typecnt int) {
		b = append(b, "TZif2"...)
		b = append(b, make([]byte, 15)...)
		for _, n := range []int{0, 0, 0, timecnt, typecnt, len(desig)} {
			b = binary.BigEndian.AppendUint32(b, uint32(n))
		}
	}
	// A version 1 block with one type and no transitions, which readers of
	// version 2 data skip; then the version 2 block.
	header(0, 1)
	b = binary.BigEndian.AppendUint32(b, uint32(int32(initial)))
	b = append(b, 0, 0)
	b = append(b, desig...)
	header(len(times), len(types))
	for _, t := range times {
		b = binary.BigEndian.AppendUint64(b, uint64(t))
	}
	b = append(b, idx...)
	for _, t := range types {
		b = binary.BigEndian.AppendUint32(b, uint32(int32(t.off)))
		dst := byte(0)
		if t.dst {
			dst = 1
		}
		b = append(b, dst, 0)
	}
	b = append(b, desig...)
	b = append(b, '\n', '\n')
	loc, err := time.LoadLocationFromTZData(name, b)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrBadRule, err)
	}
	return loc, nil
}
