package trust_test

import (
	"bytes"
	"context"
	"crypto/x509"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/calfed/calfed/certs"
	"github.com/calfed/calfed/dnsproof"
	"github.com/calfed/calfed/federation"
	"github.com/calfed/calfed/internal/dnstest"
	"github.com/calfed/calfed/orgrel"
	"github.com/calfed/calfed/store"
	"github.com/calfed/calfed/trust"
	"github.com/calfed/calfed/wsfed"
)

// setup is a Service over a fresh SQLite store, a key directory and a DNS
// server on loopback.
func setup(t *testing.T) (*trust.Service, *store.DB, *dnstest.Server) {
	t.Helper()
	dir := t.TempDir()
	db, err := store.Open(context.Background(), store.Config{Driver: "sqlite", DSN: filepath.Join(dir, "calfed.db")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	zone := dnstest.Start(t)
	s := trust.NewService(trust.Config{Store: db, Keys: certs.Dir(filepath.Join(dir, "keys")),
		Resolver: &dnsproof.DNS{Servers: []string{zone.Addr}, Timeout: 300 * time.Millisecond}})
	return s, db, zone
}

func newCertificate(t *testing.T, s *trust.Service, slot certs.Slot) *certs.Certificate {
	t.Helper()
	c, err := certs.Generate("Federation", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.PutCertificate(context.Background(), "alice", "certificate.new", c, slot); err != nil {
		t.Fatal(err)
	}
	return c
}

// publish puts domain's proof for the slot's certificate into the zone.
func publish(t *testing.T, s *trust.Service, zone *dnstest.Server, domain string, slot certs.Slot) {
	t.Helper()
	proofs, err := s.Proofs(context.Background(), domain)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range proofs {
		if p.Slot == string(slot) {
			zone.AddTXT(domain, p.Proof)
		}
	}
}

var first = orgrel.Trust{AccountNamespace: "contoso.example", Domains: []string{"europe.contoso.example"},
	TokenIssuerURI: "urn:federation:MicrosoftOnline", TokenIssuerEndpoint: "https://login.microsoftonline.com/extSTS.srf"}

func actions(t *testing.T, db *store.DB) []string {
	t.Helper()
	entries, err := db.Audit(context.Background(), time.Time{}, 0)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range entries {
		out = append(out, e.Action)
	}
	return out
}

// The first trust is held to the proof rule like every later change; the
// explicit override is recorded as such.
func TestSetFirstTrust(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name      string
		publish   []string
		skip      bool
		want      error
		action    string
		skipped   []string
		noCurrent bool
	}{
		{name: "nothing published", want: trust.ErrUnproven},
		{name: "one of two published", publish: []string{"contoso.example"}, want: trust.ErrUnproven},
		{name: "both published", publish: []string{"contoso.example", "europe.contoso.example"}, action: "trust.set"},
		{name: "skip-proof", skip: true, action: "trust.set.skip-proof", skipped: []string{"contoso.example", "europe.contoso.example"}},
		{name: "no certificate", noCurrent: true, want: trust.ErrUnproven},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, db, zone := setup(t)
			if !tc.noCurrent {
				newCertificate(t, s, "")
			}
			for _, d := range tc.publish {
				publish(t, s, zone, d, certs.Current)
			}
			var skipped []string
			_, err := s.Set(ctx, "alice", first, trust.SetOptions{SkipProof: tc.skip, Skipped: func(d []string) { skipped = d }})
			if !errors.Is(err, tc.want) {
				t.Fatalf("Set = %v, want %v", err, tc.want)
			}
			if tc.want != nil {
				if !errors.Is(err, store.ErrInvalid) {
					t.Errorf("Set = %v, want it to match store.ErrInvalid too", err)
				}
				if _, err := db.Trust(ctx); !errors.Is(err, store.ErrNotFound) {
					t.Errorf("a refused trust was written: %v", err)
				}
				return
			}
			if got := actions(t, db); !slices.Equal(got, []string{"certificate.new", tc.action}) {
				t.Errorf("audit actions = %v, want [certificate.new %s]", got, tc.action)
			}
			if !slices.Equal(skipped, tc.skipped) {
				t.Errorf("Skipped told %v, want %v", skipped, tc.skipped)
			}
		})
	}
}

