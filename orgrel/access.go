package orgrel

import (
	"strings"
	"time"
)

// AccessEntry is one partner request in the information-governance
// access log: who asked (the relationship and the partner's account or
// user), what they asked about (our mailboxes), what they were given
// (the view granted for each mailbox) and how the request ended. One is
// written for every request a verified partner makes, whatever its
// outcome.
type AccessEntry struct {
	ID int64     `json:"id"`
	At time.Time `json:"at"` // when the request arrived
	// Server is the calfed server that answered (live.Policy.ID).
	Server string `json:"server,omitempty"`
	// Relationship is our organisation relationship the caller's domain
	// selected, at the time of the request; empty when none covered it.
	Relationship string `json:"relationship,omitempty"`
	Domain       string `json:"domain"`            // the caller's domain, which selects the relationship
	Account      string `json:"account,omitempty"` // the service account, for cross-forest callers
	User         string `json:"user,omitempty"`    // the requesting user, for delegation-token callers
	// RequestorDomain is the requesting organisation as the token issuer
	// vouches for it, for delegation-token callers.
	RequestorDomain string `json:"requestor_domain,omitempty"`
	Operation       string `json:"operation"` // e.g. GetUserAvailability, GetMailTips, GetUserSettings
	Remote          string `json:"remote,omitempty"`
	// Outcome is the request's: AccessOK, AccessPartial, AccessDenied,
	// AccessFailed or AccessUnavailable.
	Outcome  string          `json:"outcome"`
	Status   int             `json:"status"` // the HTTP status answered
	Duration time.Duration   `json:"duration_ns"`
	Reason   string          `json:"reason,omitempty"` // why it failed, when it did
	Mailbox  []MailboxAccess `json:"mailboxes,omitempty"`
}

// MailboxAccess is what a partner request was given of one of our
// mailboxes.
type MailboxAccess struct {
	Address string `json:"address"`
	// View is what was granted (e.g. FreeBusy, DetailedMerged, the
	// MailTips level), "None" when nothing was.
	View string `json:"view"`
	// Outcome is the mailbox's own: OK, NotFound, NoAccess,
	// GenerationFailed, TooBig.
	Outcome string `json:"outcome"`
}

// Outcomes of an AccessEntry.
const (
	AccessOK          = "ok"          // answered, every mailbox served
	AccessPartial     = "partial"     // answered, some mailboxes refused or failed
	AccessDenied      = "denied"      // answered, nothing of any mailbox given
	AccessFailed      = "failed"      // a request-level error (a SOAP fault, an HTTP error)
	AccessUnavailable = "unavailable" // refused for now: the access policy is too old (503)
)

// Succeeded reports whether the entry counts as a success for a
// partner's last-success summary: something was answered.
func (e AccessEntry) Succeeded() bool { return e.Outcome == AccessOK || e.Outcome == AccessPartial }

// Mailboxes is the addresses asked about, joined for a line.
func (e AccessEntry) Mailboxes() string {
	a := make([]string, len(e.Mailbox))
	for i, m := range e.Mailbox {
		a[i] = m.Address
	}
	return strings.Join(a, ",")
}

// Views is each mailbox's granted view, joined for a line, in the order
// of Mailboxes.
func (e AccessEntry) Views() string {
	a := make([]string, len(e.Mailbox))
	for i, m := range e.Mailbox {
		a[i] = m.View
		if m.Outcome != "OK" && m.Outcome != "" {
			a[i] += "/" + m.Outcome
		}
	}
	return strings.Join(a, ",")
}

// AccessQuery selects access-log entries. The zero value selects every
// entry.
type AccessQuery struct {
	// Partner is a relationship name, or a caller domain, account or
	// user; matched without regard to case.
	Partner string
	Mailbox string    // one of our addresses the request asked about
	Since   time.Time // at or after; zero: from the first
	Until   time.Time // before; zero: to the last
	Limit   int       // at most this many, the newest; 0: no limit
}

// PartnerActivity sums up one partner's requests: when it was last
// served, when it last failed and why, and how many requests it made
// since a moment, by outcome. The partner is the relationship, or the
// caller's domain when no relationship covered it.
type PartnerActivity struct {
	Partner     string         `json:"partner"`
	LastSuccess *time.Time     `json:"last_success,omitempty"`
	LastFailure *time.Time     `json:"last_failure,omitempty"`
	FailureWhy  string         `json:"last_failure_reason,omitempty"`
	Since       time.Time      `json:"since"`
	Requests    int64          `json:"requests"` // since Since
	ByOutcome   map[string]int `json:"by_outcome"`
}
