package calendar

import (
	"crypto/sha1"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/teambition/rrule-go"
)

// ErrTooManyInstances is returned when a series expands beyond the limit.
var ErrTooManyInstances = errors.New("calendar: recurrence expands to too many instances")

// Calendar answers window queries over one mailbox's items. It is immutable
// once built, so any number of goroutines may query it.
type Calendar struct {
	insts        []instance // single items and series instances inside the horizon, by start
	series       []*series
	from, to     int64 // horizon, Unix seconds
	maxDur       int64
	maxInstances int
}

type instance struct {
	start, end int64
	item       *Item
	recID      int64
	recurring  bool
	exception  bool
	fromSeries bool
}

type series struct {
	item      *Item
	timing    timing
	set       *rrule.Set
	overrides map[int64]*override // by RECURRENCE-ID, Unix seconds
	file      string
	line      int
}

type override struct {
	rid        int64
	start, end int64
	item       *Item
	cancelled  bool
}

func (c *Calendar) add(in instance) {
	if d := in.end - in.start; d > c.maxDur {
		c.maxDur = d
	}
	c.insts = append(c.insts, in)
}

func (c *Calendar) sort() {
	slices.SortFunc(c.insts, func(a, b instance) int {
		if a.start != b.start {
			return cmpInt(a.start, b.start)
		}
		return cmpInt(a.end, b.end)
	})
}

func cmpInt(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// overlaps reports whether [start, end) meets the window [from, to); an
// instant event meets it when it lies inside.
func overlaps(start, end, from, to int64) bool {
	if start == end {
		return start >= from && start < to
	}
	return start < to && end > from
}

// Len returns the number of stored instances (single items and series
// instances inside the horizon).
func (c *Calendar) Len() int { return len(c.insts) }

// Events returns the instances overlapping [from, to), whole (not clipped),
// ordered by start.
func (c *Calendar) Events(from, to time.Time) ([]Event, error) {
	return c.AppendEvents(nil, from, to)
}

// AppendEvents is Events appending to dst.
func (c *Calendar) AppendEvents(dst []Event, from, to time.Time) ([]Event, error) {
	f, t := from.Unix(), to.Unix()
	inHorizon := f >= c.from && t <= c.to
	lo, _ := slices.BinarySearchFunc(c.insts, f-c.maxDur, func(in instance, target int64) int { return cmpInt(in.start, target) })
	n0 := len(dst)
	for i := lo; i < len(c.insts) && c.insts[i].start < t; i++ {
		in := &c.insts[i]
		if in.fromSeries && !inHorizon {
			continue
		}
		if overlaps(in.start, in.end, f, t) {
			dst = append(dst, in.event())
		}
	}
	if inHorizon || len(c.series) == 0 {
		return dst, nil
	}
	for _, s := range c.series {
		err := s.expand(f, t, c.maxInstances, func(in instance) { dst = append(dst, in.event()) })
		if err != nil {
			return dst[:n0], err
		}
	}
	out := dst[n0:]
	slices.SortFunc(out, func(a, b Event) int { return a.Start.Compare(b.Start) })
	return dst, nil
}

func (in *instance) event() Event {
	return Event{
		Start:        time.Unix(in.start, 0).UTC(),
		End:          time.Unix(in.end, 0).UTC(),
		Item:         in.item,
		RecurrenceID: in.recID,
		Recurring:    in.recurring,
		Exception:    in.exception,
	}
}

// expand emits the instances of s overlapping [from, to): generated
// occurrences not replaced by an override, then the overrides.
func (s *series) expand(from, to int64, max int, emit func(instance)) error {
	next := s.set.Iterator()
	span := s.maxSpan()
	for n := 0; ; n++ {
		dt, ok := next()
		if !ok {
			break
		}
		if n >= max*4 {
			return s.tooMany(max)
		}
		st := dt.Unix()
		if st >= to {
			break
		}
		if st+span < from {
			continue
		}
		if _, replaced := s.overrides[st]; replaced {
			continue
		}
		end := s.timing.endOf(dt).Unix()
		if overlaps(st, end, from, to) {
			emit(instance{start: st, end: end, item: s.item, recID: st, recurring: true})
		}
	}
	for _, ov := range s.overrides {
		if ov.cancelled || !overlaps(ov.start, ov.end, from, to) {
			continue
		}
		emit(instance{start: ov.start, end: ov.end, item: ov.item, recID: ov.rid, recurring: true, exception: true})
	}
	return nil
}

// maxSpan bounds an occurrence's length in seconds (all-day spans can grow
// by an hour across a DST change).
func (s *series) maxSpan() int64 {
	if s.timing.allDay {
		return int64(s.timing.days)*86400 + 3600
	}
	return int64(s.timing.dur / time.Second)
}

func (s *series) tooMany(max int) error {
	return &ParseError{File: s.file, Line: s.line, UID: s.item.UID,
		Err: fmt.Errorf("%w (more than %d)", ErrTooManyInstances, max)}
}

// itemID derives a stable hex id from the UID (or, without one, the place
// the item was defined).
func itemID(uid, file string, line int) string {
	key := uid
	if key == "" {
		key = file + ":" + strconv.Itoa(line)
	}
	sum := sha1.Sum([]byte(key))
	return strings.ToUpper(hex.EncodeToString(sum[:12]))
}
