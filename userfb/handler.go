package userfb

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/calfed/calfed/freebusy"
	"github.com/calfed/calfed/internal/domainname"
	"github.com/calfed/calfed/userauth"
)

// FreeBusy answers a query for one of our users (*freebusy.Service).
type FreeBusy interface {
	Ask(ctx context.Context, user string, q *freebusy.Query) ([]freebusy.Result, error)
}

// Options configure a Handler. FreeBusy is required.
type Options struct {
	FreeBusy      FreeBusy
	MaxMailboxes  int              // attendees per request; default 100
	MaxWindowDays int              // default 62
	ProdID        string           // the VCALENDAR's PRODID; default -//calfed//free-busy//EN
	Now           func() time.Time // default time.Now
	Logger        *slog.Logger     // nil discards
}

// Handler serves the fronts. Requests must carry a userauth.User.
type Handler struct {
	opt Options
	log *slog.Logger
}

// New returns a Handler.
func New(opt Options) *Handler {
	if opt.MaxMailboxes <= 0 {
		opt.MaxMailboxes = 100
	}
	if opt.MaxWindowDays <= 0 {
		opt.MaxWindowDays = 62
	}
	if opt.ProdID == "" {
		opt.ProdID = "-//calfed//free-busy//EN"
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	h := &Handler{opt: opt, log: opt.Logger}
	if h.log == nil {
		h.log = slog.New(slog.DiscardHandler)
	}
	return h
}

// problem is a request the fronts cannot answer: its status and the
// message naming the parameter and the fix.
type problem struct {
	status int
	msg    string
}

func (p *problem) Error() string { return p.msg }

func bad(format string, args ...any) *problem {
	return &problem{http.StatusBadRequest, fmt.Sprintf(format, args...)}
}

// parseTime reads a window bound: RFC 3339, an iCalendar UTC date-time
// (20260324T100000Z), or a date (2026-03-24, 20260324) meaning its
// midnight in UTC.
func parseTime(s string) (time.Time, bool) {
	s = strings.TrimSpace(s)
	for _, layout := range []string{time.RFC3339, "20060102T150405Z", "2006-01-02", "20060102", "2006-01-02T15:04:05"} {
		if t, err := time.ParseInLocation(layout, s, time.UTC); err == nil {
			return t.UTC(), true
		}
	}
	return time.Time{}, false
}

// window reads start and end, with the default window where they are
// missing: from the start of the day a week ago to seven weeks after
// today, within the longest window.
func (h *Handler) window(start, end string) (time.Time, time.Time, error) {
	maxWin := time.Duration(h.opt.MaxWindowDays) * 24 * time.Hour
	today := h.opt.Now().UTC().Truncate(24 * time.Hour)
	from := today.AddDate(0, 0, -7)
	if start != "" {
		t, ok := parseTime(start)
		if !ok {
			return from, from, bad("start: %q is not a time; write RFC 3339 (2026-03-24T09:00:00Z), 20260324T090000Z or a date (2026-03-24)", start)
		}
		from = t
	}
	// Without an end: seven weeks after today, or four weeks after a
	// start given, within the longest window.
	to := today.AddDate(0, 0, 49)
	if start != "" {
		to = from.AddDate(0, 0, 28)
	}
	if to.Sub(from) > maxWin && end == "" {
		to = from.Add(maxWin)
	}
	if end != "" {
		t, ok := parseTime(end)
		if !ok {
			return from, to, bad("end: %q is not a time; write RFC 3339 (2026-03-31T18:00:00Z), 20260331T180000Z or a date (2026-03-31)", end)
		}
		to = t
	}
	if !from.Before(to) {
		return from, to, bad("end: %s is not after start %s", to.Format(time.RFC3339), from.Format(time.RFC3339))
	}
	if to.Sub(from) > maxWin {
		return from, to, bad("end: the window is %s long, more than the %d days allowed; ask for a shorter one", to.Sub(from).Round(time.Hour), h.opt.MaxWindowDays)
	}
	return from, to, nil
}

func (h *Handler) user(r *http.Request) string {
	u, _ := userauth.FromContext(r.Context())
	return u.Address
}

// ICal serves GET /freebusy/{address}: a VFREEBUSY for one attendee.
func (h *Handler) ICal() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, "use GET", http.StatusMethodNotAllowed)
			return
		}
		addr := r.PathValue("address")
		for _, ext := range []string{".vfb", ".ifb", ".ics"} {
			addr = strings.TrimSuffix(addr, ext)
		}
		canon, err := domainname.Address(addr)
		if err != nil {
			h.fail(w, bad("the URL names no address (%v); use /freebusy/NAME@DOMAIN.vfb", err))
			return
		}
		addr = canon
		from, to, err := h.window(r.URL.Query().Get("start"), r.URL.Query().Get("end"))
		if err != nil {
			h.fail(w, err)
			return
		}
		q := &freebusy.Query{Mailboxes: []string{addr}, Start: from, End: to, View: freebusy.ViewFreeBusy}
		rs, err := h.opt.FreeBusy.Ask(r.Context(), h.user(r), q)
		if err != nil {
			h.fail(w, err)
			return
		}
		res := rs[0]
		if res.Outcome != freebusy.OK {
			h.fail(w, &problem{statusOf(res.Outcome), res.ResponseCode() + ": " + message(res)})
			return
		}
		w.Header().Set("Content-Type", "text/calendar; charset=utf-8")
		w.Header().Set("Cache-Control", "private, max-age=60")
		w.Write(VFreeBusy(h.opt.ProdID, addr, from, to, h.opt.Now(), res.Events))
	})
}

