package freebusy

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/calfed/calfed/orgrel"
)

// View is a free/busy view with Exchange's FreeBusyViewType flag values,
// so that the granted view is a numeric minimum. docs/protocol.md §1.5.
type View int

const (
	ViewNone           View = 0
	ViewMergedOnly     View = 1
	ViewFreeBusy       View = 32
	ViewFreeBusyMerged View = 33
	ViewDetailed       View = 96
	ViewDetailedMerged View = 97
)

var viewNames = map[View]string{
	ViewNone: "None", ViewMergedOnly: "MergedOnly", ViewFreeBusy: "FreeBusy",
	ViewFreeBusyMerged: "FreeBusyMerged", ViewDetailed: "Detailed", ViewDetailedMerged: "DetailedMerged",
}

func (v View) String() string {
	if s, ok := viewNames[v]; ok {
		return s
	}
	return "View(" + strconv.Itoa(int(v)) + ")"
}

// ParseView reads a FreeBusyViewType name. The schema makes it a list; a
// list of several values is read as their union, as Exchange's flags enum.
func ParseView(s string) (View, error) {
	fields := strings.Fields(s)
	if len(fields) == 0 {
		return 0, fmt.Errorf("freebusy: empty view")
	}
	var v View
	for _, f := range fields {
		found := false
		for t, name := range viewNames {
			if name == f {
				v |= t
				found = true
			}
		}
		if !found {
			return 0, fmt.Errorf("freebusy: unknown view %q", f)
		}
	}
	return v, nil
}

// Merged reports whether the view carries the merged digit string.
func (v View) Merged() bool { return v&1 != 0 }

// Events reports whether the view carries busy periods.
func (v View) Events() bool { return v >= ViewFreeBusy }

// Detailed reports whether the view carries subject and location.
func (v View) Detailed() bool { return v >= ViewDetailed }

// Allowed is the widest view an access level permits. docs/protocol.md §1.5.
func Allowed(l orgrel.Level) View {
	switch l {
	case orgrel.AvailabilityOnly:
		return ViewFreeBusy
	case orgrel.LimitedDetails:
		return ViewDetailed
	}
	return ViewNone
}

// Granted is Exchange's GetReturnView: the numeric minimum of the
// requested and the allowed view, keeping the merged bit when it was asked
// for. docs/protocol.md §1.5.
func Granted(requested View, l orgrel.Level) View {
	allowed := Allowed(l)
	if requested.Merged() {
		return min(requested|1, allowed|1)
	}
	return min(requested, allowed)
}
