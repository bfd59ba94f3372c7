package ews

import (
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/calfed/calfed/freebusy"
	"github.com/calfed/calfed/internal/soap"
	"github.com/calfed/calfed/internal/wintz"
)

// ServerVersion is what calfed announces in ServerVersionInfo: Exchange
// 2016 CU23's build, a version every client knows and that gives Exchange
// requesters the new merged digit semantics. docs/protocol.md §1.4.
var ServerVersion = struct {
	Major, Minor, Build, Revision int
	Schema                        string
}{15, 1, 2507, 6, "V2017_07_11"}

func writeServerVersion(w *soap.Writer) {
	w.Empty("h:ServerVersionInfo",
		"MajorVersion", strconv.Itoa(ServerVersion.Major),
		"MinorVersion", strconv.Itoa(ServerVersion.Minor),
		"MajorBuildNumber", strconv.Itoa(ServerVersion.Build),
		"MinorBuildNumber", strconv.Itoa(ServerVersion.Revision),
		"Version", ServerVersion.Schema,
		"xmlns:h", nsTypes, "xmlns", nsTypes)
}

// The response takes the shape Exchange's serializer produces: default
// namespaces, messages for the wrappers and types for FreeBusyView's
// children. docs/protocol.md §1.4.

// writeSuggestions answers SuggestionsViewOptions, when asked. Federated
// requesters never ask; they compute suggestions from the merged string.
// docs/protocol.md §1.2.
func (h *Handler) writeSuggestions(w *soap.Writer, q *query) {
	if !q.suggestions {
		return
	}
	w.Start("SuggestionsResponse")
	h.writeResponseMessage(w, &mailboxError{Code: ErrorInvalidRequest, Message: "Meeting suggestions are not available from this server; request FreeBusyViewOptions and compute suggestions from the merged free/busy string."})
	w.End("SuggestionsResponse")
}

func (h *Handler) writeResponseMessage(w *soap.Writer, e *mailboxError) {
	if e == nil {
		w.Start("ResponseMessage", "ResponseClass", "Success")
		w.Elem("ResponseCode", "NoError")
		w.End("ResponseMessage")
		return
	}
	w.Start("ResponseMessage", "ResponseClass", "Error")
	text := e.Text
	if text == "" {
		text = e.Message
	}
	w.Elem("MessageText", text)
	w.Elem("ResponseCode", e.Code.Name)
	w.ElemInt("DescriptiveLinkKey", 0)
	w.Start("MessageXml")
	if e.Code.Exception != "" {
		w.Elem("ExceptionType", e.Code.Exception, "xmlns", nsErrors)
	}
	if e.Code.Number != 0 {
		w.Start("ExceptionCode", "xmlns", nsErrors)
		w.B = strconv.AppendInt(w.B, int64(e.Code.Number), 10)
		w.End("ExceptionCode")
	}
	w.Elem("ExceptionMessage", e.Message, "xmlns", nsErrors)
	w.Elem("ExceptionServerName", h.opt.ServerName, "xmlns", nsErrors)
	w.End("MessageXml")
	w.End("ResponseMessage")
}

func (h *Handler) writeFreeBusyResponse(p *part, q *query, r *freebusy.Result) {
	w := &p.Writer
	w.Start("FreeBusyResponse")
	e := outcomeError(r, h.opt.ServerName)
	h.writeResponseMessage(w, e)
	w.Start("FreeBusyView")
	if e != nil {
		w.Elem("FreeBusyViewType", "None", "xmlns", nsTypes)
		w.End("FreeBusyView")
		w.End("FreeBusyResponse")
		return
	}
	w.Elem("FreeBusyViewType", r.View.String(), "xmlns", nsTypes)
	if r.View.Merged() {
		w.Start("MergedFreeBusy", "xmlns", nsTypes)
		w.B = append(w.B, r.Merged...)
		w.End("MergedFreeBusy")
	}
	// An empty CalendarEventArray is left out, as Exchange 2013 and
	// Exchange Online do. docs/protocol.md §1.4.
	if r.View.Events() && len(r.Events) > 0 {
		w.Start("CalendarEventArray", "xmlns", nsTypes)
		clock := newWallClock(q.zone)
		// A run of events' subjects and locations are read first, by a
		// loop short enough for the processor to fetch them together: on
		// a large calendar each lies anywhere in memory, and reading them
		// one event at a time waits for memory once per string.
		const run = 64
		var plain [run]bool
		for lo := 0; lo < len(r.Events); lo += run {
			evs := r.Events[lo:min(lo+run, len(r.Events))]
			for i := range evs {
				plain[i] = plainText(evs[i].Subject()) && plainText(evs[i].Location())
			}
			for i := range evs {
				writeEvent(w, &evs[i], &clock, plain[i])
				p.spill()
			}
		}
		w.End("CalendarEventArray")
	}
	if wh := r.WorkingHours; wh != nil {
		zone := r.Zone
		if zone == nil {
			zone = time.UTC
		}
		writeWorkingHours(w, wh, zone, q.Start.Year())
	}
	w.End("FreeBusyView")
	w.End("FreeBusyResponse")
}

