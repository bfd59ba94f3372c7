package interop

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/calfed/calfed/internal/dnstest"
)

var publishLine = regexp.MustCompile(`publish: (\S+)\. 3600 IN TXT "(\S{88})"`)

// Two organisations federate from nothing, as two Exchange organisations
// do: each runs trust new (it makes the certificate and names the DNS
// record to publish), publishes that record, runs trust new again, trust
// register (the token issuer checks the proofs over DNS and learns the
// certificate and domains) and orgrel new; then each sees the other's
// free/busy. The token issuer starts knowing no one, and a certificate
// rollover reaches it through registration.
func TestTwoOrganisationsFromNothing(t *testing.T) {
	root := t.TempDir()
	zone := dnstest.Start(t)
	stsConfig := filepath.Join(root, "sts.yaml")
	os.WriteFile(stsConfig, []byte(fmt.Sprintf("issuer_uri: urn:federation:calfed-dev\ndns:\n  resolvers: [%q]\n", zone.Addr)), 0o644)
	sts := startServer(t, regexp.MustCompile(`metadata (http://\S+)`), true, "sts", "serve", "-config", stsConfig, "-listen", "127.0.0.1:0")
	metadata := sts.URL
	// IIS matches paths without regard to case; Exchange's default has capitals.
	gateway := strings.Replace(metadata, "/FederationMetadata/2006-12/FederationMetadata.xml", "/service/ManageDelegation2.asmx", 1)

	orgs := map[string]*org{}
	for _, o := range []struct{ name, domain, user, subject string }{
		{"A", "a.example", "alice", "Budget call"},
		{"B", "b.example", "bob", "Design review"},
	} {
		x := newOrg(root, zone, o.name, o.domain, o.user, o.subject)
		orgs[o.name] = x

		out, err := x.try("trust", "new", "-account-namespace", o.domain, "-metadata", metadata)
		m := publishLine.FindStringSubmatch(string(out))
		if err == nil || m == nil || m[1] != o.domain {
			t.Fatalf("%s: trust new before the proof is published: %v\n%s", o.name, err, out)
		}
		zone.AddTXT(m[1], m[2])
		x.cli(t, "trust", "new", "-account-namespace", o.domain, "-metadata", metadata)
		if out, err := x.try("trust", "test"); err == nil {
			t.Fatalf("%s: the token issuer issued before registration:\n%s", o.name, out)
		}
		out = x.cli(t, "trust", "register", "-gateway", gateway)
		if !regexp.MustCompile(regexp.QuoteMeta(o.domain) + `\s+Active`).Match(out) {
			t.Fatalf("%s: trust register:\n%s", o.name, out)
		}
		if out := string(x.cli(t, "trust", "test")); !strings.Contains(out, "ok    token validation") {
			t.Fatalf("%s: trust test after registration:\n%s", o.name, out)
		}
		s := startServer(t, regexp.MustCompile(`msg=listening ews=(http://\S+)`), false, "serve", "-config", x.config, "-listen", "127.0.0.1:0", "-admin-listen", "127.0.0.1:0")
		x.base = strings.TrimSuffix(s.URL, "/EWS/Exchange.asmx")
	}
	a, b := orgs["A"], orgs["B"]
	a.cli(t, "orgrel", "new", "B", "-domains", "b.example", "-free-busy", "-level", "LimitedDetails",
		"-target-application-uri", "FYDIBOHF25SPDLT.b.example", "-target-autodiscover-epr", b.base+"/autodiscover/autodiscover.svc/WSSecurity")
	b.cli(t, "orgrel", "new", "A", "-domains", "a.example", "-free-busy", "-level", "LimitedDetails",
		"-target-application-uri", "FYDIBOHF25SPDLT.a.example", "-target-autodiscover-epr", a.base+"/autodiscover/autodiscover.svc/WSSecurity")

	got := a.freebusy(t, "alice@a.example", "bob@b.example", func(x answer2) bool { return x.ResponseCode == "NoError" })
	if len(got.Events) != 1 || got.Events[0].Subject != "Design review" {
		t.Errorf("A sees B: %+v", got)
	}
	got = b.freebusy(t, "bob@b.example", "alice@a.example", func(x answer2) bool { return x.ResponseCode == "NoError" })
	if len(got.Events) != 1 || got.Events[0].Subject != "Budget call" {
		t.Errorf("B sees A: %+v", got)
	}

	// A rolls its federation certificate: the token issuer takes the new
	// one first, then tokens for A are encrypted to it and A's requests
	// signed with it are accepted.
	a.cli(t, "trust", "certificate", "new", "-slot", "next")
	a.cli(t, "trust", "certificate", "rollover")
	var shown struct {
		Thumbprint   string `json:"certificate_thumbprint"`
		Registration struct {
			Certificate string `json:"certificate"`
			Domains     []struct{ Domain, State string }
		} `json:"registration"`
	}
	if err := json.Unmarshal(a.cli(t, "trust", "show", "-o", "json"), &shown); err != nil || shown.Thumbprint == "" ||
		shown.Registration.Certificate != shown.Thumbprint || len(shown.Registration.Domains) != 1 || shown.Registration.Domains[0].State != "Active" {
		t.Errorf("A: trust show after rollover: %+v %v", shown, err)
	}
	got = b.freebusy(t, "bob@b.example", "alice@a.example", func(x answer2) bool { return x.ResponseCode == "NoError" })
	if got.Events[0].Subject != "Budget call" {
		t.Errorf("B sees A after A's rollover: %+v", got)
	}
	a.freebusy(t, "alice@a.example", "bob@b.example", func(x answer2) bool { return x.ResponseCode == "NoError" })
	if out := string(a.cli(t, "trust", "test")); !strings.Contains(out, "ok    token validation") {
		t.Errorf("A: trust test after rollover:\n%s", out)
	}
}
