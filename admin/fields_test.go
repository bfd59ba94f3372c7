package admin

import (
	"strings"
	"testing"
	"time"

	"github.com/calfed/calfed/orgrel"
)

// mailbox show names who changed the sharing only once a choice is
// recorded; mailbox share reads the level by its Exchange name.
func TestSharingFields(t *testing.T) {
	show := func(m MailboxSharing) map[string]string {
		out := map[string]string{}
		for _, f := range SharingFields {
			if v := f.Get(m); v != "" {
				out[f.Label] = v
			}
		}
		return out
	}
	m := MailboxSharing{Address: "a@example.org", Level: orgrel.AvailabilityOnly, Source: "default"}
	if got := show(m); len(got) != 3 || got["External sharing"] != "AvailabilityOnly" || got["Set by"] != "default" {
		t.Errorf("shown before a choice = %v", got)
	}
	at := time.Date(2026, 11, 1, 9, 0, 0, 0, time.UTC)
	m.ChangedBy, m.ChangedAt = "alice", &at
	if got := show(m); got["Changed by"] != "alice" || got["Changed at"] != "2026-11-01T09:00:00Z" {
		t.Errorf("shown after a choice = %v", got)
	}
	for _, f := range SharingFields {
		if f.Flag != "level" {
			continue
		}
		var got MailboxSharing
		if err := f.Set(&got, "limiteddetails"); err != nil || got.Level != orgrel.LimitedDetails {
			t.Errorf("Set(limiteddetails) = %v, %v", got.Level, err)
		}
		if err := f.Set(&got, "Everything"); err == nil {
			t.Error("Set(Everything) accepted an unknown level")
		}
	}
}

func TestAuditColumns(t *testing.T) {
	e := orgrel.AuditEntry{At: time.Date(2026, 11, 1, 9, 0, 0, 0, time.UTC), Actor: "alice", Action: "orgrel.new", Object: "orgrel/P"}
	var cells []string
	for _, c := range AuditColumns {
		cells = append(cells, c.Get(e))
	}
	if got, want := strings.Join(cells, "|"), "2026-11-01T09:00:00Z|alice|orgrel.new|orgrel/P|"+Summarize(e); got != want {
		t.Errorf("audit row = %q, want %q", got, want)
	}
}
