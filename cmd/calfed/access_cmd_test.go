package main

import (
	"encoding/json"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/calfed/calfed/admin"
	"github.com/calfed/calfed/config"
	"github.com/calfed/calfed/orgrel"
)

// calfed audit access lists partner requests from the store, by partner,
// mailbox and time, as a table or JSON, locally and through the admin
// API; calfed audit partners sums them up per partner.
func TestAuditAccess(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "a.ics"), []byte("BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n"), 0o644)
	path := filepath.Join(dir, "calfed.yaml")
	os.WriteFile(path, []byte("mailboxes:\n  - address: alice@contoso.example\n    calendar: a.ics\n"), 0o644)
	t.Setenv("CALFED_CONFIG", path)
	t.Setenv("CALFED_ADMIN_URL", "")
	cfg, err := config.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	local, err := cfg.Open(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC()
	if err := local.DB.RecordAccess(t.Context(), []orgrel.AccessEntry{
		{At: now.Add(-48 * time.Hour), Relationship: "Northshire NHS Trust", Domain: "northshire.example", Account: "svc-north",
			Operation: "GetUserAvailability", Outcome: orgrel.AccessOK, Status: 200,
			Mailbox: []orgrel.MailboxAccess{{Address: "alice@contoso.example", View: "FreeBusyMerged", Outcome: "OK"}}},
		{At: now.Add(-time.Hour), Relationship: "Northshire NHS Trust", Domain: "northshire.example", User: "bob@northshire.example",
			Operation: "GetUserAvailability", Outcome: orgrel.AccessDenied, Status: 200,
			Mailbox: []orgrel.MailboxAccess{{Address: "grace@contoso.example", View: "None", Outcome: "NoAccess"}}},
	}); err != nil {
		t.Fatal(err)
	}
	api := httptest.NewServer(newAdminRouter(admin.NewHandler(admin.NewService(local.DB, local.Trust, local.Built.Mailboxes()), strings.Repeat("k", 40), nil).Routes()))
	defer api.Close()
	defer local.Close()

	cli := cliFor(t)
	out := cli(exitOK, "audit", "access")
	for _, want := range []string{"WHEN", "PARTNER", "MAILBOXES", "VIEWS", "Northshire NHS Trust", "account svc-north", "bob@northshire.example",
		"alice@contoso.example", "FreeBusyMerged", "None/NoAccess", "denied"} {
		if !strings.Contains(out, want) {
			t.Errorf("audit access lacks %q:\n%s", want, out)
		}
	}
	if out := cli(exitOK, "audit", "access", "-mailbox", "Alice@Contoso.example"); strings.Count(out, "\n") != 2 || !strings.Contains(out, "svc-north") {
		t.Errorf("audit access -mailbox alice:\n%s", out)
	}
	if out := cli(exitOK, "audit", "access", "-since", "24h", "-partner", "northshire nhs trust"); strings.Count(out, "\n") != 2 || !strings.Contains(out, "grace@") {
		t.Errorf("audit access -since 24h:\n%s", out)
	}
	for _, remote := range []bool{false, true} {
		args := []string{"audit", "access", "-partner", "svc-north", "-o", "json"}
		if remote {
			args = append(args, "-server", api.URL, "-token", strings.Repeat("k", 40))
		}
		var got []orgrel.AccessEntry
		if err := json.Unmarshal([]byte(cli(exitOK, args...)), &got); err != nil || len(got) != 1 || got[0].Mailbox[0].View != "FreeBusyMerged" {
			t.Errorf("remote %v: audit access -o json = %+v, %v", remote, got, err)
		}
	}
	if out := cli(exitFailed, "audit", "access", "-since", "yesterday"); !strings.Contains(out, "-since") {
		t.Errorf("a bad -since: %s", out)
	}
	if out := cli(exitFailed, "audit", "access", "-mailbox", "not an address"); !strings.Contains(out, "-mailbox") {
		t.Errorf("a bad -mailbox: %s", out)
	}
	out = cli(exitOK, "audit", "partners", "-since", "24h", "-server", api.URL, "-token", strings.Repeat("k", 40))
	if !strings.Contains(out, "Northshire NHS Trust") || !strings.Contains(out, "denied") || !strings.Contains(out, "LAST SUCCESS") {
		t.Errorf("audit partners:\n%s", out)
	}
}
