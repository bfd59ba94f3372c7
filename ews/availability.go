package ews

import (
	"context"
	"errors"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/calfed/calfed/calendar"
	"github.com/calfed/calfed/internal/identity"
	"github.com/calfed/calfed/orgrel"
)

// query is a validated GetUserAvailability request.
type query struct {
	mailboxes   []string
	zone        *time.Location
	start, end  time.Time
	interval    time.Duration
	view        ViewType
	legacy      bool
	freeBusy    bool // FreeBusyViewOptions present
	suggestions bool // SuggestionsViewOptions present
}

// validate applies the request-level checks of NOTES §1.7, in Exchange's
// order; each failure is a SOAP fault.
func (h *Handler) validate(env *envelope) (*query, *requestError) {
	req := env.gua
	q := &query{legacy: env.legacy(), suggestions: req.SuggestionsViewOptions != nil}
	if req.MailboxDataArray == nil {
		return nil, faultf(ErrorMissingArgument, "The MailboxDataArray element is missing.")
	}
	mailboxes := req.MailboxDataArray.MailboxData
	if len(mailboxes) == 0 {
		return nil, faultf(ErrorMailboxDataArrayEmpty, "MailboxDataArray must contain at least one MailboxData element.")
	}
	if len(mailboxes) > h.opt.MaxMailboxes {
		return nil, faultf(ErrorMailboxDataArrayTooBig, "MailboxDataArray contains %d mailboxes; at most %d are allowed.", len(mailboxes), h.opt.MaxMailboxes)
	}
	for i, md := range mailboxes {
		addr := strings.TrimSpace(md.Email.Address)
		if addr == "" {
			return nil, faultf(ErrorMissingArgument, "MailboxData %d has no Email/Address.", i+1)
		}
		q.mailboxes = append(q.mailboxes, addr)
	}
	zone, rerr := env.zone()
	if rerr != nil {
		return nil, rerr
	}
	q.zone = zone
	opts := req.FreeBusyViewOptions
	if opts == nil {
		if q.suggestions {
			return q, nil
		}
		return nil, faultf(ErrorMissingArgument, "Either FreeBusyViewOptions or SuggestionsViewOptions must be given.")
	}
	q.freeBusy = true
	if opts.TimeWindow == nil || opts.TimeWindow.StartTime == nil || opts.TimeWindow.EndTime == nil {
		return nil, faultf(ErrorMissingArgument, "FreeBusyViewOptions.TimeWindow with StartTime and EndTime is required.")
	}
	var err error
	if q.start, err = parseDateTime(*opts.TimeWindow.StartTime, zone); err != nil {
		return nil, faultf(ErrorSchemaValidation, "TimeWindow.StartTime: %v", err)
	}
	if q.end, err = parseDateTime(*opts.TimeWindow.EndTime, zone); err != nil {
		return nil, faultf(ErrorSchemaValidation, "TimeWindow.EndTime: %v", err)
	}
	if !q.start.Before(q.end) {
		return nil, faultf(ErrorInvalidTimeInterval, "TimeWindow.StartTime must be before TimeWindow.EndTime.")
	}
	// Exchange compares whole days: TimeSpan.Days > MaximumQueryIntervalDays.
	if days := int(q.end.Sub(q.start) / (24 * time.Hour)); days > h.opt.MaxWindowDays {
		return nil, faultf(ErrorTimeIntervalTooBig, "The time period specified in FreeBusyViewOptions.TimeWindow is too big. The allowed time span is %d days; the actual span was %d days.", h.opt.MaxWindowDays, days)
	}
	q.view = ViewFreeBusy
	if opts.RequestedView != nil {
		if q.view, err = ParseViewType(*opts.RequestedView); err != nil {
			return nil, faultf(ErrorInvalidFreeBusyViewType, "FreeBusyViewOptions.RequestedView: %v.", err)
		}
	}
	if q.view == ViewNone {
		return nil, faultf(ErrorInvalidFreeBusyViewType, "FreeBusyViewOptions.RequestedView cannot be None.")
	}
	minutes := 30
	if opts.MergedFreeBusyIntervalInMinutes != nil {
		if minutes, err = strconv.Atoi(strings.TrimSpace(*opts.MergedFreeBusyIntervalInMinutes)); err != nil {
			return nil, faultf(ErrorInvalidMergedFreeBusyInterval, "MergedFreeBusyIntervalInMinutes must be a whole number of minutes.")
		}
	}
	if minutes < 5 || minutes > 1440 {
		return nil, faultf(ErrorInvalidMergedFreeBusyInterval, "MergedFreeBusyIntervalInMinutes must be between 5 and 1440; it was %d.", minutes)
	}
	q.interval = time.Duration(minutes) * time.Minute
	if q.view.merged() && q.interval > q.end.Sub(q.start) {
		return nil, faultf(ErrorInvalidMergedFreeBusyInterval, "MergedFreeBusyIntervalInMinutes (%d) is longer than the time window.", minutes)
	}
	return q, nil
}

// mailboxResult is the answer for one MailboxData.
type mailboxResult struct {
	err     *mailboxError
	view    ViewType
	merged  []byte
	events  []calendar.Event
	mailbox *calendar.Mailbox
}

// answer builds one mailbox's result: lookup, access decision, events,
// view. Per-mailbox failures are results, never Go errors. NOTES §1.5–1.7.
func (h *Handler) answer(ctx context.Context, caller identity.Caller, q *query, address string) mailboxResult {
	mb, ok := h.opt.Directory.Lookup(address)
	if !ok {
		return mailboxResult{err: recipientNotFound(address)}
	}
	dec := h.opt.Access.Access(caller, mb.Address, mb.Groups)
	if !dec.Related {
		// No enabled relationship: Exchange answers as for an unknown
		// address, so a stranger learns nothing about who exists here.
		return mailboxResult{err: recipientNotFound(address)}
	}
	if dec.Level == orgrel.None {
		return mailboxResult{err: noFreeBusyAccess(address)}
	}
	view := returnedView(q.view, dec.Level)
	events, err := h.opt.Directory.Events(ctx, mb.Address, q.start, q.end)
	if err != nil {
		// An unavailable calendar was logged with its cause when it was
		// loaded; repeating that on every request would bury it.
		level := slog.LevelError
		if errors.Is(err, calendar.ErrUnavailable) {
			level = slog.LevelDebug
		}
		h.log.Log(ctx, level, "free/busy generation failed", "mailbox", mb.Address, "err", err)
		return mailboxResult{err: generationFailed(address)}
	}
	if len(events) > h.opt.MaxResultSet {
		return mailboxResult{err: resultSetTooBig(address, len(events), h.opt.MaxResultSet)}
	}
	r := mailboxResult{view: view, mailbox: mb}
	if view.events() {
		r.events = events
	}
	if view.merged() {
		r.merged = mergedFreeBusy(nil, events, q.start, q.end, q.interval, q.legacy)
	}
	return r
}
