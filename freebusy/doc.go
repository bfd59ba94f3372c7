// Package freebusy answers free/busy questions independently of any wire
// protocol: for each mailbox asked about, it decides what the caller may
// see (the organisation relationship, the mailbox's own sharing, the
// relationship's scope), reads the calendar, and returns the view actually
// granted with events already redacted for that caller, the merged digit
// string with the semantics of the caller's schema, and the mailbox's
// working hours. Failures for one mailbox are outcomes, not Go errors.
//
// Every front (EWS GetUserAvailability, an iCalendar free/busy URL, a JSON
// API) renders these results; none of them applies privacy rules itself.
// The rules follow Exchange's availability service: docs/protocol.md §1.5 (views and
// access levels) and docs/protocol.md §1.6 (building the data).
package freebusy
