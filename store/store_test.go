package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/calfed/calfed/internal/pgtest"
	"github.com/calfed/calfed/orgrel"
)

type backend struct {
	name string
	cfg  Config
}

// backends are the stores every test runs against, each making a fresh
// database for the (sub)test it is given. PostgreSQL needs a server:
// without one its subtest is skipped, or fails under CALFED_TEST_REQUIRE
// (internal/testenv), while SQLite's runs regardless.
var backends = []struct {
	name   string
	config func(t *testing.T) Config
}{
	{"sqlite", func(t *testing.T) Config {
		return Config{Driver: "sqlite", DSN: filepath.Join(t.TempDir(), "calfed.db"), PollInterval: 20 * time.Millisecond}
	}},
	{"postgres", func(t *testing.T) Config {
		return Config{Driver: "postgres", DSN: pgtest.Database(t), PollInterval: 20 * time.Millisecond}
	}},
}

// forEachBackend runs f as one subtest per backend, with a fresh database.
func forEachBackend(t *testing.T, f func(t *testing.T, b backend)) {
	t.Helper()
	for _, k := range backends {
		t.Run(k.name, func(t *testing.T) { f(t, backend{k.name, k.config(t)}) })
	}
}

func open(t *testing.T, b backend) *DB {
	t.Helper()
	d, err := Open(context.Background(), b.cfg)
	if err != nil {
		t.Fatalf("%s: Open: %v", b.name, err)
	}
	t.Cleanup(func() { d.Close() })
	return d
}

func each(t *testing.T, f func(t *testing.T, b backend, d *DB)) {
	t.Helper()
	forEachBackend(t, func(t *testing.T, b backend) { f(t, b, open(t, b)) })
}

func partner() orgrel.Relationship {
	return orgrel.Relationship{Name: "Partner", Domains: []string{"Partner.Example", "mail.partner.example."}, Enabled: true,
		FreeBusyAccessEnabled: true, FreeBusyAccessLevel: orgrel.AvailabilityOnly,
		Onboarding: orgrel.Onboarding{PartnerOrganization: "Partner NHS Trust", PartnerCode: "RX1", AgreementReference: "DSA-2026-017"}}
}

