package admin

import (
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
