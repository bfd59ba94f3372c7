package ews

import (
	"strconv"
	"strings"
	"time"

	"github.com/calfed/calfed/freebusy"
	"github.com/calfed/calfed/internal/legacydn"
)

// query is a validated GetUserAvailability request.
type query struct {
	freebusy.Query
	zone        *time.Location // the request's zone, for wall times
	freeBusy    bool           // FreeBusyViewOptions present
	suggestions bool           // SuggestionsViewOptions present
}

// validate applies the request-level checks of docs/protocol.md §1.7, in Exchange's
// order; each failure is a SOAP fault.
func (h *Handler) validate(env *envelope) (*query, *requestError) {
	req := env.gua
	q := &query{suggestions: req.SuggestionsViewOptions != nil}
	q.Legacy = env.legacy()
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
		// A legacy DN calfed handed out in Autodiscover, sent back as an
		// EX address or an X500 proxy address, names its mailbox. docs/protocol.md §1.2.
		if h.opt.ResolveLegacyDN != nil && legacydn.IsDN(addr, md.Email.RoutingType) {
			if a, ok := h.opt.ResolveLegacyDN(addr); ok {
				addr = a
			}
		}
		q.Mailboxes = append(q.Mailboxes, addr)
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
	if q.Start, err = parseDateTime(*opts.TimeWindow.StartTime, zone); err != nil {
		return nil, faultf(ErrorSchemaValidation, "TimeWindow.StartTime: %v", err)
	}
	if q.End, err = parseDateTime(*opts.TimeWindow.EndTime, zone); err != nil {
		return nil, faultf(ErrorSchemaValidation, "TimeWindow.EndTime: %v", err)
	}
	if !q.Start.Before(q.End) {
		return nil, faultf(ErrorInvalidTimeInterval, "TimeWindow.StartTime must be before TimeWindow.EndTime.")
	}
	// Exchange compares whole days: TimeSpan.Days > MaximumQueryIntervalDays.
	if days := int(q.End.Sub(q.Start) / (24 * time.Hour)); days > h.opt.MaxWindowDays {
		return nil, faultf(ErrorTimeIntervalTooBig, "The time period specified in FreeBusyViewOptions.TimeWindow is too big. The allowed time span is %d days; the actual span was %d days.", h.opt.MaxWindowDays, days)
	}
	q.View = freebusy.ViewFreeBusy
	if opts.RequestedView != nil {
		if q.View, err = freebusy.ParseView(*opts.RequestedView); err != nil {
			return nil, faultf(ErrorInvalidFreeBusyViewType, "FreeBusyViewOptions.RequestedView %q is not a valid FreeBusyViewType.", *opts.RequestedView)
		}
	}
	if q.View == freebusy.ViewNone {
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
	q.Interval = time.Duration(minutes) * time.Minute
	if q.View.Merged() && q.Interval > q.End.Sub(q.Start) {
		return nil, faultf(ErrorInvalidMergedFreeBusyInterval, "MergedFreeBusyIntervalInMinutes (%d) is longer than the time window.", minutes)
	}
	return q, nil
}