func TestRelationships(t *testing.T) {
	each(t, func(t *testing.T, b backend, d *DB) {
		ctx := context.Background()
		r, err := d.CreateRelationship(ctx, "alice", partner())
		if err != nil {
			t.Fatal(err)
		}
		if r.Version != 1 || strings.Join(r.Domains, ",") != "mail.partner.example,partner.example" || r.Onboarding.PartnerCode != "RX1" {
			t.Fatalf("created %+v", r)
		}
		if _, err := d.CreateRelationship(ctx, "alice", orgrel.Relationship{Name: "PARTNER", Domains: []string{"x.example"}}); !errors.Is(err, ErrExists) {
			t.Errorf("duplicate name: %v", err)
		}
		if _, err := d.CreateRelationship(ctx, "alice", orgrel.Relationship{Name: "Other", Domains: []string{"PARTNER.example"}}); !errors.Is(err, ErrDomainTaken) {
			t.Errorf("taken domain: %v", err)
		}
		for _, bad := range []orgrel.Relationship{{Name: "", Domains: []string{"a.example"}}, {Name: "x"}, {Name: "x", Domains: []string{"not a domain"}}, {Name: "x", Domains: []string{"localhost"}}} {
			if _, err := d.CreateRelationship(ctx, "alice", bad); !errors.Is(err, ErrInvalid) {
				t.Errorf("CreateRelationship(%+v) = %v, want ErrInvalid", bad, err)
			}
		}
		if _, err := d.CreateRelationship(ctx, "", orgrel.Relationship{Name: "y", Domains: []string{"y.example"}}); !errors.Is(err, ErrInvalid) {
			t.Errorf("no actor: %v", err)
		}

		// Two administrators edit the same version: one wins, one conflicts.
		a, c := r, r
		a.FreeBusyAccessLevel = orgrel.LimitedDetails
		c.Enabled = false
		if _, err := d.UpdateRelationship(ctx, "alice", "orgrel.set", a); err != nil {
			t.Fatal(err)
		}
		if _, err := d.UpdateRelationship(ctx, "bob", "orgrel.disable", c); !errors.Is(err, ErrConflict) {
			t.Fatalf("stale update: %v", err)
		}
		got, _ := d.Relationship(ctx, "partner")
		if got.Version != 2 || got.FreeBusyAccessLevel != orgrel.LimitedDetails || !got.Enabled {
			t.Fatalf("after update: %+v", got)
		}
		if got.MailTipsAccessEnabled || got.MailTipsAccessLevel != orgrel.MailTipsNone {
			t.Fatalf("MailTips before they were set: %v %v", got.MailTipsAccessEnabled, got.MailTipsAccessLevel)
		}
		got.MailTipsAccessEnabled, got.MailTipsAccessLevel = true, orgrel.MailTipsAll
		if got, err = d.UpdateRelationship(ctx, "alice", "orgrel.set", got); err != nil {
			t.Fatal(err)
		}
		if got, _ = d.Relationship(ctx, "partner"); got.Version != 3 || !got.MailTipsAccessEnabled || got.MailTipsAccessLevel != orgrel.MailTipsAll {
			t.Fatalf("MailTips after update: %+v", got)
		}
		bad := got
		bad.MailTipsAccessLevel = 7
		if _, err := d.UpdateRelationship(ctx, "alice", "orgrel.set", bad); !errors.Is(err, ErrInvalid) {
			t.Errorf("MailTips level 7: %v", err)
		}
		if _, err := d.CreateAccount(ctx, "alice", "svc-partner", "Partner", "$hash"); err != nil {
			t.Fatal(err)
		}
		if err := d.DeleteRelationship(ctx, "alice", "partner", 1); !errors.Is(err, ErrConflict) {
			t.Errorf("stale delete: %v", err)
		}
		if err := d.DeleteRelationship(ctx, "alice", "partner", 3); err != nil {
			t.Fatal(err)
		}
		if _, err := d.Account(ctx, "svc-partner"); !errors.Is(err, ErrNotFound) {
			t.Errorf("account outlived its relationship: %v", err)
		}
		// Its domains are free again.
		if _, err := d.CreateRelationship(ctx, "alice", orgrel.Relationship{Name: "Other", Domains: []string{"partner.example"}}); err != nil {
			t.Errorf("reusing a removed relationship's domain: %v", err)
		}
	})
}

func TestConcurrentUpdatesOneWins(t *testing.T) {
	each(t, func(t *testing.T, b backend, d *DB) {
		ctx := context.Background()
		r, err := d.CreateRelationship(ctx, "setup", partner())
		if err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		errs := make([]error, 8)
		for i := range errs {
			wg.Add(1)
			go func() {
				defer wg.Done()
				u := r
				u.OrganizationContact = fmt.Sprintf("admin%d@contoso.example", i)
				_, errs[i] = d.UpdateRelationship(ctx, fmt.Sprintf("admin%d", i), "orgrel.set", u)
			}()
		}
		wg.Wait()
		ok := 0
		for _, err := range errs {
			switch {
			case err == nil:
				ok++
			case !errors.Is(err, ErrConflict):
				t.Errorf("unexpected error: %v", err)
			}
		}
		if ok != 1 {
			t.Errorf("%d updates of version 1 succeeded, want exactly 1", ok)
		}
	})
}

