// Package caldav keeps mailboxes' calendars in step with a CalDAV server
// (RFC 4791) and serves each one as a calendar.Source from memory.
//
// A Server is one CalDAV server with its credentials, schedule and
// bounds; a Source is one mailbox on it. Each sync finds the mailbox's
// calendars (discovery: RFC 6764 well-known URI, current-user-principal,
// calendar-home-set), counts those that take part in free/busy (not
// schedule-calendar-transp transparent, RFC 6638 §9.1), and fetches only
// what changed: sync-collection (RFC 6578) where the server offers it,
// otherwise the collection's ctag and its members' ETags, then
// calendar-multiget (RFC 4791 §7.9) for the changed objects. The objects
// are kept as the server sent them, so that the calendar package reads
// them as leniently, and reports their problems as loudly, as .ics files.
//
// Freshness: while a server fails, a mailbox keeps serving its last good
// copy up to the server's MaxStaleness; past it, Stamp fails with an
// error wrapping calendar.ErrUnavailable that names the server and the
// reason. Servers sync on their own schedules with their own bounded
// concurrency, so one server's outage never holds up another's mailboxes.
// docs/protocol.md §9 lists the CalDAV facts relied on.
package caldav
