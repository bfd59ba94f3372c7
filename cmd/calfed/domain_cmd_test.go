package main

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/calfed/calfed/certs"
	"github.com/calfed/calfed/config"
	"github.com/calfed/calfed/dnsproof"
	"github.com/calfed/calfed/internal/dnstest"
	"github.com/calfed/calfed/trust"
)

// proofSetup is a configuration in a fresh directory that looks up
// domain proofs on a loopback DNS server; CALFED_CONFIG names it.
func proofSetup(t *testing.T) (zone *dnstest.Server, dir, config string) {
	zone = dnstest.Start(t)
	dir = t.TempDir()
	os.WriteFile(filepath.Join(dir, "a.ics"), []byte("BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n"), 0o644)
	config = filepath.Join(dir, "calfed.yaml")
	os.WriteFile(config, []byte("dns:\n  resolvers: [\""+zone.Addr+"\"]\n  timeout: 300ms\nmailboxes:\n  - address: alice@contoso.example\n    calendar: a.ics\n"), 0o644)
	t.Setenv("CALFED_CONFIG", config)
	t.Setenv("CALFED_ADMIN_URL", "")
	return zone, dir, config
}

// Our domains and a partner's, proved through a DNS server on loopback.
func TestDomainProofCommands(t *testing.T) {
	zone, dir, _ := proofSetup(t)
	cli := cliFor(t)
	proof := func(domain string) trust.Proof {
		t.Helper()
		var recs []trust.Proof
		if err := json.Unmarshal([]byte(cli(exitOK, "domain", "proof", domain, "-o", "json")), &recs); err != nil || len(recs) == 0 {
			t.Fatalf("domain proof %s: %v %+v", domain, err, recs)
		}
		return recs[0]
	}

	cli(exitError, "domain", "proof", "contoso.example") // no certificate yet
	cli(exitOK, "trust", "certificate", "new")
	cur := proof("Contoso.Example ")
	if cur.Domain != "contoso.example" || cur.Slot != "current" || cur.Record != `contoso.example. 3600 IN TXT "`+cur.Proof+`"` {
		t.Errorf("proof record: %+v", cur)
	}
	if out := cli(exitOK, "domain", "proof", "contoso.example"); !strings.Contains(out, cur.Record) || !strings.Contains(out, cur.Thumbprint) {
		t.Errorf("domain proof table:\n%s", out)
	}

	issuer := []string{"-token-issuer-uri", "urn:federation:MicrosoftOnline", "-token-issuer-endpoint", "https://login.microsoftonline.com/extSTS.srf"}
	cli(exitFailed, append([]string{"trust", "set", "-account-namespace", "contoso.example"}, issuer...)...) // NXDOMAIN
	zone.SetTXT("contoso.example", "v=spf1 -all")
	cli(exitFailed, append([]string{"trust", "set", "-account-namespace", "contoso.example"}, issuer...)...) // no proof among the records
	zone.AddTXT("contoso.example", proof("fabrikam.example").Proof)
	cli(exitFailed, append([]string{"trust", "set", "-account-namespace", "contoso.example"}, issuer...)...) // another domain's proof
	zone.Fail("contoso.example", dns.RcodeServerFailure)
	if out := cli(exitError, append([]string{"trust", "set", "-account-namespace", "contoso.example"}, issuer...)...); !strings.Contains(out, "try again") {
		t.Errorf("a temporary failure is not reported as one:\n%s", out)
	}
	zone.Fail("contoso.example", dns.RcodeSuccess)
	zone.AddTXT("contoso.example", cur.Proof)
	cli(exitOK, append([]string{"trust", "set", "-account-namespace", "contoso.example"}, issuer...)...)

	cli(exitFailed, "domain", "add", "europe.contoso.example") // unpublished
	zone.SetTXT("europe.contoso.example", proof("europe.contoso.example").Proof)
	cli(exitOK, "domain", "add", "Europe.Contoso.Example")
	if out := cli(exitOK, "domain", "add", "europe.contoso.example"); !strings.Contains(out, "already federated") {
		t.Errorf("adding twice:\n%s", out)
	}
	cli(exitOK, "domain", "add", "lab.example", "-skip-proof")
	// A domain with no canonical form is refused on the command line,
	// named; a U-label is federated as its A-label.
	for _, args := range [][]string{{"domain", "add", "\u212Aontoso.example", "-skip-proof"}, {"domain", "proof", "con_toso.example"}} {
		if out := cli(exitFailed, args...); !strings.Contains(out, "not a valid host name") {
			t.Errorf("calfed %s:\n%s", strings.Join(args, " "), out)
		}
	}
	if out := cli(exitOK, "domain", "add", "bücher.example", "-skip-proof"); !strings.Contains(out, "federated xn--bcher-kva.example") {
		t.Errorf("domain add of a U-label:\n%s", out)
	}
	if out := cli(exitOK, "audit", "-since", "1h"); !strings.Contains(out, "domain.add.skip-proof") || !strings.Contains(out, "domain.add ") {
		t.Errorf("audit does not record the additions:\n%s", out)
	}

	// lab.example was never proved: verify reports it and fails.
	out := cli(exitFailed, "domain", "verify")
	for _, want := range []string{`contoso\.example\s+pass\s+current`, `europe\.contoso\.example\s+pass`, `lab\.example\s+permerror`} {
		if !regexp.MustCompile(want).MatchString(out) {
			t.Errorf("domain verify: no %s in\n%s", want, out)
		}
	}
	// A staged certificate whose proof is not out yet is warned about;
	// publishing it clears the warning.
	cli(exitOK, "trust", "certificate", "new", "-slot", "next")
	if out := cli(exitFailed, "domain", "verify"); !strings.Contains(out, "next certificate's proof is not published") {
		t.Errorf("no warning for the staged certificate:\n%s", out)
	}
	var next dnsproof.Result
	var recs []trust.Proof
	json.Unmarshal([]byte(cli(exitOK, "domain", "proof", "contoso.example", "-o", "json")), &recs)
	for _, r := range recs {
		if r.Slot == "next" {
			zone.AddTXT("contoso.example", r.Proof)
			next.Matched = append(next.Matched, r.Slot)
		}
	}
	if len(next.Matched) != 1 || len(recs) != 2 {
		t.Fatalf("proofs for current and next: %+v", recs)
	}
	if out := cli(exitFailed, "domain", "verify"); !regexp.MustCompile(`contoso\.example\s+pass\s+next,current\s+-`).MatchString(out) {
		t.Errorf("after publishing the next proof:\n%s", out)
	}
	// After the rollover, the old current certificate is previous: a
	// domain that never published the new one's proof no longer passes.
	cli(exitOK, "trust", "certificate", "rollover")
	out = cli(exitFailed, "domain", "verify")
	for _, want := range []string{`contoso\.example\s+pass\s+current,previous`, `europe\.contoso\.example\s+fail\s+previous\s+.*only the previous certificate's proof`} {
		if !regexp.MustCompile(want).MatchString(out) {
			t.Errorf("after the rollover: no %s in\n%s", want, out)
		}
	}
	if out := cli(exitOK, "domain", "status"); !regexp.MustCompile(`lab\.example\s+ours\s+permerror`).MatchString(out) {
		t.Errorf("domain status:\n%s", out)
	}

	// A partner's domain: its proof is tied to its certificate only
	// through the signature behind it.
	partner, err := certs.Generate("partner.example", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	pemFile := filepath.Join(dir, "partner.pem")
	os.WriteFile(pemFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: partner.Cert.Raw}), 0o600)
	sig, _ := dnsproof.Signature(partner.Key, "partner.example")
	other, _ := dnsproof.Signature(partner.Key, "elsewhere.example")
	cli(exitOK, "orgrel", "new", "Partner", "-domains", "partner.example", "-free-busy")
	if out := cli(exitOK, "orgrel", "show", "Partner"); !regexp.MustCompile(`Domain proof partner\.example:\s+unverified`).MatchString(out) {
		t.Errorf("orgrel show before any check:\n%s", out)
	}
	cli(exitFailed, "orgrel", "verify", "Partner")                   // -cert missing
	cli(exitFailed, "orgrel", "verify", "Partner", "-cert", pemFile) // NXDOMAIN
	zone.SetTXT("partner.example", dnsproof.ProofOfSignature(sig))
	if out := cli(exitFailed, "orgrel", "verify", "Partner", "-cert", pemFile); !strings.Contains(out, "unverified") {
		t.Errorf("without the signature:\n%s", out)
	}
	b64 := base64.StdEncoding.EncodeToString
	cli(exitFailed, "orgrel", "verify", "Partner", "-cert", pemFile, "-signature", "partner.example="+b64(other))
	cli(exitFailed, "orgrel", "verify", "Partner", "-cert", pemFile, "-signature", "partner.example=not base64")
	if out := cli(exitOK, "orgrel", "verify", "Partner", "-cert", pemFile, "-signature", "Partner.Example="+b64(sig)); !regexp.MustCompile(`partner\.example\s+pass`).MatchString(out) {
		t.Errorf("orgrel verify:\n%s", out)
	}
	if out := cli(exitOK, "orgrel", "show", "Partner"); !regexp.MustCompile(`Domain proof partner\.example:\s+pass \(checked `).MatchString(out) {
		t.Errorf("orgrel show after the check:\n%s", out)
	}
	if out := cli(exitOK, "orgrel", "show", "Partner", "-o", "json"); !strings.Contains(out, `"domain_proofs"`) || !strings.Contains(out, `"status": "pass"`) {
		t.Errorf("orgrel show -o json:\n%s", out)
	}
	// The certificate can come from the partner's registration with a
	// token issuer instead.
	sts := filepath.Join(dir, "sts.yaml")
	os.WriteFile(sts, []byte("organizations:\n  - {name: P, application_uri: FYDIBOHF25SPDLT.partner.example, domains: [Partner.Example], certificate: partner.pem}\n"), 0o600)
	if out := cli(exitOK, "orgrel", "verify", "Partner", "-sts-config", sts, "-signature", "partner.example="+b64(sig)); !regexp.MustCompile(`partner\.example\s+pass`).MatchString(out) {
		t.Errorf("orgrel verify -sts-config:\n%s", out)
	}
	cli(exitFailed, "orgrel", "verify", "Partner", "-sts-config", sts, "-cert", pemFile) // one source only
	cli(exitOK, "orgrel", "set", "Partner", "-target-application-uri", "FYDIBOHF25SPDLT.elsewhere.example")
	if out := cli(exitFailed, "orgrel", "verify", "Partner", "-sts-config", sts, "-signature", "partner.example="+b64(sig)); !strings.Contains(out, "relationship expects FYDIBOHF25SPDLT.elsewhere.example") {
		t.Errorf("a registration with another ApplicationUri was used:\n%s", out)
	}
	os.WriteFile(sts, []byte("organizations:\n  - {name: Q, application_uri: FYDIBOHF25SPDLT.q.example, domains: [q.example], certificate: partner.pem}\n"), 0o600)
	cli(exitFailed, "orgrel", "verify", "Partner", "-sts-config", sts)

	// Our own certificate is not the partner's.
	ours := filepath.Join(dir, "ours.pem")
	os.WriteFile(ours, []byte(cli(exitOK, "trust", "certificate", "export")), 0o600)
	cli(exitFailed, "orgrel", "verify", "Partner", "-cert", ours, "-signature", "partner.example="+b64(sig))
}