func TestSharingAccountsAndSnapshot(t *testing.T) {
	each(t, func(t *testing.T, b backend, d *DB) {
		ctx := context.Background()
		if _, err := d.CreateRelationship(ctx, "admin", partner()); err != nil {
			t.Fatal(err)
		}
		m, err := d.SetSharing(ctx, "alice@contoso.example", "Alice@Contoso.example", orgrel.LimitedDetails, 0)
		if err != nil || m.Version != 1 || m.Address != "alice@contoso.example" {
			t.Fatalf("SetSharing: %+v, %v", m, err)
		}
		if _, err := d.SetSharing(ctx, "helpdesk", "alice@contoso.example", orgrel.None, 0); !errors.Is(err, ErrConflict) {
			t.Errorf("stale sharing change: %v", err)
		}
		if m, err = d.SetSharing(ctx, "helpdesk", "alice@contoso.example", orgrel.None, 1); err != nil || m.ChangedBy != "helpdesk" {
			t.Fatalf("SetSharing: %+v, %v", m, err)
		}
		a, err := d.CreateAccount(ctx, "admin", "svc-partner", "partner", "$argon2id$old")
		if err != nil || a.Relationship != "Partner" {
			t.Fatalf("CreateAccount: %+v, %v", a, err)
		}
		if _, err := d.CreateAccount(ctx, "admin", "svc-x", "nobody", "h"); !errors.Is(err, ErrNotFound) {
			t.Errorf("account for a missing relationship: %v", err)
		}
		if a, err = d.RotateAccount(ctx, "admin", "svc-partner", "$argon2id$new", 72*time.Hour, 1); err != nil || a.SecretHash != "$argon2id$new" || a.Rotated == nil {
			t.Fatalf("rotate: %+v, %v", a, err)
		}
		// The secret replaced is kept for the overlap.
		if u := a.PreviousValidUntil; a.PreviousSecretHash != "$argon2id$old" || u == nil || u.Sub(*a.Rotated) != 72*time.Hour {
			t.Errorf("after a rotation with a 72h overlap: previous %q until %v (rotated %v)", a.PreviousSecretHash, u, a.Rotated)
		}
		if _, err := d.RotateAccount(ctx, "admin", "svc-partner", "h", -time.Hour, 2); !errors.Is(err, ErrInvalid) {
			t.Errorf("a negative overlap: %v", err)
		}
		if _, err := d.RotateAccount(ctx, "admin", "svc-partner", "h", orgrel.MaxRotationOverlap+time.Hour, 2); !errors.Is(err, ErrInvalid) {
			t.Errorf("an overlap beyond the maximum: %v", err)
		}
		if _, err := d.RevokeAccount(ctx, "admin", "svc-partner", 1); !errors.Is(err, ErrConflict) {
			t.Errorf("stale revoke: %v", err)
		}
		if a, err = d.RevokeAccount(ctx, "admin", "svc-partner", 2); err != nil || a.Revoked == nil || a.PreviousSecretHash != "" || a.PreviousValidUntil != nil {
			t.Fatalf("revoke: %+v, %v", a, err)
		}
		if _, err := d.RotateAccount(ctx, "admin", "svc-partner", "h", 0, 3); !errors.Is(err, ErrInvalid) {
			t.Errorf("rotating a revoked account: %v", err)
		}
		s, err := d.Snapshot(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(s.Relationships) != 1 || len(s.Sharing) != 1 || len(s.Accounts) != 1 || s.Counter != 6 {
			t.Fatalf("snapshot %+v", s)
		}
		p, err := s.Policy(map[string]orgrel.Level{"bob@contoso.example": orgrel.LimitedDetails, "alice@contoso.example": orgrel.LimitedDetails})
		if err != nil {
			t.Fatal(err)
		}
		if p.Sharing("alice@contoso.example") != orgrel.None || p.Sharing("bob@contoso.example") != orgrel.LimitedDetails {
			t.Errorf("recorded choices must win over defaults")
		}
		accts, err := s.ServiceAccounts(p, nil)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := accts.Authenticate(ctx, "svc-partner", "x"); !errors.Is(err, orgrel.ErrBadCredentials) {
			t.Errorf("revoked account authenticates: %v", err)
		}
	})
}

func TestAuditRecordsEveryChangeAndIsAppendOnly(t *testing.T) {
	each(t, func(t *testing.T, b backend, d *DB) {
		ctx := context.Background()
		start := time.Now().Add(-time.Second)
		r, _ := d.CreateRelationship(ctx, "alice", partner())
		r.Enabled = false
		d.UpdateRelationship(ctx, "bob", "orgrel.disable", r)
		d.CreateRelationship(ctx, "carol", orgrel.Relationship{Name: "Bad", Domains: []string{"partner.example"}}) // refused: no entry
		entries, err := d.Audit(ctx, start, 0)
		if err != nil {
			t.Fatal(err)
		}
		if len(entries) != 2 {
			t.Fatalf("%d audit entries, want 2: %+v", len(entries), entries)
		}
		e := entries[1]
		if e.Actor != "bob" || e.Action != "orgrel.disable" || e.Object != "orgrel/Partner" {
			t.Errorf("entry %+v", e)
		}
		var before, after orgrel.Relationship
		if json.Unmarshal(e.Before, &before) != nil || json.Unmarshal(e.After, &after) != nil || !before.Enabled || after.Enabled {
			t.Errorf("before/after not recorded: %s / %s", e.Before, e.After)
		}
		if entries[0].Before != nil {
			t.Errorf("creation has a before: %s", entries[0].Before)
		}
		if later, _ := d.Audit(ctx, time.Now().Add(time.Hour), 0); len(later) != 0 {
			t.Errorf("since filter: %d entries", len(later))
		}
		for _, q := range []string{`UPDATE audit SET actor = 'mallory'`, `DELETE FROM audit`} {
			if _, err := d.db.ExecContext(ctx, q); err == nil {
				t.Errorf("%q succeeded on the audit log", q)
			}
		}
	})
}

func TestSchemaVersions(t *testing.T) {
	each(t, func(t *testing.T, b backend, d *DB) {
		ctx := context.Background()
		d.CreateRelationship(ctx, "alice", partner())
		d.Close()
		again := open(t, b) // reopening migrates nothing and keeps the data
		if rs, err := again.Relationships(ctx); err != nil || len(rs) != 1 {
			t.Fatalf("after reopening: %v, %v", rs, err)
		}
		if _, err := again.db.ExecContext(ctx, `UPDATE schema_version SET version = 99`); err != nil {
			t.Fatal(err)
		}
		again.Close()
		if _, err := Open(ctx, b.cfg); !errors.Is(err, ErrSchemaTooNew) {
			t.Errorf("newer schema: %v", err)
		}
	})
}

// A change made through one handle reaches another handle's watcher.
func TestWatchSeesOtherWriters(t *testing.T) {
	each(t, func(t *testing.T, b backend, d *DB) {
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		other := open(t, b)
		ch := d.Watch(ctx)
		if _, err := other.CreateRelationship(ctx, "alice", partner()); err != nil {
			t.Fatal(err)
		}
		select {
		case <-ch:
		case <-time.After(10 * time.Second):
			t.Fatal("no notification within 10s")
		}
	})
}

func TestTrust(t *testing.T) {
	each(t, func(t *testing.T, b backend, d *DB) {
		ctx := context.Background()
		if _, err := d.Trust(ctx); !errors.Is(err, ErrNotFound) {
			t.Fatalf("no trust yet: %v", err)
		}
		tr, err := d.SetTrust(ctx, "alice", orgrel.Trust{AccountNamespace: "Contoso.Example", Domains: []string{"europe.contoso.example"},
			TokenIssuerURI: "urn:federation:MicrosoftOnline", TokenIssuerEndpoint: "https://login.microsoftonline.com/extSTS.srf"})
		if err != nil {
			t.Fatal(err)
		}
		if tr.ApplicationURI != "FYDIBOHF25SPDLT.contoso.example" || strings.Join(tr.Domains, ",") != "contoso.example,europe.contoso.example" || tr.Version != 1 {
			t.Errorf("trust %+v", tr)
		}
		if _, err := d.SetTrust(ctx, "bob", orgrel.Trust{AccountNamespace: "contoso.example", TokenIssuerURI: "u", TokenIssuerEndpoint: "https://x.example/"}); !errors.Is(err, ErrConflict) {
			t.Errorf("creating over an existing trust: %v", err)
		}
		tr.DiscloseAllDomains = true
		if tr, err = d.SetTrust(ctx, "bob", tr); err != nil || tr.Version != 2 || !tr.DiscloseAllDomains {
			t.Fatalf("update: %+v, %v", tr, err)
		}
		for _, bad := range []orgrel.Trust{
			{AccountNamespace: "not a domain", TokenIssuerURI: "u", TokenIssuerEndpoint: "https://x.example/"},
			{AccountNamespace: "c.example", TokenIssuerURI: "", TokenIssuerEndpoint: "https://x.example/"},
			{AccountNamespace: "c.example", TokenIssuerURI: "u", TokenIssuerEndpoint: "ftp://x.example/"},
		} {
			bad.Version = 2
			if _, err := d.SetTrust(ctx, "bob", bad); !errors.Is(err, ErrInvalid) {
				t.Errorf("SetTrust(%+v) = %v, want ErrInvalid", bad, err)
			}
		}
		if s, _ := d.Snapshot(ctx); s.Trust == nil || s.Trust.Version != 2 {
			t.Errorf("snapshot trust: %+v", s.Trust)
		}
	})
}

func TestDomainChecks(t *testing.T) {
	each(t, func(t *testing.T, b backend, d *DB) {
		ctx := context.Background()
		now := time.Now().UTC().Truncate(time.Second)
		for _, c := range []orgrel.DomainCheck{
			{Domain: "Contoso.example", Kind: "ours", Status: "none", Checked: now},
			{Domain: "contoso.example", Kind: "ours", Status: "pass", Detail: "current", Checked: now.Add(time.Minute)},
			{Domain: "partner.example", Kind: "partner", Relationship: "Partner", Status: "temperror", Checked: now},
		} {
			if err := d.RecordDomainCheck(ctx, c); err != nil {
				t.Fatal(err)
			}
		}
		cs, err := d.DomainChecks(ctx)
		if err != nil || len(cs) != 2 || cs[0].Status != "pass" || cs[0].Detail != "current" || cs[1].Relationship != "Partner" {
			t.Fatalf("checks %+v, %v", cs, err)
		}
	})
}

func TestRegistration(t *testing.T) {
	each(t, func(t *testing.T, b backend, d *DB) {
		ctx := context.Background()
		if _, err := d.Registration(ctx); !errors.Is(err, ErrNotFound) {
			t.Fatalf("no registration yet: %v", err)
		}
		if _, err := d.SetRegistration(ctx, "alice", "trust.register", orgrel.Registration{AppID: "X"}); !errors.Is(err, ErrInvalid) {
			t.Errorf("a registration without its gateway: %v", err)
		}
		r, err := d.SetRegistration(ctx, "alice", "trust.register", orgrel.Registration{Gateway: "https://gw.example/md2.asmx", AppID: "00A1",
			ApplicationURI: "FYDIBOHF25SPDLT.contoso.example", Certificate: "AB", Domains: []orgrel.RegisteredDomain{{Domain: "contoso.example", State: "Active"}}})
		if err != nil || r.Version != 1 || r.Domain("Contoso.example") != "Active" || r.Domain("other.example") != "" {
			t.Fatalf("created %+v, %v", r, err)
		}
		stale := r
		r.Domains = nil
		if r, err = d.SetRegistration(ctx, "bob", "domain.remove", r); err != nil || r.Version != 2 || len(r.Domains) != 0 {
			t.Fatalf("updated %+v, %v", r, err)
		}
		if _, err := d.SetRegistration(ctx, "bob", "trust.register", stale); !errors.Is(err, ErrConflict) {
			t.Errorf("a change made to an old version: %v", err)
		}
		entries, err := d.Audit(ctx, time.Time{}, 10)
		if err != nil || len(entries) != 2 || entries[0].Object != "trust.registration" {
			t.Errorf("audit: %+v %v", entries, err)
		}
	})
}

// Every domain and address the store keeps is in its canonical form
// (internal/domainname): U-labels as A-labels; a spelling that folds onto
// another name (KELVIN SIGN for k) is refused, so it cannot take or reach
// that name's relationship, trust entry or sharing choice.
func TestCanonicalNames(t *testing.T) {
	each(t, func(t *testing.T, b backend, d *DB) {
		ctx := context.Background()
		r, err := d.CreateRelationship(ctx, "alice", orgrel.Relationship{Name: "Books", Domains: []string{"Bücher.example", "kelvin.example"}})
		if err != nil {
			t.Fatal(err)
		}
		if strings.Join(r.Domains, ",") != "kelvin.example,xn--bcher-kva.example" {
			t.Errorf("domains kept as %v", r.Domains)
		}
		for _, dom := range []string{"xn--bcher-kva.example", "bücher.example"} {
			if _, err := d.CreateRelationship(ctx, "alice", orgrel.Relationship{Name: "Other", Domains: []string{dom}}); !errors.Is(err, ErrDomainTaken) {
				t.Errorf("%s, the same domain again: %v, want ErrDomainTaken", dom, err)
			}
		}
		for _, dom := range []string{"\u212Aelvin.example", "ｋelvin.example", "BÜCHER.example", "a_b.example", "192.0.2.1"} {
			_, err := d.CreateRelationship(ctx, "alice", orgrel.Relationship{Name: "Other", Domains: []string{dom}})
			if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), "domain_names") {
				t.Errorf("CreateRelationship(%q) = %v, want ErrInvalid naming domain_names", dom, err)
			}
		}
		tr, err := d.SetTrust(ctx, "alice", orgrel.Trust{AccountNamespace: "Bücher.example", Domains: []string{"europe.bücher.example."},
			TokenIssuerURI: "urn:federation:MicrosoftOnline", TokenIssuerEndpoint: "https://login.microsoftonline.com/extSTS.srf"})
		if err != nil || tr.AccountNamespace != "xn--bcher-kva.example" || strings.Join(tr.Domains, ",") != "europe.xn--bcher-kva.example,xn--bcher-kva.example" {
			t.Errorf("SetTrust = %+v, %v", tr, err)
		}
		if _, err := d.SetTrust(ctx, "alice", orgrel.Trust{Version: tr.Version, AccountNamespace: "xn--bcher-kva.example", Domains: []string{"\u212Aelvin.example"},
			TokenIssuerURI: "u", TokenIssuerEndpoint: "https://x.example/"}); !errors.Is(err, ErrInvalid) {
			t.Errorf("SetTrust(KELVIN SIGN) = %v, want ErrInvalid", err)
		}
		if _, err := d.SetSharing(ctx, "alice", "Kim@Bücher.example", orgrel.None, 0); err != nil {
			t.Fatal(err)
		}
		if m, err := d.MailboxSharing(ctx, "kim@xn--bcher-kva.example"); err != nil || m.Address != "kim@xn--bcher-kva.example" {
			t.Errorf("MailboxSharing = %+v, %v", m, err)
		}
		if _, err := d.MailboxSharing(ctx, "\u212Aim@xn--bcher-kva.example"); !errors.Is(err, ErrNotFound) {
			t.Errorf("MailboxSharing(KELVIN SIGN + im) = %v, want ErrNotFound", err)
		}
		if _, err := d.SetSharing(ctx, "alice", "kim@\u212Aelvin.example", orgrel.None, 0); !errors.Is(err, ErrInvalid) {
			t.Errorf("SetSharing(@KELVIN SIGN) = %v, want ErrInvalid", err)
		}
		if err := d.RecordDomainCheck(ctx, orgrel.DomainCheck{Domain: "\u212Aelvin.example", Kind: "ours", Status: "pass", Checked: time.Now()}); !errors.Is(err, ErrInvalid) {
			t.Errorf("RecordDomainCheck(KELVIN SIGN) = %v, want ErrInvalid", err)
		}
	})
}
