package ews

import (
	"time"

	"github.com/calfed/calfed/calendar"
	"github.com/calfed/calfed/orgrel"
)

// allowedView is the widest view a level permits. NOTES §1.5.
func allowedView(l orgrel.Level) ViewType {
	switch l {
	case orgrel.AvailabilityOnly:
		return ViewFreeBusy
	case orgrel.LimitedDetails:
		return ViewDetailed
	}
	return ViewNone
}

// returnedView is Exchange's GetReturnView: the numeric minimum of the
// requested and the allowed view, keeping the merged bit when it was asked
// for. NOTES §1.5.
func returnedView(requested ViewType, l orgrel.Level) ViewType {
	allowed := allowedView(l)
	if requested.merged() {
		return min(requested|1, allowed|1)
	}
	return min(requested, allowed)
}

// wireBusy maps a busy type to what the request's version may see: legacy
// requests know no WorkingElsewhere and get Free. NOTES §1.6.
func wireBusy(b calendar.BusyType, legacy bool) calendar.BusyType {
	if b == calendar.WorkingElsewhere && legacy {
		return calendar.Free
	}
	if b > calendar.WorkingElsewhere {
		return calendar.Tentative // out-of-range values, as Exchange
	}
	return b
}

// mergedFreeBusy builds the MergedFreeBusy digit string of NOTES §1.6:
// one digit per interval slot, the heaviest status overlapping the slot.
func mergedFreeBusy(dst []byte, events []calendar.Event, start, end time.Time, interval time.Duration, legacy bool) []byte {
	span := end.Sub(start)
	slots := int((span + interval - 1) / interval)
	base := len(dst)
	for range slots {
		dst = append(dst, '0')
	}
	digits := dst[base:]
	for _, ev := range events {
		b := wireBusy(ev.Item.Busy, legacy)
		digit := byte('0' + b)
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
// below everything. In legacy strings 4 is NoData. NOTES §1.6.
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