// The server re-checks our proofs on its own: a proof taken down shows
// as failed in the recorded status, with a warning in the log.
func TestServerRechecksDomains(t *testing.T) {
	zone, _, path := proofSetup(t)
	cli := cliFor(t)
	cli(exitOK, "trust", "certificate", "new")
	var recs []trust.Proof
	json.Unmarshal([]byte(cli(exitOK, "domain", "proof", "contoso.example", "-o", "json")), &recs)
	zone.SetTXT("contoso.example", recs[0].Proof)
	cli(exitOK, "trust", "set", "-account-namespace", "contoso.example", "-token-issuer-uri", "urn:x", "-token-issuer-endpoint", "https://issuer.example/extSTS.srf")

	cfg, err := config.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	db, err := cfg.OpenStore(t.Context(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	zone.SetTXT("contoso.example", "v=spf1 -all") // the proof is taken down
	var logged safeBuffer
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan struct{})
	go func() {
		cfg.TrustService(db, slog.New(slog.NewTextHandler(&logged, nil))).RecheckOurs(ctx, 20*time.Millisecond)
		close(done)
	}()
	var status string
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline) && status != "none"; {
		checks, _ := db.DomainChecks(t.Context())
		for _, c := range checks {
			if c.Kind == "ours" && c.Domain == "contoso.example" {
				status = c.Status
			}
		}
		time.Sleep(10 * time.Millisecond) // polling the store, not timing anything
	}
	cancel()
	<-done
	if status != "none" {
		t.Errorf("after the proof was taken down, the recorded status is %q", status)
	}
	if !strings.Contains(logged.String(), "domain proof check") || !strings.Contains(logged.String(), "contoso.example") {
		t.Errorf("no warning logged:\n%s", logged.String())
	}
}

// safeBuffer is a log sink written by one goroutine and read by another.
type safeBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *safeBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *safeBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
