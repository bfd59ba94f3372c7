package interop

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/calfed/calfed/internal/dnstest"
	"github.com/calfed/calfed/orgrel"
)

// org is one organisation's calfed: its own configuration, store,
// certificate and calendars.
type org struct {
	name, domain, dir, config, base string
}

func (o *org) cli(t *testing.T, args ...string) []byte {
	t.Helper()
	out, err := o.try(args...)
	if err != nil {
		t.Fatalf("%s: calfed %s: %v", o.name, strings.Join(args, " "), err)
	}
	return out
}

func (o *org) try(args ...string) ([]byte, error) {
	cmd := exec.Command(calfedBin, append(args, "-config", o.config)...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return out, fmt.Errorf("%v: %s", err, stderr.String())
	}
	return out, nil
}

// newOrg lays out an organisation's directory under root: one user with
// one meeting on 24 March 2026 (sharing details), and a configuration
// that looks up DNS in zone.
func newOrg(root string, zone *dnstest.Server, name, domain, user, subject string) *org {
	dir := filepath.Join(root, name)
	os.MkdirAll(dir, 0o700)
	cal := "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nBEGIN:VEVENT\r\nUID:" + user + "\r\nSUMMARY:" + subject +
		"\r\nDTSTART:20260324T100000Z\r\nDTEND:20260324T110000Z\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
	os.WriteFile(filepath.Join(dir, user+".ics"), []byte(cal), 0o644)
	config := filepath.Join(dir, "calfed.yaml")
	os.WriteFile(config, []byte(fmt.Sprintf("data_dir: data\ndns:\n  resolvers: [%q]\nmailboxes:\n  - address: %s@%s\n    calendar: %s.ics\n    external_sharing: LimitedDetails\n",
		zone.Addr, user, domain, user)), 0o644)
	return &org{name: name, domain: domain, dir: dir, config: config}
}

type proofRecord struct {
	Domain    string `json:"domain"`
	Proof     string `json:"proof"`
	Signature string `json:"signature"`
}

// publishProof puts o's proof of its domain into the zone and returns the
// signature behind it, which a partner needs to tie the proof to o's
// certificate.
func (o *org) publishProof(t *testing.T, zone *dnstest.Server) string {
	t.Helper()
	var recs []proofRecord
	if err := json.Unmarshal(o.cli(t, "domain", "proof", o.domain, "-o", "json"), &recs); err != nil || len(recs) != 1 || recs[0].Domain != o.domain {
		t.Fatalf("%s: domain proof: %v %+v", o.name, err, recs)
	}
	zone.AddTXT(o.domain, recs[0].Proof)
	return recs[0].Signature
}

type answer2 struct {
	Mailbox      string `json:"mailbox"`
	ResponseCode string `json:"response_code"`
	View         string `json:"view"`
	Merged       string `json:"merged"`
	Events       []struct {
		Subject string `json:"subject"`
		Busy    string `json:"busy"`
	} `json:"events"`
}

// freebusy asks through the command line until check accepts the answer
// (a relationship change takes a moment to reach the other server).
func (o *org) freebusy(t *testing.T, as, mailbox string, check func(answer2) bool) answer2 {
	t.Helper()
	var last answer2
	var lastErr error
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); {
		out, err := o.try("freebusy", "-as", as, mailbox, "-start", "2026-03-24", "-end", "2026-03-25", "-view", "DetailedMerged", "-interval", "60", "-o", "json")
		if err == nil {
			var ans []answer2
			if err = json.Unmarshal(out, &ans); err == nil && len(ans) == 1 {
				last = ans[0]
				if check(last) {
					return last
				}
			}
		}
		lastErr = err
		time.Sleep(100 * time.Millisecond) // pacing the retries, not timing anything
	}
	t.Fatalf("%s asking for %s: last answer %+v, last error %v", as, mailbox, last, lastErr)
	return last
}

