package main

import (
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/calfed/calfed/admin"
	"github.com/calfed/calfed/orgrel"
	"github.com/calfed/calfed/server"
)

// What would surprise is refused with the fix: a relationship for our
// own domain, a level with its access off; messages carry no package
// prefixes, and hints quote names with spaces.
func TestGuards(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "a.ics"), []byte("BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n"), 0o644)
	cfg := filepath.Join(dir, "calfed.yaml")
	os.WriteFile(cfg, []byte("mailboxes:\n  - address: alice@contoso.example\n    calendar: a.ics\n"), 0o644)
	t.Setenv("CALFED_CONFIG", cfg)
	t.Setenv("CALFED_ADMIN_URL", "")
	cli := cliFor(t)
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"orgrel", "new", "Us", "-domains", "Contoso.Example", "-free-busy"}, "contoso.example is our own domain (our mailboxes are there)"},
		{[]string{"orgrel", "new", "N", "-domains", "n.example", "-level", "LimitedDetails"}, "free_busy_access_level LimitedDetails with free/busy access off gives the partner nothing; turn it on too (-free-busy"},
		{[]string{"orgrel", "new", "N", "-domains", "n.example", "-mail-tips-level", "All"}, "turn it on too (-mail-tips"},
		{[]string{"orgrel", "new", "N", "-domains", "n.example", "-level", "Lots"}, `calfed orgrel new: -level: unknown access level "Lots" (want None, AvailabilityOnly or LimitedDetails)`},
	} {
		out := cli(exitFailed, tc.args...)
		if !strings.Contains(out, tc.want) {
			t.Errorf("calfed %s:\n%s\nwant %q", strings.Join(tc.args, " "), out, tc.want)
		}
		for _, leak := range []string{"store:", "orgrel:", "admin:", "invalid value"} {
			if strings.Contains(out, leak) {
				t.Errorf("calfed %s: %q leaks into\n%s", strings.Join(tc.args, " "), leak, out)
			}
		}
	}
	cli(exitOK, "orgrel", "new", "Northshire NHS Trust", "-domains", "northshire.example", "-free-busy", "-level", "LimitedDetails")
	// Turning access off keeps the level it had: that is allowed.
	cli(exitOK, "orgrel", "set", "Northshire NHS Trust", "-free-busy=false", "-wait", "0")
	// Raising the level while access is off is not.
	cli(exitOK, "orgrel", "set", "Northshire NHS Trust", "-level", "AvailabilityOnly", "-free-busy", "-wait", "0")
	cli(exitOK, "orgrel", "set", "Northshire NHS Trust", "-free-busy=false", "-wait", "0")
	if out := cli(exitFailed, "orgrel", "set", "Northshire NHS Trust", "-level", "LimitedDetails", "-wait", "0"); !strings.Contains(out, "gives the partner nothing") {
		t.Errorf("set -level with access off:\n%s", out)
	}
	if out := cli(exitOK, "orgrel", "show", "Northshire NHS Trust"); !strings.Contains(out, "calfed orgrel verify 'Northshire NHS Trust' checks it") {
		t.Errorf("the hint does not quote the name:\n%s", out)
	}
	// An apply file is held to the same rules.
	plan := filepath.Join(dir, "partners.yaml")
	os.WriteFile(plan, []byte("relationships:\n  - name: Us\n    domain_names: [contoso.example]\n    enabled: true\n"), 0o644)
	if out := cli(exitFailed, "orgrel", "apply", "-f", plan); !strings.Contains(out, "is our own domain") {
		t.Errorf("apply of our own domain:\n%s", out)
	}

	// Federation certificates: the first goes to current; a second only
	// with -slot next; each change audited.
	cli(exitOK, "trust", "certificate", "new")
	if out := cli(exitFailed, "trust", "certificate", "new"); !strings.Contains(out, "give -slot next") {
		t.Errorf("a second certificate without -slot:\n%s", out)
	}
	if out := cli(exitOK, "trust", "certificate", "new", "-slot", "next"); !strings.Contains(out, "next certificate") {
		t.Errorf("-slot next:\n%s", out)
	}
	if out := cli(exitOK, "audit"); strings.Count(out, "certificate.new") != 2 || !strings.Contains(out, "certificate/next") {
		t.Errorf("audit after two certificates:\n%s", out)
	}
	if out := cli(exitFailed, "domain", "proof", "bad domain"); !strings.Contains(out, `calfed domain proof: domain: domain name "bad domain" is not a valid host name`) {
		t.Errorf("domain proof of a bad domain:\n%s", out)
	}
}

