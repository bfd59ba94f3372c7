// Package userfb serves free/busy to our own users' calendar clients and
// web schedulers, for our mailboxes and partners' alike, from the one
// free/busy core (freebusy.Service.Ask):
//
//   - an iCalendar free/busy URL, GET /freebusy/{address}.vfb (also .ifb,
//     .ics, or the bare address), answering a VFREEBUSY (RFC 5545 §3.6.4)
//     as text/calendar: the form Outlook's Internet Free/Busy search
//     location fills in (https://server/freebusy/%NAME%@%SERVER%.vfb, or
//     %EMAIL%.vfb) and Evolution's and Thunderbird's free/busy URL
//     templates (…/freebusy/%u@%d.vfb). ?start= and ?end= choose the
//     window; without them it is the week before today and seven weeks
//     after, within the server's longest window;
//   - a JSON endpoint, GET or POST /freebusy/v1/availability, with busy
//     periods and their types per attendee, details where the attendee's
//     sharing allows, and an error per attendee that has none.
//
// Every request is signed in (userauth); the user asks on their own
// behalf, so partners see who asks (the delegation token names them).
//
// CalDAV scheduling free/busy (RFC 6638 §3.2.10, a POST of a VFREEBUSY
// request to the user's schedule outbox) is not served: a client finds
// the outbox through the user's principal (PROPFIND of
// schedule-outbox-URL, RFC 6638 §2.1), which needs a CalDAV server with
// principals and calendar homes for our users, and calfed has none; the
// calendar server our users' clients already use answers that POST.
package userfb