// statusOf is the HTTP status of an attendee the iCalendar URL cannot
// answer.
func statusOf(o freebusy.Outcome) int {
	switch o {
	case freebusy.NotFound, freebusy.NoPartner:
		return http.StatusNotFound
	case freebusy.NoAccess:
		return http.StatusForbidden
	case freebusy.PartnerFailed:
		return http.StatusBadGateway
	}
	return http.StatusServiceUnavailable
}

func message(r freebusy.Result) string {
	if r.Message != "" {
		return r.Message
	}
	switch r.Outcome {
	case freebusy.NotFound:
		return "no such mailbox"
	case freebusy.NoAccess:
		return "the mailbox's free/busy is not shared with you"
	case freebusy.TooBig:
		return fmt.Sprintf("%d items in the window, more than the %d allowed; ask for a shorter window", r.Count, r.Limit)
	case freebusy.NoPartner:
		return "no organisation relationship covers this address"
	}
	return "the free/busy could not be read"
}

func (h *Handler) fail(w http.ResponseWriter, err error) {
	p, ok := err.(*problem)
	if !ok {
		h.log.Error("free/busy front failed", "err", err)
		p = &problem{http.StatusInternalServerError, "internal error"}
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(p.status)
	io.WriteString(w, p.msg+"\n")
}

// Request is the JSON endpoint's question (POST body; GET takes the same
// as query parameters, attendee repeated).
type Request struct {
	Attendees []string `json:"attendees"`
	Start     string   `json:"start,omitempty"` // RFC 3339 or a date; default as the iCalendar URL's
	End       string   `json:"end,omitempty"`
	// View is FreeBusy or Detailed (default), with Merged for the merged
	// digits (FreeBusyMerged, DetailedMerged) at IntervalMinutes.
	View            string `json:"view,omitempty"`
	IntervalMinutes int    `json:"interval_minutes,omitempty"` // default 30 for a merged view
}

// Response is the JSON endpoint's answer.
type Response struct {
	Start     time.Time  `json:"start"`
	End       time.Time  `json:"end"`
	Attendees []Attendee `json:"attendees"`
}

// Attendee is one attendee's answer: busy periods (and the merged
// digits and working hours where given), or an error.
type Attendee struct {
	Address      string        `json:"address"`
	ResponseCode string        `json:"response_code"` // NoError, or the EWS code of Error
	View         string        `json:"view,omitempty"`
	Busy         []Period      `json:"busy"`
	Merged       string        `json:"merged,omitempty"`
	WorkingHours *WorkingHours `json:"working_hours,omitempty"`
	Error        *Error        `json:"error,omitempty"`
}

// Period is a calendar item in the window (free ones too, typed Free, as
// Exchange lists them); subject and location only where the
// attendee's sharing allows details, and of a private item only that it
// is private.
type Period struct {
	Start    time.Time `json:"start"`
	End      time.Time `json:"end"`
	Type     string    `json:"type"` // Tentative, Busy, OOF, WorkingElsewhere, Free, NoData
	Subject  string    `json:"subject,omitempty"`
	Location string    `json:"location,omitempty"`
	Private  bool      `json:"private,omitempty"`
}

// WorkingHours are an attendee's working days and hours in its zone:
// for ours its IANA name, for a partner's the POSIX TZ rule of the zone
// the partner gave (EWS carries no zone name).
type WorkingHours struct {
	TimeZone string   `json:"time_zone"`
	Days     []string `json:"days"`
	Start    string   `json:"start"` // HH:MM
	End      string   `json:"end"`
}

// Error is why an attendee has no answer: the EWS response code (the
// partner's own for a partner's mailbox) and its message.
type Error struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

// JSON serves GET and POST /freebusy/v1/availability.
func (h *Handler) JSON() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var req Request
		switch r.Method {
		case http.MethodGet:
			v := r.URL.Query()
			req.Attendees = v["attendee"]
			req.Start, req.End, req.View = v.Get("start"), v.Get("end"), v.Get("view")
			if s := v.Get("interval_minutes"); s != "" {
				n, err := strconv.Atoi(s)
				if err != nil {
					h.jsonFail(w, bad("interval_minutes: %q is not a number of minutes", s))
					return
				}
				req.IntervalMinutes = n
			}
		case http.MethodPost:
			dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<20))
			dec.DisallowUnknownFields()
			if err := dec.Decode(&req); err != nil {
				h.jsonFail(w, bad("the body is not a request: %v; send {\"attendees\": [\"bob@partner.example\"], \"start\": \"2026-03-24\", \"end\": \"2026-03-25\"}", err))
				return
			}
		default:
			w.Header().Set("Allow", "GET, POST")
			h.jsonFail(w, &problem{http.StatusMethodNotAllowed, "use GET or POST"})
			return
		}
		resp, err := h.answer(r.Context(), h.user(r), req)
		if err != nil {
			h.jsonFail(w, err)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "private, no-store")
		json.NewEncoder(w).Encode(resp)
	})
}