// writeEvent writes one busy period; what it holds was decided by the
// freebusy service (docs/protocol.md §1.6), this only lays it out. The
// fixed markup is appended whole: a detailed answer is mostly this.
//
// plain says the subject and location need no escaping (plainText).
func writeEvent(w *soap.Writer, ev *freebusy.Event, clock *wallClock, plain bool) {
	// Appended to a local slice, stored back once: w.B would be loaded
	// and stored again around every call.
	b := append(w.B, "<CalendarEvent><StartTime>"...)
	b = clock.append(b, ev.Start)
	b = append(b, "</StartTime><EndTime>"...)
	b = clock.append(b, ev.End)
	b = append(b, "</EndTime><BusyType>"...)
	b = append(b, ev.Busy.String()...)
	b = append(b, "</BusyType>"...)
	if ev.Details {
		b = append(b, "<CalendarEventDetails>"...)
		if !ev.Private {
			b = append(b, "<ID>"...)
			b = ev.AppendID(b)
			b = append(b, "</ID><Subject>"...)
			if plain {
				b = append(b, ev.Subject()...)
			} else {
				w.B = b
				w.Text(ev.Subject())
				b = w.B
			}
			b = append(b, "</Subject><Location>"...)
			if plain {
				b = append(b, ev.Location()...)
			} else {
				w.B = b
				w.Text(ev.Location())
				b = w.B
			}
			b = append(b, "</Location>"...)
		}
		b = appendBool(b, "<IsMeeting>", ev.Meeting(), "</IsMeeting>")
		b = appendBool(b, "<IsRecurring>", ev.Recurring(), "</IsRecurring>")
		b = appendBool(b, "<IsException>", ev.Exception(), "</IsException>")
		b = appendBool(b, "<IsReminderSet>", ev.Reminder(), "</IsReminderSet>")
		b = appendBool(b, "<IsPrivate>", ev.Private, "</IsPrivate>")
		b = append(b, "</CalendarEventDetails>"...)
	}
	w.B = append(b, "</CalendarEvent>"...)
}

func appendBool(b []byte, start string, v bool, end string) []byte {
	b = append(b, start...)
	if v {
		b = append(b, "true"...)
	} else {
		b = append(b, "false"...)
	}
	return append(b, end...)
}

var dayNames = [...]string{"Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"}

// writeWorkingHours writes the mailbox's working hours with its zone as a
// legacy SerializableTimeZone for the window's year, in exactly one
// WorkingPeriod: Exchange's requester and the EWS clients read one
// period per day set, and calfed's working hours have one. docs/protocol.md §1.6.
func writeWorkingHours(w *soap.Writer, wh *freebusy.WorkingHours, loc *time.Location, year int) {
	w.Start("WorkingHours", "xmlns", nsTypes)
	writeSerializableTimeZone(w, ruleFor(loc, year))
	w.Start("WorkingPeriodArray")
	w.Start("WorkingPeriod")
	days := make([]string, len(wh.Days))
	for i, d := range wh.Days {
		days[i] = dayNames[d]
	}
	w.Elem("DayOfWeek", strings.Join(days, " "))
	w.ElemInt("StartTimeInMinutes", int(wh.Start/time.Minute))
	w.ElemInt("EndTimeInMinutes", int(wh.End/time.Minute))
	w.End("WorkingPeriod")
	w.End("WorkingPeriodArray")
	w.End("WorkingHours")
}

// lastRule is the zone rule ruleFor worked out last. Working it out
// walks the year's transitions; most answers in a row are for the same
// zone and year.
var lastRule atomic.Pointer[zoneRule]

type zoneRule struct {
	loc  *time.Location
	year int
	rule wintz.Rule
}

// ruleFor is wintz.RuleFor, remembering the last answer.
func ruleFor(loc *time.Location, year int) wintz.Rule {
	if z := lastRule.Load(); z != nil && z.loc == loc && z.year == year {
		return z.rule
	}
	r := wintz.RuleFor(loc, year)
	lastRule.Store(&zoneRule{loc, year, r})
	return r
}

func writeSerializableTimeZone(w *soap.Writer, r wintz.Rule) {
	w.Start("TimeZone")
	w.ElemInt("Bias", r.Bias)
	for _, t := range []struct {
		name string
		tr   wintz.Transition
	}{{"StandardTime", r.Standard}, {"DaylightTime", r.Daylight}} {
		w.Start(t.name)
		w.ElemInt("Bias", t.tr.Bias)
		s := int(t.tr.Time / time.Second)
		w.Elem("Time", twoDigits(s/3600)+":"+twoDigits(s/60%60)+":"+twoDigits(s%60))
		w.ElemInt("DayOrder", t.tr.DayOrder)
		w.ElemInt("Month", t.tr.Month)
		w.Elem("DayOfWeek", dayNames[t.tr.Weekday])
		w.End(t.name)
	}
	w.End("TimeZone")
}

func twoDigits(n int) string {
	if n < 10 {
		return "0" + strconv.Itoa(n)
	}
	return strconv.Itoa(n)
}

// plainText reports whether s is written as it is in XML text: printable
// ASCII other than the markup characters soap.Writer escapes. Anything
// else goes through the writer's escaping.
func plainText(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x7f || c == '<' || c == '>' || c == '&' || c == '"' {
			return false
		}
	}
	return true
}
