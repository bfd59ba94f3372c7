package calendar

import (
	"encoding/binary"
	"fmt"
	"math"
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
// of a parsed calendar share one allocation, and their texts another: a
// mailbox holds hundreds of items, so an Item keeps where its subject and
// location are in its calendar's texts (see itemTexts) rather than two
// strings, and is 40 bytes rather than 56.
type Item struct {
	texts    *string // its calendar's texts; nil when it has none
	subject  uint32  // where the SUMMARY is in *texts
	location uint32  // and the LOCATION
	Busy     BusyType
	Private  bool // CLASS other than PUBLIC
	Meeting  bool // has an organizer or attendees
	Reminder bool // has a VALARM
	AllDay   bool
	id       [12]byte // see itemID
}

// Subject is the item's SUMMARY.
func (it *Item) Subject() string { return textAt(it.texts, it.subject) }

// Location is the item's LOCATION.
func (it *Item) Location() string { return textAt(it.texts, it.location) }

// WithText returns a copy of it with the subject and location given, for
// items made outside Parse.
func (it Item) WithText(subject, location string) *Item {
	var t itemTexts
	it.subject, it.location = t.add(subject), t.add(location)
	it.texts = t.keep()
	return &it
}

// itemTexts builds a calendar's texts: each distinct text once, as its
// length (a uvarint) and its bytes, after an empty text at offset 0, so
// an item's zero offsets read as no subject and no location.
type itemTexts struct {
	buf []byte
	at  map[string]uint32
}

// add returns where s is in the texts, adding it if it is new. s may be
// the decoded file's: the texts keep a copy.
func (t *itemTexts) add(s string) uint32 {
	if s == "" {
		return 0
	}
	if len(t.buf) == 0 {
		t.buf = append(t.buf, 0)
	}
	if off, ok := t.at[s]; ok {
		return off
	}
	if uint64(len(t.buf)) > math.MaxUint32-uint64(len(s))-binary.MaxVarintLen64 {
		panic("calendar: a calendar's texts exceed 4 GiB") // Parse refuses such files (checkSize)
	}
	off := uint32(len(t.buf))
	t.buf = binary.AppendUvarint(t.buf, uint64(len(s)))
	t.buf = append(t.buf, s...)
	if t.at == nil {
		t.at = map[string]uint32{}
	}
	t.at[s] = off
	return off
}

// keep returns the texts in one allocation of their own size.
func (t *itemTexts) keep() *string {
	s := string(t.buf)
	return &s
}

func textAt(texts *string, off uint32) string {
	if texts == nil || off == 0 {
		return ""
	}
	s := (*texts)[off:]
	n, k := uvarint(s)
	return s[k : k+n]
}

// uvarint is binary.Uvarint over a string, without converting it.
func uvarint(s string) (n, k int) {
	var x uint64
	var shift uint
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < 0x80 {
			return int(x | uint64(c)<<shift), i + 1
		}
		x |= uint64(c&0x7f) << shift
		shift += 7
	}
	panic("calendar: an item's text offset is not in its texts")
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
