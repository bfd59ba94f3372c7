package freebusy

import (
	"slices"
	"time"

	"github.com/calfed/calfed/calendar"
)

// BusyType is an item's free/busy status; the numbers are the merged
// digits. docs/protocol.md §6.
type BusyType = calendar.BusyType

// The busy types, as calendar defines them.
const (
	Free             = calendar.Free
	Tentative        = calendar.Tentative
	Busy             = calendar.Busy
	OOF              = calendar.OOF
	WorkingElsewhere = calendar.WorkingElsewhere
	NoData           = calendar.NoData
)

// shownBusy maps a busy type to what the caller's schema knows: legacy
// callers (before Exchange2012) know no WorkingElsewhere and get Free.
// docs/protocol.md §1.6.
func shownBusy(b BusyType, legacy bool) BusyType {
	if b == WorkingElsewhere && legacy {
		return Free
	}
	if b > WorkingElsewhere {
		return Tentative // out-of-range values, as Exchange
	}
	return b
}

// Merged builds the MergedFreeBusy digit string of docs/protocol.md §1.6 into dst:
// one digit per interval slot of [start, end), the heaviest status
// overlapping the slot. legacy selects the pre-Exchange2012 semantics.
func Merged(dst []byte, events []calendar.Event, start, end time.Time, interval time.Duration, legacy bool) []byte {
	dst, digits := slots(dst, start, end, interval)
	for i := range events {
		ev := &events[i]
		mark(digits, byte('0'+shownBusy(ev.Item.Busy, legacy)), ev.Start, ev.End, start, interval, legacy)
	}
	return dst
}

// mergedShown is Merged of events already redacted, whose Busy is shown
// as the caller's schema knows it: the same digits, read from the events
// in order rather than from each event's item.
func mergedShown(dst []byte, events []Event, start, end time.Time, interval time.Duration, legacy bool) []byte {
	dst, digits := slots(dst, start, end, interval)
	for i := range events {
		ev := &events[i]
		mark(digits, byte('0'+ev.Busy), ev.Start, ev.End, start, interval, legacy)
	}
	return dst
}

// slots appends the window's slots to dst, all Free, and returns them.
func slots(dst []byte, start, end time.Time, interval time.Duration) ([]byte, []byte) {
	n := int((end.Sub(start) + interval - 1) / interval)
	base := len(dst)
	dst = slices.Grow(dst, n)[:base+n]
	digits := dst[base:]
	if n > 0 {
		digits[0] = '0'
		for i := 1; i < n; i *= 2 {
			copy(digits[i:], digits[:i])
		}
	}
	return dst, digits
}

// mark sets digit in the slots [from, to) overlaps where it weighs more
// than what they hold.
func mark(digits []byte, digit byte, from, to, start time.Time, interval time.Duration, legacy bool) {
	w := digitWeight(digit, legacy)
	first := int(floorDiv(since(from, start), interval))
	last := int(ceilDiv(since(to, start), interval)) - 1
	first = max(first, 0)
	last = min(last, len(digits)-1)
	for i := first; i <= last; i++ {
		if w > digitWeight(digits[i], legacy) {
			digits[i] = digit
		}
	}
}

// digitWeight ranks merged digits: OOF > Busy > Tentative > Free, with
// WorkingElsewhere weighing as Free (so it never replaces Free) and NoData
// below everything. In legacy strings 4 is NoData. docs/protocol.md §1.6.
func digitWeight(d byte, legacy bool) int {
	switch d {
	case '0':
		return 1
	case '1':
		return 2
	case '2':
		return 3
	case '3':
		return 4
	case '4':
		if legacy {
			return 0
		}
		return 1
	}
	return 0
}

// since is t.Sub(start) for times without a monotonic clock reading, as
// calendar events and request windows are, computed from their seconds
// and nanoseconds: Sub checks its result for overflow by adding it back,
// which costs more than the rest of mark. Times more than 2^33 seconds
// (272 years) apart, where the check could matter, go through Sub.
func since(t, start time.Time) time.Duration {
	const maxSec = 1 << 33
	s := t.Unix() - start.Unix()
	if s > maxSec || s < -maxSec {
		return t.Sub(start)
	}
	return time.Duration(s)*time.Second + time.Duration(t.Nanosecond()-start.Nanosecond())
}

func floorDiv(a, b time.Duration) time.Duration {
	q := a / b
	if a%b != 0 && a < 0 {
		q--
	}
	return q
}

func ceilDiv(a, b time.Duration) time.Duration {
	q := a / b
	if a%b != 0 && a > 0 {
		q++
	}
	return q
}
