package config

import (
	"context"
	"fmt"

	"github.com/calfed/calfed/calendar"
	"github.com/calfed/calfed/internal/shellquote"
)

// CheckCalendars reads every mailbox's calendar as the server would and
// says, for each that it cannot read or reads only with repairs or
// skipped events, what partners will see and how to look closer. The
// server runs with them (a calendar that cannot be read fails its
// mailbox alone), so these are warnings, each at the mailbox's line.
func (c *Config) CheckCalendars(ctx context.Context, b *Built) []string {
	var out []string
	for i, e := range b.Entries {
		if e.Source == nil {
			continue
		}
		opt := calendar.Options{Location: e.Mailbox.Location, Owner: e.Mailbox.Address, Strict: c.Calendars.Strict}
		r := calendar.Check(ctx, e.Source, opt)
		field := fmt.Sprintf("mailboxes[%d].calendar", i)
		where := Problem{Line: c.lines.Of(field), Field: fmt.Sprintf("mailboxes[%d] (%s).calendar", i, e.Mailbox.Address)}
		hint := "calfed calendar check " + shellquote.Word(e.Mailbox.Address)
		switch {
		case r.Err != "":
			where.Msg = fmt.Sprintf("%s cannot be read (%s): partners asking for %s get ErrorFreeBusyGenerationFailed; %s shows why", r.Source, r.Err, e.Mailbox.Address, hint)
		case len(r.Problems) > 0:
			where.Msg = fmt.Sprintf("%s is served with %d problems repaired or events skipped; %s lists them", r.Source, len(r.Problems), hint)
		default:
			continue
		}
		out = append(out, where.Error())
	}
	return out
}