// A rotated service account's previous secret signs in to the running
// server until the overlap ends; -overlap 0 cuts it off at once; account
// rotate and account list say until when.
func TestRotationOverlap(t *testing.T) {
	srv, s := demoParts(t, server.Options{})
	svc := admin.NewService(s.DB, s.Trust, s.Built.Mailboxes())
	status := func(secret string) int {
		t.Helper()
		body := `<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body><GetServerTimeZones xmlns="http://schemas.microsoft.com/exchange/services/2006/messages"/></s:Body></s:Envelope>`
		req, _ := http.NewRequest(http.MethodPost, srv.URL+"/EWS/Exchange.asmx", strings.NewReader(body))
		req.SetBasicAuth("svc-partner", secret)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	rotate := func(overlap time.Duration) string {
		t.Helper()
		a, secret, err := admin.RotateAccount(t.Context(), svc, "test", "svc-partner", overlap)
		if err != nil {
			t.Fatal(err)
		}
		if (overlap > 0) != (a.PreviousValidUntil != nil) {
			t.Errorf("rotated with overlap %v: previous valid until %v", overlap, a.PreviousValidUntil)
		}
		if err := s.Policy.Load(t.Context()); err != nil {
			t.Fatal(err)
		}
		return secret
	}
	second := rotate(orgrel.RotationOverlap)
	if got := status("router-test-secret"); got != http.StatusOK {
		t.Errorf("the previous secret during the overlap: %d", got)
	}
	if got := status(second); got != http.StatusOK {
		t.Errorf("the new secret: %d", got)
	}
	third := rotate(0)
	if got := status(second); got != http.StatusUnauthorized {
		t.Errorf("the previous secret after a rotation without overlap: %d", got)
	}
	if got := status("router-test-secret"); got != http.StatusUnauthorized {
		t.Errorf("the secret before that: %d", got)
	}
	if got := status(third); got != http.StatusOK {
		t.Errorf("the newest secret: %d", got)
	}
}

// account rotate keeps the previous secret for the overlap asked (default
// 7 days) and says until when; account list shows it.
func TestAccountRotateCommand(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "a.ics"), []byte("BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n"), 0o644)
	cfg := filepath.Join(dir, "calfed.yaml")
	os.WriteFile(cfg, []byte("mailboxes:\n  - address: alice@contoso.example\n    calendar: a.ics\n"), 0o644)
	t.Setenv("CALFED_CONFIG", cfg)
	t.Setenv("CALFED_ADMIN_URL", "")
	cli := cliFor(t)
	cli(exitOK, "orgrel", "new", "Partner", "-domains", "partner.example", "-free-busy")
	cli(exitOK, "account", "new", "svc-partner", "-relationship", "Partner")
	before := time.Now()
	out := cli(exitOK, "account", "rotate", "svc-partner")
	m := regexp.MustCompile(`previous secret keeps working until (\S+);`).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("account rotate does not say until when the previous secret works:\n%s", out)
	}
	until, err := time.Parse(time.RFC3339, m[1])
	if err != nil || until.Before(before.Add(orgrel.RotationOverlap-time.Minute)) || until.After(time.Now().Add(orgrel.RotationOverlap+time.Minute)) {
		t.Errorf("previous secret until %s (%v), want 7 days on", m[1], err)
	}
	if out := cli(exitOK, "account", "list"); !strings.Contains(out, "PREVIOUS SECRET UNTIL") || !strings.Contains(out, until.UTC().Format("2006-01-02 15:04")) {
		t.Errorf("account list does not show the previous secret:\n%s", out)
	}
	if out := cli(exitOK, "account", "rotate", "svc-partner", "-overlap", "0", "-o", "json"); strings.Contains(out, "previous_valid_until") {
		t.Errorf("-overlap 0 kept the previous secret:\n%s", out)
	}
	cli(exitFailed, "account", "rotate", "svc-partner", "-overlap", "-1h")
	cli(exitFailed, "account", "rotate", "svc-partner", "-overlap", "1000h")
}