func TestAddDomainAndTemporaryFailure(t *testing.T) {
	ctx := context.Background()
	s, db, zone := setup(t)
	newCertificate(t, s, "")
	if _, err := s.Set(ctx, "alice", first, trust.SetOptions{SkipProof: true}); err != nil {
		t.Fatal(err)
	}
	zone.Fail("lab.example", 2) // SERVFAIL
	if _, err := s.AddDomain(ctx, "alice", "lab.example", trust.SetOptions{}); !errors.Is(err, trust.ErrProofUnchecked) || errors.Is(err, store.ErrInvalid) {
		t.Errorf("AddDomain while DNS fails = %v, want ErrProofUnchecked only", err)
	}
	zone.Fail("lab.example", 0)
	publish(t, s, zone, "lab.example", certs.Current)
	if added, err := s.AddDomain(ctx, "alice", "Lab.Example", trust.SetOptions{}); !added || err != nil {
		t.Fatalf("AddDomain = %v, %v", added, err)
	}
	if added, err := s.AddDomain(ctx, "alice", "lab.example.", trust.SetOptions{}); added || err != nil {
		t.Errorf("AddDomain again = %v, %v; want false, nil", added, err)
	}
	if got := actions(t, db); !slices.Equal(got, []string{"certificate.new", "trust.set.skip-proof", "domain.add"}) {
		t.Errorf("audit actions = %v", got)
	}
	checks, _ := db.DomainChecks(ctx)
	if len(checks) != 1 || checks[0].Domain != "lab.example" || checks[0].Kind != orgrel.DomainOurs || checks[0].Status != "pass" {
		t.Errorf("recorded checks = %+v", checks)
	}
}

// Certificates fill current first, then next when asked; every change is
// audited; a rollover is recorded in the trust, and a proof of only the previous certificate no longer
// passes.
func TestCertificatesAndRollover(t *testing.T) {
	ctx := context.Background()
	s, db, zone := setup(t)
	cur := newCertificate(t, s, "")
	publish(t, s, zone, "contoso.example", certs.Current)
	publish(t, s, zone, "europe.contoso.example", certs.Current)
	if _, err := s.Set(ctx, "alice", first, trust.SetOptions{}); err != nil {
		t.Fatal(err)
	}
	// A second certificate without a slot is refused: staging is asked
	// for by name.
	if _, err := s.PutCertificate(ctx, "alice", "certificate.new", cur, ""); !errors.Is(err, trust.ErrSlotTaken) || !errors.Is(err, store.ErrInvalid) {
		t.Errorf("a second PutCertificate without a slot = %v, want ErrSlotTaken", err)
	}
	next := newCertificate(t, s, certs.Next)
	ring, _ := s.Certificates(ctx)
	if ring.Get(certs.Current).Thumbprint() != cur.Thumbprint() || ring.Get(certs.Next).Thumbprint() != next.Thumbprint() {
		t.Fatal("the second certificate did not go to next")
	}
	checks, err := s.VerifyOurs(ctx)
	if err != nil || len(checks) != 2 || checks[0].Warning == "" {
		t.Fatalf("VerifyOurs with next unpublished = %+v, %v", checks, err)
	}
	publish(t, s, zone, "contoso.example", certs.Next)
	if _, err := s.Rollover(ctx, "alice"); err != nil {
		t.Fatal(err)
	}
	if got := actions(t, db); !slices.Equal(got, []string{"certificate.new", "trust.set", "certificate.new", "trust.set", "certificate.rollover", "trust.set"}) {
		t.Errorf("audit actions = %v, want each certificate change", got)
	}
	if entries, _ := db.Audit(ctx, time.Time{}, 0); len(entries) > 4 && (!strings.Contains(string(entries[2].After), next.Thumbprint()) || entries[2].Object != "certificate/next" ||
		!strings.Contains(string(entries[4].Before), `"next"`) || !strings.Contains(string(entries[4].After), `"previous"`)) {
		t.Errorf("certificate audit entries: %s %s → %s; %s → %s", entries[2].Object, entries[2].Before, entries[2].After, entries[4].Before, entries[4].After)
	}
	if tr, _ := db.Trust(ctx); tr.CertificateThumbprint != next.Thumbprint() {
		t.Errorf("trust records %s after the rollover, want %s", tr.CertificateThumbprint, next.Thumbprint())
	}
	checks, _ = s.VerifyOurs(ctx)
	status := map[string]dnsproof.Status{}
	for _, c := range checks {
		status[c.Domain] = c.Status
	}
	if status["contoso.example"] != dnsproof.Pass || status["europe.contoso.example"] != dnsproof.Fail {
		t.Errorf("after the rollover: %v", status)
	}
	if _, err := s.PutCertificate(ctx, "alice", "certificate.new", cur, certs.Previous); !errors.Is(err, store.ErrInvalid) {
		t.Errorf("PutCertificate into previous = %v, want ErrInvalid", err)
	}
}

