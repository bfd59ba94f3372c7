package console

import (
	"context"
	"time"

	"github.com/calfed/calfed/admin"
)

// Activity is what a partner has asked of us, as the console shows it.
type Activity interface {
	// PartnerActivity returns the activity of the partner of our
	// relationship named relationship.
	PartnerActivity(ctx context.Context, relationship string) (PartnerActivity, error)
}

// PartnerActivity sums up a partner's requests: the last that succeeded
// and the last that failed with its reason, how many, and the latest
// requests for the partner's page.
type PartnerActivity struct {
	LastSuccess   *time.Time
	LastFailure   *time.Time
	FailureReason string
	Requests      int64 // answered
	Refused       int64 // of them, refused or failed
	Recent        []Request
	// Source says where the figures come from, shown under them.
	Source string
	// Recorded is true when the figures are of the partner's requests;
	// false when there is no record of them (AuditActivity).
	Recorded bool
}

// Request is one request of a partner's.
type Request struct {
	At        time.Time
	Operation string // GetUserAvailability, GetUserSettings, …
	Caller    string // the token's user, or the service account
	Outcome   string // ok, or why it was refused
}

// AuditActivity is the activity the store can give before it keeps an
// access log of partners' requests: the audit log's changes to each
// relationship, which say when it was last touched and by whom, not what
// its partner asked. Recorded is false, and the console says so.
type AuditActivity struct{ API admin.API }

func (a AuditActivity) PartnerActivity(ctx context.Context, relationship string) (PartnerActivity, error) {
	entries, err := a.API.Audit(ctx, time.Time{}, 0)
	if err != nil {
		return PartnerActivity{}, err
	}
	out := PartnerActivity{Source: "No access log of partners' requests on this server yet: these are the relationship's changes from the audit log."}
	for i := len(entries) - 1; i >= 0 && len(out.Recent) < 20; i-- {
		if e := entries[i]; e.Object == "orgrel/"+relationship {
			out.Recent = append(out.Recent, Request{At: e.At, Operation: e.Action, Caller: e.Actor, Outcome: admin.Summarize(e)})
		}
	}
	return out, nil
}
