package console

import (
	"context"
	"time"

	"github.com/calfed/calfed/admin"
	"github.com/calfed/calfed/orgrel"
)

// AccessLog is the partners' activity from the store's information-
// governance access log, through the admin service: each partner's last
// success and failure and its requests over the last Window, and its
// latest requests.
type AccessLog struct {
	API    admin.API
	Window time.Duration    // the counts' period; default 30 days
	Now    func() time.Time // default time.Now
}

func (a AccessLog) PartnerActivity(ctx context.Context, relationship string) (PartnerActivity, error) {
	now, window := time.Now, a.Window
	if a.Now != nil {
		now = a.Now
	}
	if window <= 0 {
		window = 30 * 24 * time.Hour
	}
	since := now().Add(-window)
	sums, err := a.API.PartnerActivity(ctx, since)
	if err != nil {
		return PartnerActivity{}, err
	}
	out := PartnerActivity{Recorded: true, Source: "From the access log; requests since " + when(since) + "."}
	for _, s := range sums {
		if s.Partner != relationship {
			continue
		}
		out.LastSuccess, out.LastFailure, out.FailureReason, out.Requests = s.LastSuccess, s.LastFailure, s.FailureWhy, s.Requests
		out.Refused = s.Requests - int64(s.ByOutcome[orgrel.AccessOK]) - int64(s.ByOutcome[orgrel.AccessPartial])
	}
	entries, err := a.API.AccessLog(ctx, orgrel.AccessQuery{Partner: relationship, Limit: 20})
	if err != nil {
		return PartnerActivity{}, err
	}
	for i := len(entries) - 1; i >= 0; i-- { // newest first
		e := entries[i]
		caller := e.User
		if caller == "" {
			caller = e.Account
		}
		outcome := e.Outcome
		if e.Reason != "" {
			outcome += ": " + e.Reason
		}
		out.Recent = append(out.Recent, Request{At: e.At, Operation: e.Operation, Caller: caller, Outcome: outcome})
	}
	return out, nil
}
