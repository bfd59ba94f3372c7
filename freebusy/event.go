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

	// What may be shown, copied from the item when the event is made:
	// a front writing tens of thousands of events then reads them in
	// order, not each event's item again wherever it lies in memory.
	details                                 bool // the item's details may be shown
	recurring, exception, meeting, reminder bool
	idLen                                   uint8
	subject, location                       string
	id                                      [maxID]byte // hex, idLen long
}

// maxID is the length of the longest instance id: the item's 12 bytes
// and a recurrence id of 64 bits, in hex (calendar.Event.AppendID).
const maxID = 24 + 16

// Subject is the item's subject; empty unless details may be shown.
func (e *Event) Subject() string { return e.subject }

// Location is the item's location; empty unless details may be shown.
func (e *Event) Location() string { return e.location }

// Meeting reports whether the item has an organiser or attendees.
func (e *Event) Meeting() bool { return e.meeting }

// Reminder reports whether the item has a reminder.
func (e *Event) Reminder() bool { return e.reminder }

// Recurring reports whether the instance belongs to a series.
func (e *Event) Recurring() bool { return e.recurring }

// Exception reports whether the instance is a modified occurrence.
func (e *Event) Exception() bool { return e.exception }

// AppendID appends the instance's stable opaque id (hex, as Exchange's)
// to b; nothing unless details may be shown.
func (e *Event) AppendID(b []byte) []byte { return append(b, e.id[:e.idLen]...) }

// redact keeps what the caller may see of ev.
func redact(ev *calendar.Event, detailed, legacy bool) Event {
	out := redactFields(ev, ev.Item.Busy, detailed, legacy)
	if out.shown() {
		out.setID(ev)
	}
	return out
}

// redactAll redacts events into dst (as long). Each event's item lies
// anywhere in memory, and on a large calendar reading it waits for
// memory. So the items of a run of events are read first, for their busy
// type, by a loop short enough for the processor to have all of them on
// the way at once; the rest of each event is then made from items in
// cache, and the ids, the longest to write, last.
func redactAll(dst []Event, events []calendar.Event, detailed, legacy bool) {
	const run = 64
	var busy [run]BusyType
	for lo := 0; lo < len(events); lo += run {
		hi := min(lo+run, len(events))
		for i := lo; i < hi; i++ {
			busy[i-lo] = events[i].Item.Busy
		}
		for i := lo; i < hi; i++ {
			redactInto(&dst[i], &events[i], busy[i-lo], detailed, legacy)
		}
		for i := lo; i < hi; i++ {
			if dst[i].shown() {
				dst[i].setID(&events[i])
			}
		}
	}
}

// redactFields is redact without the id; busy is the item's.
func redactFields(ev *calendar.Event, busy BusyType, detailed, legacy bool) Event {
	var out Event
	redactInto(&out, ev, busy, detailed, legacy)
	return out
}

// redactInto is redactFields writing into out, every field but the id's
// set, so that redactAll fills its events in place rather than copying
// each one made apart.
func redactInto(out *Event, ev *calendar.Event, busy BusyType, detailed, legacy bool) {
	it := ev.Item
	out.Start, out.End, out.Busy, out.Details = ev.Start, ev.End, shownBusy(busy, legacy), detailed
	out.Private, out.details = false, false
	out.recurring, out.exception, out.meeting, out.reminder = false, false, false, false
	out.idLen, out.subject, out.location = 0, "", ""
	switch {
	case !detailed:
	case it.Private:
		// Private items show only that they are private. docs/protocol.md §1.6.
		out.Private = true
	default:
		out.details = true
		out.subject, out.location = it.Subject(), it.Location()
		out.meeting, out.reminder = it.Meeting, it.Reminder
		out.recurring, out.exception = ev.Recurring, ev.Exception
	}
}

// shown reports whether the item's details may be shown.
func (e *Event) shown() bool { return e.details }

func (e *Event) setID(ev *calendar.Event) {
	e.idLen = uint8(copy(e.id[:], ev.AppendID(e.id[:0])))
}
