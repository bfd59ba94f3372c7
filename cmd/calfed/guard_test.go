package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
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