// Query is req as a query of the free/busy core, with the fronts'
// defaults and limits: an error names the field at fault and the fix.
func Query(req Request, now time.Time, maxMailboxes, maxWindowDays int) (*freebusy.Query, error) {
	h := New(Options{MaxMailboxes: maxMailboxes, MaxWindowDays: maxWindowDays, Now: func() time.Time { return now }})
	return h.query(req)
}

func (h *Handler) answer(ctx context.Context, user string, req Request) (*Response, error) {
	q, err := h.query(req)
	if err != nil {
		return nil, err
	}
	rs, err := h.opt.FreeBusy.Ask(ctx, user, q)
	if err != nil {
		return nil, err
	}
	out := &Response{Start: q.Start, End: q.End, Attendees: make([]Attendee, len(rs))}
	for i, r := range rs {
		out.Attendees[i] = attendee(r)
	}
	return out, nil
}

func (h *Handler) query(req Request) (*freebusy.Query, error) {
	if len(req.Attendees) == 0 {
		return nil, bad("attendees: none given; name at least one address")
	}
	if len(req.Attendees) > h.opt.MaxMailboxes {
		return nil, bad("attendees: %d given, more than the %d allowed; ask in parts", len(req.Attendees), h.opt.MaxMailboxes)
	}
	for i, a := range req.Attendees {
		if _, err := domainname.Address(strings.TrimSpace(a)); err != nil {
			return nil, bad("attendees[%d]: %q is not an address (%v)", i, a, err)
		}
	}
	view := freebusy.ViewDetailed
	if req.View != "" {
		v, err := freebusy.ParseView(req.View)
		if err != nil || v == freebusy.ViewMergedOnly || v == freebusy.ViewNone {
			return nil, bad("view: %q; write FreeBusy, FreeBusyMerged, Detailed or DetailedMerged", req.View)
		}
		view = v
	}
	q := &freebusy.Query{Mailboxes: req.Attendees, View: view}
	if view.Merged() {
		q.Interval = 30 * time.Minute
		if req.IntervalMinutes != 0 {
			if req.IntervalMinutes < 5 || req.IntervalMinutes > 1440 {
				return nil, bad("interval_minutes: %d; write 5 to 1440", req.IntervalMinutes)
			}
			q.Interval = time.Duration(req.IntervalMinutes) * time.Minute
		}
	}
	var err error
	if q.Start, q.End, err = h.window(req.Start, req.End); err != nil {
		return nil, err
	}
	return q, nil
}

func attendee(r freebusy.Result) Attendee {
	a := Attendee{Address: r.Address, ResponseCode: r.ResponseCode(), Busy: []Period{}}
	if r.Outcome != freebusy.OK {
		a.Error = &Error{Code: a.ResponseCode, Message: message(r)}
		return a
	}
	a.View = r.View.String()
	for i := range r.Events {
		e := &r.Events[i]
		a.Busy = append(a.Busy, Period{Start: e.Start.UTC(), End: e.End.UTC(), Type: e.Busy.String(), Subject: e.Subject(), Location: e.Location(), Private: e.Private})
	}
	a.Merged = string(r.Merged)
	if wh := r.WorkingHours; wh != nil {
		w := &WorkingHours{TimeZone: "UTC", Start: clock(wh.Start), End: clock(wh.End), Days: []string{}}
		if r.Zone != nil {
			w.TimeZone = r.Zone.String()
		}
		for _, d := range wh.Days {
			w.Days = append(w.Days, d.String())
		}
		a.WorkingHours = w
	}
	return a
}

func clock(d time.Duration) string {
	return fmt.Sprintf("%02d:%02d", int(d/time.Hour), int(d%time.Hour/time.Minute))
}

func (h *Handler) jsonFail(w http.ResponseWriter, err error) {
	p, ok := err.(*problem)
	if !ok {
		h.log.Error("free/busy front failed", "err", err)
		p = &problem{http.StatusInternalServerError, "internal error"}
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(p.status)
	json.NewEncoder(w).Encode(map[string]string{"error": p.msg})
}