// Two organisations and a token issuer, every part a real process:
// domain proofs checked over DNS, delegation tokens, Autodiscover over
// /WSSecurity, free/busy at the level each side's relationship grants,
// de-federation, and an issuer rollover.
func TestTwoOrganisations(t *testing.T) {
	root := t.TempDir()
	zone := dnstest.Start(t)
	// Unrelated records share the names, as SPF and site verifications do.
	zone.SetTXT("a.example", "v=spf1 -all")
	zone.SetTXT("b.example", "google-site-verification=abc")
	orgs := map[string]*org{}
	for _, o := range []struct{ name, domain, user, subject string }{
		{"A", "a.example", "alice", "Budget call"},
		{"B", "b.example", "bob", "Design review"},
	} {
		orgs[o.name] = newOrg(root, zone, o.name, o.domain, o.user, o.subject)
		orgs[o.name].cli(t, "trust", "certificate", "new")
		pemOut := orgs[o.name].cli(t, "trust", "certificate", "export")
		os.WriteFile(filepath.Join(root, o.name+".pem"), pemOut, 0o644)
	}
	a, b := orgs["A"], orgs["B"]

	stsConfig := filepath.Join(root, "sts.yaml")
	os.WriteFile(stsConfig, []byte(`issuer_uri: urn:federation:calfed-dev
organizations:
  - {name: A, application_uri: FYDIBOHF25SPDLT.a.example, domains: [a.example], certificate: A.pem}
  - {name: B, application_uri: FYDIBOHF25SPDLT.b.example, domains: [b.example], certificate: B.pem}
`), 0o644)
	sts := startServer(t, regexp.MustCompile(`metadata (http://\S+)`), true, "sts", "serve", "-config", stsConfig, "-listen", "127.0.0.1:0")
	metadata := sts.URL
	endpoint := strings.Replace(metadata, "/FederationMetadata/2006-12/FederationMetadata.xml", "/extSTS.srf", 1)

	// Neither may federate its domain before publishing the proof.
	if out, err := a.try("trust", "new", "-account-namespace", "a.example", "-metadata", metadata); err == nil || !strings.Contains(err.Error(), "calfed domain proof a.example") {
		t.Fatalf("A federated a.example without a published proof: %s %v", out, err)
	}
	sigs := map[string]string{"A": a.publishProof(t, zone), "B": b.publishProof(t, zone)}

	// A sets up its trust in one step; B in the parts it is made of.
	a.cli(t, "trust", "new", "-account-namespace", "a.example", "-metadata", metadata)
	b.cli(t, "trust", "set", "-account-namespace", "b.example", "-token-issuer-uri", "urn:federation:calfed-dev", "-token-issuer-endpoint", endpoint)
	b.cli(t, "trust", "refresh", "-metadata", metadata)
	for _, o := range []*org{a, b} {
		if out := string(o.cli(t, "trust", "test")); !strings.Contains(out, "ok    token validation") {
			t.Errorf("%s: trust test:\n%s", o.name, out)
		}
		s := startServer(t, regexp.MustCompile(`msg=listening ews=(http://\S+)`), false, "serve", "-config", o.config, "-listen", "127.0.0.1:0", "-admin-listen", "127.0.0.1:0",
			"-record", filepath.Join(o.dir, "recorded"))
		o.base = strings.TrimSuffix(s.URL, "/EWS/Exchange.asmx")
	}
	// Each side's relationship with the other: A shares details, B times.
	a.cli(t, "orgrel", "new", "B", "-domains", "b.example", "-free-busy", "-level", "LimitedDetails",
		"-target-application-uri", "FYDIBOHF25SPDLT.b.example", "-target-autodiscover-epr", b.base+"/autodiscover/autodiscover.svc/WSSecurity")
	b.cli(t, "orgrel", "new", "A", "-domains", "a.example", "-free-busy", "-level", "AvailabilityOnly",
		"-target-application-uri", "FYDIBOHF25SPDLT.a.example", "-target-autodiscover-epr", a.base+"/autodiscover/autodiscover.svc/WSSecurity")

	// Each checks the other's proof against the certificate the other
	// registered with the issuer.
	for _, p := range []struct{ self, partner *org }{{a, b}, {b, a}} {
		name, pem := p.partner.name, filepath.Join(root, p.partner.name+".pem")
		if out := string(p.self.cli(t, "orgrel", "show", name)); !strings.Contains(out, "unverified") {
			t.Errorf("%s: before orgrel verify, %s's domain is not shown unverified:\n%s", p.self.name, name, out)
		}
		// A takes B's certificate from B's registration with the issuer,
		// B takes A's from the PEM A sent.
		source := []string{"-cert", pem}
		if p.self == a {
			source = []string{"-sts-config", stsConfig}
		}
		out := string(p.self.cli(t, append(append([]string{"orgrel", "verify", name}, source...), "-signature", p.partner.domain+"="+sigs[name])...))
		if !regexp.MustCompile(regexp.QuoteMeta(p.partner.domain) + `\s+pass`).MatchString(out) {
			t.Errorf("%s: orgrel verify %s:\n%s", p.self.name, name, out)
		}
		// The other side's signature does not fit this certificate.
		if out, err := p.self.try("orgrel", "verify", name, "-cert", pem, "-signature", p.partner.domain+"="+sigs[p.self.name]); err == nil {
			t.Errorf("%s: a signature by the wrong key verified:\n%s", p.self.name, out)
		}
	}
	if out := string(a.cli(t, "domain", "verify")); !regexp.MustCompile(`a\.example\s+pass\s+current`).MatchString(out) {
		t.Errorf("A: domain verify:\n%s", out)
	}

	got := a.freebusy(t, "alice@a.example", "bob@b.example", func(x answer2) bool { return x.ResponseCode == "NoError" })
	if got.View != "FreeBusyMerged" || got.Merged != strings.Repeat("0", 10)+"2"+strings.Repeat("0", 13) || len(got.Events) != 1 || got.Events[0].Subject != "" {
		t.Errorf("A sees B (AvailabilityOnly): %+v", got)
	}
	got = b.freebusy(t, "bob@b.example", "alice@a.example", func(x answer2) bool { return x.ResponseCode == "NoError" })
	if got.View != "DetailedMerged" || len(got.Events) != 1 || got.Events[0].Subject != "Budget call" {
		t.Errorf("B sees A (LimitedDetails, Alice opted in): %+v", got)
	}
	// A's access log names B's user, who asked with a delegation token,
	// and what A gave of Alice (written in the background: read until
	// it is there).
	var seen []orgrel.AccessEntry
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); {
		seen = nil
		if err := json.Unmarshal(a.cli(t, "audit", "access", "-mailbox", "alice@a.example", "-o", "json"), &seen); err != nil {
			t.Fatal(err)
		}
		if slices.ContainsFunc(seen, func(e orgrel.AccessEntry) bool { return e.Operation == "GetUserAvailability" }) {
			break
		}
		time.Sleep(20 * time.Millisecond) // polling the log, not timing anything
	}
	if i := slices.IndexFunc(seen, func(e orgrel.AccessEntry) bool { return e.Operation == "GetUserAvailability" }); i < 0 {
		t.Errorf("A's access log has no GetUserAvailability for Alice: %+v", seen)
	} else if e := seen[i]; e.Relationship != "B" || e.User != "bob@b.example" || e.Account != "" || e.Outcome != orgrel.AccessOK ||
		len(e.Mailbox) != 1 || e.Mailbox[0].View != "DetailedMerged" {
		t.Errorf("A's access log: %+v; want B's bob@b.example given Alice's DetailedMerged", e)
	}

	// B recorded A's federated requests; with the relationships settled,
	// a fresh recording replays against B with tokens A's issuer mints
	// anew, and so does the shipped federated corpus.
	recorded := filepath.Join(b.dir, "recorded")
	os.RemoveAll(recorded)
	a.freebusy(t, "alice@a.example", "bob@b.example", func(x answer2) bool { return x.ResponseCode == "NoError" })
	tokens, _ := filepath.Glob(filepath.Join(recorded, "*", "case.yaml"))
	for _, f := range tokens {
		if data, _ := os.ReadFile(f); !strings.Contains(string(data), "requester: alice@a.example") {
			t.Errorf("%s: not a federated case with its claims:\n%s", f, data)
		}
	}
	if len(tokens) < 2 {
		t.Fatalf("B recorded %d federated exchanges, want Autodiscover and GetUserAvailability", len(tokens))
	}
	for _, corpus := range []string{recorded, "../conformance/corpus-federated"} {
		cmd := exec.Command(calfedBin, "conformance", "replay", "-target", b.base, "-as-config", a.config, corpus)
		if out, err := cmd.CombinedOutput(); err != nil || !summaryLine.Match(out) {
			t.Errorf("replaying %s against B: %v\n%s", corpus, err, out)
		} else if m := summaryLine.FindSubmatch(out); string(m[1]) != string(m[2]) {
			t.Errorf("replaying %s against B:\n%s", corpus, out)
		}
	}
	if dir := os.Getenv("CALFED_INTEROP_RECORD"); dir != "" {
		os.CopyFS(filepath.Join(dir, "federated"), os.DirFS(recorded))
	}

	// B de-federates A: B's Autodiscover no longer knows bob for A, and
	// B's EWS, asked directly (TargetSharingEpr), answers as Exchange
	// does a caller without a relationship: no free/busy access.
	b.cli(t, "orgrel", "disable", "A")
	deadline := time.Now().Add(30 * time.Second)
	for {
		out, err := a.try("freebusy", "-as", "alice@a.example", "bob@b.example", "-start", "2026-03-24", "-o", "json")
		if err != nil && strings.Contains(err.Error(), "InvalidUser") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after de-federation, Autodiscover still answers: %s %v", out, err)
		}
		time.Sleep(50 * time.Millisecond) // pacing the retries, not timing anything
	}
	a.cli(t, "orgrel", "set", "B", "-target-sharing-epr", b.base+"/EWS/Exchange.asmx")
	a.freebusy(t, "alice@a.example", "bob@b.example", func(x answer2) bool { return x.ResponseCode == "ErrorNoFreeBusyAccess" })

	// The issuer rolls its signing certificate; A refreshes its metadata
	// and keeps accepting B's tokens, now signed with the new certificate.
	b.cli(t, "orgrel", "enable", "A")
	if out, err := exec.Command(calfedBin, "sts", "rollover", "-config", stsConfig).CombinedOutput(); err != nil {
		t.Fatalf("sts rollover: %v %s", err, out)
	}
	// Until A reads the new metadata, tokens signed with the new
	// certificate are refused there.
	if out, err := b.try("freebusy", "-as", "bob@b.example", "alice@a.example", "-start", "2026-03-24", "-o", "json"); err == nil {
		t.Errorf("A accepted a token signed by a certificate it has not yet read: %s", out)
	}
	if out, err := a.try("trust", "refresh"); err != nil {
		t.Fatalf("refresh after rollover: %v %s", err, out)
	}
	got = b.freebusy(t, "bob@b.example", "alice@a.example", func(x answer2) bool { return x.ResponseCode == "NoError" })
	if got.Events[0].Subject != "Budget call" {
		t.Errorf("after the issuer's rollover: %+v", got)
	}
}
