package freebusy

import (
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
	span := end.Sub(start)
	slots := int((span + interval - 1) / interval)
	base := len(dst)
	for range slots {
		dst = append(dst, '0')
	}
	digits := dst[base:]
	for _, ev := range events {
		digit := byte('0' + shownBusy(ev.Item.Busy, legacy))
		w := digitWeight(digit, legacy)
		first := int(floorDiv(ev.Start.Sub(start), interval))
		last := int(ceilDiv(ev.End.Sub(start), interval)) - 1
		first = max(first, 0)
		last = min(last, slots-1)
		for i := first; i <= last; i++ {
			if w > digitWeight(digits[i], legacy) {
				digits[i] = digit
			}
		}
	}
	return dst
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
