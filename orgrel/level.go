package orgrel

import (
	"fmt"
	"strings"
)

// Level is a free/busy access level: a relationship's FreeBusyAccessLevel,
// or a mailbox's external sharing. Ordered: None < AvailabilityOnly <
// LimitedDetails.
type Level int

const (
	None             Level = iota // nothing
	AvailabilityOnly              // times and busy types only
	LimitedDetails                // times, busy types, subject and location
)

var levelNames = [...]string{"None", "AvailabilityOnly", "LimitedDetails"}

func (l Level) String() string {
	if l >= None && int(l) < len(levelNames) {
		return levelNames[l]
	}
	return fmt.Sprintf("Level(%d)", int(l))
}

// ParseLevel accepts the Exchange names, case-insensitively.
func ParseLevel(s string) (Level, error) {
	for i, n := range levelNames {
		if strings.EqualFold(strings.TrimSpace(s), n) {
			return Level(i), nil
		}
	}
	return None, fmt.Errorf("orgrel: unknown access level %q (want None, AvailabilityOnly or LimitedDetails)", s)
}

func (l Level) MarshalText() ([]byte, error) { return []byte(l.String()), nil }

func (l *Level) UnmarshalText(b []byte) error {
	v, err := ParseLevel(string(b))
	if err != nil {
		return err
	}
	*l = v
	return nil
}
