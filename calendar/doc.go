// Package calendar is calfed's mailbox directory and free/busy source: it
// reads iCalendar data (RFC 5545) once, expands recurrences, and answers
// "which events of this mailbox overlap this window" from memory.
//
// Busy status follows docs/protocol.md §6: X-MICROSOFT-CDO-BUSYSTATUS, then TRANSP,
// then STATUS, then the attendee's own PARTSTAT; with none of them an event
// is Busy, RFC 5545's default (TRANSP defaults to OPAQUE). Exchange's own
// importer would say Tentative there; calendars reaching calfed come from
// CalDAV servers and files whose authors mean Busy.
package calendar
