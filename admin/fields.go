package admin

import (
	"strconv"
	"time"

	"github.com/calfed/calfed/orgrel"
)

// SharingFields are a mailbox's external sharing as calfed mailbox share
// sets it and mailbox show shows it; who changed it is shown once a
// choice is recorded.
var SharingFields = []orgrel.Field[MailboxSharing]{
	{Label: "Mailbox", Get: func(m MailboxSharing) string { return m.Address }},
	{Flag: "level", Label: "External sharing", Help: "LimitedDetails, AvailabilityOnly or None (required)",
		Get: func(m MailboxSharing) string { return m.Level.String() },
		Set: func(m *MailboxSharing, v string) (err error) {
			m.Level, err = orgrel.ParseLevel(v)
			return err
		}},
	{Label: "Set by", Get: func(m MailboxSharing) string { return m.Source }},
	{Label: "Changed by", Get: func(m MailboxSharing) string {
		if m.ChangedAt == nil {
			return ""
		}
		return m.ChangedBy
	}},
	{Label: "Changed at", Get: func(m MailboxSharing) string {
		if m.ChangedAt == nil {
			return ""
		}
		return m.ChangedAt.Format(time.RFC3339)
	}},
}

// AuditColumns are an audit entry as calfed audit shows it.
var AuditColumns = []orgrel.Field[orgrel.AuditEntry]{
	{Label: "WHEN", Get: func(e orgrel.AuditEntry) string { return e.At.Format(time.RFC3339) }},
	{Label: "WHO", Get: func(e orgrel.AuditEntry) string { return e.Actor }},
	{Label: "ACTION", Get: func(e orgrel.AuditEntry) string { return e.Action }},
	{Label: "OBJECT", Get: func(e orgrel.AuditEntry) string { return e.Object }},
	{Label: "CHANGE", Get: Summarize},
}

// AccessColumns are an access-log entry as calfed audit access shows it.
var AccessColumns = []orgrel.Field[orgrel.AccessEntry]{
	{Label: "WHEN", Get: func(e orgrel.AccessEntry) string { return e.At.UTC().Format(time.RFC3339) }},
	{Label: "PARTNER", Get: func(e orgrel.AccessEntry) string {
		if e.Relationship == "" {
			return "(no relationship) " + e.Domain
		}
		return e.Relationship
	}},
	{Label: "CALLER", Get: func(e orgrel.AccessEntry) string {
		if e.Account != "" {
			return "account " + e.Account
		}
		return e.User
	}},
	{Label: "OPERATION", Get: func(e orgrel.AccessEntry) string { return e.Operation }},
	{Label: "MAILBOXES", Get: func(e orgrel.AccessEntry) string { return e.Mailboxes() }},
	{Label: "VIEWS", Get: func(e orgrel.AccessEntry) string { return e.Views() }},
	{Label: "OUTCOME", Get: func(e orgrel.AccessEntry) string {
		if e.Reason != "" {
			return e.Outcome + ": " + e.Reason
		}
		return e.Outcome
	}},
}

// ActivityColumns are a partner's activity as calfed audit partners
// shows it.
var ActivityColumns = []orgrel.Field[orgrel.PartnerActivity]{
	{Label: "PARTNER", Get: func(a orgrel.PartnerActivity) string { return a.Partner }},
	{Label: "REQUESTS", Get: func(a orgrel.PartnerActivity) string { return strconv.FormatInt(a.Requests, 10) }},
	{Label: "LAST SUCCESS", Get: func(a orgrel.PartnerActivity) string { return timeOrDash(a.LastSuccess) }},
	{Label: "LAST FAILURE", Get: func(a orgrel.PartnerActivity) string {
		if a.LastFailure == nil {
			return "-"
		}
		return timeOrDash(a.LastFailure) + " " + a.FailureWhy
	}},
}

func timeOrDash(t *time.Time) string {
	if t == nil {
		return "-"
	}
	return t.UTC().Format(time.RFC3339)
}