func TestVerifyPartner(t *testing.T) {
	ctx := context.Background()
	s, db, zone := setup(t)
	partner, _ := certs.Generate("partner.example", time.Now())
	sig, _ := dnsproof.Signature(partner.Key, "partner.example")
	zone.SetTXT("partner.example", dnsproof.ProofOfSignature(sig))
	rel := orgrel.Relationship{Name: "Partner", Domains: []string{"partner.example", "other.example"}}
	got := s.VerifyPartner(ctx, rel, &partner.Key.PublicKey, map[string][]byte{"partner.example": sig})
	if len(got) != 2 || got[0].Status != "pass" || got[1].Status != string(dnsproof.PermError) {
		t.Errorf("VerifyPartner = %+v", got)
	}
	if got := s.VerifyPartner(ctx, rel, &partner.Key.PublicKey, nil); got[0].Status != trust.Unverified {
		t.Errorf("without a signature: %+v", got[0])
	}
	checks, _ := db.DomainChecks(ctx)
	if len(checks) != 2 || checks[0].Kind != orgrel.DomainPartner || checks[0].Relationship != "Partner" {
		t.Errorf("recorded checks = %+v", checks)
	}
	rel.Domains = append(rel.Domains, "never.example")
	proofs := trust.PartnerProofs(rel, checks)
	if len(proofs) != 3 || proofs[0].Status != trust.Unverified || proofs[0].Checked == nil || proofs[2].Status != trust.Unverified || proofs[2].Checked != nil {
		t.Errorf("PartnerProofs = %+v", proofs)
	}
}

func TestReadMetadataRefusesPlainHTTP(t *testing.T) {
	_, err := trust.ReadMetadata(context.Background(), nil, "http://issuer.example/FederationMetadata.xml")
	if !errors.Is(err, trust.ErrInsecureMetadataURL) || !errors.Is(err, store.ErrInvalid) {
		t.Errorf("ReadMetadata(http://…) = %v, want ErrInsecureMetadataURL", err)
	}
}

