package calendar

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Kind is what a mailbox is, as Exchange's recipient types.
type Kind string

const (
	KindUser      Kind = "user"
	KindShared    Kind = "shared"
	KindRoom      Kind = "room"
	KindEquipment Kind = "equipment"
)

// ParseKind accepts the four kinds, case-insensitively.
func ParseKind(s string) (Kind, error) {
	switch k := Kind(strings.ToLower(s)); k {
	case KindUser, KindShared, KindRoom, KindEquipment:
		return k, nil
	case "":
		return KindUser, nil
	}
	return "", fmt.Errorf("calendar: unknown mailbox kind %q (want user, shared, room or equipment)", s)
}

// BusyType is an item's free/busy status; the numbers are PidLidBusyStatus
// values and the merged free/busy digits. [MS-OXOCAL] 2.2.1.2, docs/protocol.md §6.
type BusyType uint8

const (
	Free BusyType = iota
	Tentative
	Busy
	OOF
	WorkingElsewhere
	NoData
)

var busyNames = [...]string{"Free", "Tentative", "Busy", "OOF", "WorkingElsewhere", "NoData"}

func (b BusyType) String() string {
	if int(b) < len(busyNames) {
		return busyNames[b]
	}
	return "BusyType(" + strconv.Itoa(int(b)) + ")"
}

// Mailbox is one entry of the directory.
type Mailbox struct {
	Address      string // SMTP address, lower case
	DisplayName  string
	Kind         Kind
	Location     *time.Location // the mailbox's time zone
	WorkingHours *WorkingHours  // nil when none is configured
	Groups       []string
	AutoReply    *AutoReply // the automatic reply external senders get; nil when none is configured
	MailTip      string     // a custom MailTip shown to senders; empty for none
}

// AutoReply is a mailbox's external automatic reply ("out of office"), as
// configured. Zero Start or End leaves that side of the period open.
type AutoReply struct {
	Message    string
	Start, End time.Time
}

// Active reports whether the reply is switched on at now: no period, or
// now within [Start, End).
func (a *AutoReply) Active(now time.Time) bool {
	return a != nil && (a.Start.IsZero() || !now.Before(a.Start)) && (a.End.IsZero() || now.Before(a.End))
}

// WorkingHours are the mailbox's working days and hours in its own zone.
type WorkingHours struct {
	Days  []time.Weekday
	Start time.Duration // from midnight
	End   time.Duration // from midnight
}

// Item holds what all instances of one calendar item share. The items
// of a parsed calendar share one allocation, and their strings another.
type Item struct {
	Subject  string
	Location string
	Busy     BusyType
	Private  bool // CLASS other than PUBLIC
	Meeting  bool // has an organizer or attendees
	Reminder bool // has a VALARM
	AllDay   bool
	id       [12]byte // see itemID
}

// Event is one instance of an item overlapping a query window.
type Event struct {
	Start, End   time.Time
	Item         *Item
	RecurrenceID int64 // Unix seconds of the original start of an occurrence; 0 for single items
	Recurring    bool  // an occurrence or exception of a series
	Exception    bool  // a modified occurrence
}

// ID is a stable opaque identifier for the instance, hex as Exchange's.
func (e Event) ID() string { return string(e.AppendID(nil)) }

// AppendID appends ID to b without allocating.
func (e Event) AppendID(b []byte) []byte {
	const digits = "0123456789ABCDEF"
	if e.Item.id != ([12]byte{}) { // an Item made outside Parse has none
		for _, x := range e.Item.id {
			b = append(b, digits[x>>4], digits[x&0xF])
		}
	}
	if !e.Recurring {
		return b
	}
	v := uint64(e.RecurrenceID)
	n := 1
	for x := v >> 4; x != 0; x >>= 4 {
		n++
	}
	for i := n - 1; i >= 0; i-- {
		b = append(b, digits[(v>>(4*uint(i)))&0xF])
	}
	return b
}
