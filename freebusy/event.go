package freebusy

import (
	"time"

	"github.com/calfed/calfed/calendar"
)

// Event is one busy period as a caller may see it. Details (subject,
// location, flags, id) are there only when the granted view is detailed,
// and of a private item only that it is private: the accessors return the
// zero value otherwise, so no front can show more. docs/protocol.md §1.6.
type Event struct {
	Start, End time.Time
	Busy       BusyType // already mapped to the caller's schema

	// Details reports whether the view is detailed: the front shows the
	// detail fields (then empty for a private item).
	Details bool
	// Private is set, in a detailed view, for an item marked private.
	Private bool

	recurring, exception bool
	item                 *calendar.Item // nil unless details may be shown
	rid                  int64
}

// Subject is the item's subject; empty unless details may be shown.
func (e *Event) Subject() string {
	if e.item == nil {
		return ""
	}
	return e.item.Subject
}

// Location is the item's location; empty unless details may be shown.
func (e *Event) Location() string {
	if e.item == nil {
		return ""
	}
	return e.item.Location
}

// Meeting reports whether the item has an organiser or attendees.
func (e *Event) Meeting() bool { return e.item != nil && e.item.Meeting }

// Reminder reports whether the item has a reminder.
func (e *Event) Reminder() bool { return e.item != nil && e.item.Reminder }

// Recurring reports whether the instance belongs to a series.
func (e *Event) Recurring() bool { return e.item != nil && e.recurring }

// Exception reports whether the instance is a modified occurrence.
func (e *Event) Exception() bool { return e.item != nil && e.exception }

// AppendID appends the instance's stable opaque id (hex, as Exchange's)
// to b; nothing unless details may be shown.
func (e *Event) AppendID(b []byte) []byte {
	if e.item == nil {
		return b
	}
	return calendar.Event{Item: e.item, RecurrenceID: e.rid, Recurring: e.recurring}.AppendID(b)
}

// redact keeps what the caller may see of ev.
func redact(ev *calendar.Event, detailed, legacy bool) Event {
	it := ev.Item
	out := Event{Start: ev.Start, End: ev.End, Busy: shownBusy(it.Busy, legacy), Details: detailed}
	switch {
	case !detailed:
	case it.Private:
		// Private items show only that they are private. docs/protocol.md §1.6.
		out.Private = true
	default:
		out.item, out.rid = it, ev.RecurrenceID
		out.recurring, out.exception = ev.Recurring, ev.Exception
	}
	return out
}