// The validation trust stays the same object while what it holds stays
// the same, so validators keep their caches, and is a new one after any
// change to it: the issuer's certificates, our certificates, our
// ApplicationUri, or the trust gone and back.
func TestValidationChangesWithItsParts(t *testing.T) {
	ctx := context.Background()
	s, db, _ := setup(t)
	newCertificate(t, s, "")
	issuer, _ := certs.Generate("Token issuer", time.Now())
	rolled, _ := certs.Generate("Token issuer (rolled)", time.Now())
	tr := first
	tr.TokenIssuerCertificates = wsfed.EncodeCertificates([]*x509.Certificate{issuer.Cert})
	if _, err := s.Set(ctx, "alice", tr, trust.SetOptions{SkipProof: true}); err != nil {
		t.Fatal(err)
	}
	validation := func() *federation.Trust {
		t.Helper()
		rec, err := db.Trust(ctx)
		if err != nil {
			t.Fatal(err)
		}
		v, err := s.Validation(ctx, &rec)
		if err != nil || v == nil {
			t.Fatalf("Validation = %v, %v", v, err)
		}
		return v
	}
	v := validation()
	for _, step := range []struct {
		name    string
		change  func()
		changed bool
	}{
		{"nothing", func() {}, false},
		{"a domain added (not validation's)", func() {
			rec, _ := db.Trust(ctx)
			rec.Domains = append(rec.Domains, "asia.contoso.example")
			if _, err := s.Set(ctx, "alice", rec, trust.SetOptions{SkipProof: true}); err != nil {
				t.Fatal(err)
			}
		}, false},
		{"a next certificate staged (not used until rolled over)", func() { newCertificate(t, s, certs.Next) }, false},
		{"our certificate rolled over", func() {
			if _, err := s.Rollover(ctx, "alice"); err != nil {
				t.Fatal(err)
			}
		}, true},
		{"the issuer's certificates refreshed", func() {
			rec, _ := db.Trust(ctx)
			rec.TokenIssuerCertificates = wsfed.EncodeCertificates([]*x509.Certificate{rolled.Cert, issuer.Cert})
			if _, err := db.SetTrust(ctx, "alice", rec); err != nil {
				t.Fatal(err)
			}
		}, true},
		{"another ApplicationUri", func() {
			rec, _ := db.Trust(ctx)
			rec.ApplicationURI = "FYDIBOHF25SPDLT.other.example"
			if _, err := db.SetTrust(ctx, "alice", rec); err != nil {
				t.Fatal(err)
			}
		}, true},
		{"the trust gone and back", func() {
			if v, err := s.Validation(ctx, nil); v != nil || err != nil {
				t.Fatalf("Validation(nil) = %v, %v", v, err)
			}
		}, true},
	} {
		step.change()
		next := validation()
		if (next != v) != step.changed {
			t.Errorf("%s: a new validation trust: %v, want %v", step.name, next != v, step.changed)
		}
		v = next
	}
}

// A partner's certificate from a file: a file that is not there is an
// error of its own, one without a usable certificate invalid input, and a
// file that also holds the private key is reported.
func TestPartnerKeyFile(t *testing.T) {
	dir := t.TempDir()
	partner, _ := certs.Generate("partner.example", time.Now())
	both, _ := partner.EncodePEM()
	certOnly := filepath.Join(dir, "cert.pem")
	os.WriteFile(certOnly, both[:bytes.Index(both, []byte("-----BEGIN PRIVATE KEY"))], 0o600)
	withKey := filepath.Join(dir, "both.pem")
	os.WriteFile(withKey, both, 0o600)
	junk := filepath.Join(dir, "junk.pem")
	os.WriteFile(junk, []byte("not PEM"), 0o600)

	if pub, private, err := trust.PartnerKeyFile(certOnly); err != nil || private || !pub.Equal(&partner.Key.PublicKey) {
		t.Errorf("PartnerKeyFile(cert) = %v, %v, %v", pub != nil, private, err)
	}
	if pub, private, err := trust.PartnerKeyFile(withKey); err != nil || !private || pub == nil {
		t.Errorf("PartnerKeyFile(cert and key) = %v, %v, %v; want the key reported", pub != nil, private, err)
	}
	if _, _, err := trust.PartnerKeyFile(junk); !errors.Is(err, store.ErrInvalid) || !strings.Contains(err.Error(), junk) {
		t.Errorf("PartnerKeyFile(junk) = %v; want invalid input naming the file", err)
	}
	if _, _, err := trust.PartnerKeyFile(filepath.Join(dir, "missing.pem")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("PartnerKeyFile(missing) = %v", err)
	}
	if _, err := trust.RegisteredKeyFile(filepath.Join(dir, "missing.yaml"), orgrel.Relationship{}); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("RegisteredKeyFile(missing) = %v", err)
	}
}
