package console

import (
	"context"
	"time"
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
	// false when there is no record of them.
	Recorded bool
}

// Request is one request of a partner's.
type Request struct {
	At        time.Time
	Operation string // GetUserAvailability, GetUserSettings, …
	Caller    string // the token's user, or the service account
	Outcome   string // ok, or why it was refused
}
