package admin

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/calfed/calfed/certs"
	"github.com/calfed/calfed/dnsproof"
	"github.com/calfed/calfed/internal/dnstest"
	"github.com/calfed/calfed/orgrel"
	"github.com/calfed/calfed/store"
	"github.com/calfed/calfed/trust"
)

func newService(t *testing.T) *Service {
	s, _, _ := fixture(t)
	return s
}

// fixture is a Service over a fresh store, a key directory and a DNS
// server on loopback that serves domain proofs.
func fixture(t *testing.T) (*Service, *dnstest.Server, certs.Dir) {
	t.Helper()
	dir := t.TempDir()
	db, err := store.Open(context.Background(), store.Config{Driver: "sqlite", DSN: filepath.Join(dir, "calfed.db")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	zone := dnstest.Start(t)
	keys := certs.Dir(filepath.Join(dir, "keys"))
	tr := trust.NewService(trust.Config{Store: db, Keys: keys, Resolver: &dnsproof.DNS{Servers: []string{zone.Addr}, Timeout: 300 * time.Millisecond}})
	return NewService(db, tr, []Mailbox{
		{Address: "alice@contoso.example", Groups: []string{"staff"}, DefaultSharing: orgrel.AvailabilityOnly},
		{Address: "room@contoso.example", DefaultSharing: orgrel.LimitedDetails},
		{Address: "x@other.example"},
	}), zone, keys
}

const file = `
relationships:
  - name: Partner
    domain_names: [partner.example]
    free_busy_access_enabled: true
  - name: Trust
    domain_names: [trust.example, trust2.example]
    free_busy_access_enabled: true
    free_busy_access_level: LimitedDetails
    free_busy_access_scope: staff
    onboarding:
      partner_code: RX1
      approved: 2026-11-01T00:00:00Z
  - name: Off
    domain_names: [off.example]
    enabled: false
`

func TestParseFileDefaultsAndStrictness(t *testing.T) {
	f, err := ParseFile([]byte(file))
	if err != nil {
		t.Fatal(err)
	}
	p, tr, off := f.Relationships[0], f.Relationships[1], f.Relationships[2]
	if !p.Enabled || p.FreeBusyAccessLevel != orgrel.AvailabilityOnly || !tr.Enabled || tr.FreeBusyAccessLevel != orgrel.LimitedDetails ||
		off.Enabled || off.FreeBusyAccessEnabled || off.FreeBusyAccessLevel != orgrel.None || tr.Onboarding.Approved == nil {
		t.Errorf("defaults: %+v", f.Relationships)
	}
	if off.MailTipsAccessEnabled || off.MailTipsAccessLevel != orgrel.MailTipsNone {
		t.Errorf("MailTips default: %+v", off)
	}
	for _, bad := range []string{
		"relationships:\n  - name: x\n    domain_names: [x.example]\n    colour: blue\n",
		"relationships:\n  - name: x\n    onboarding:\n      partner_kode: 1\n",
		"relationships:\n  - name: x\n    free_busy_access_level: Lots\n",
		"relationship:\n  - name: x\n",
	} {
		if _, err := ParseFile([]byte(bad)); !errors.Is(err, store.ErrInvalid) {
			t.Errorf("ParseFile(%q) = %v, want ErrInvalid", bad, err)
		}
	}
	out, err := f.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	again, err := ParseFile(out)
	if err != nil || len(again.Relationships) != 3 || again.Relationships[2].Enabled {
		t.Errorf("export does not parse back: %v\n%s", err, out)
	}
}

// MailTips default as in Exchange: off, and Limited once switched on.
func TestParseFileMailTips(t *testing.T) {
	f, err := ParseFile([]byte(`
relationships:
  - name: Tips
    domain_names: [tips.example]
    mail_tips_access_enabled: true
  - name: AllTips
    domain_names: [alltips.example]
    mail_tips_access_enabled: true
    mail_tips_access_level: All
  - name: Listed
    domain_names: [listed.example]
    mail_tips_access_level: Limited
`))
	if err != nil {
		t.Fatal(err)
	}
	want := []struct {
		on    bool
		level orgrel.MailTipsLevel
	}{{true, orgrel.MailTipsLimited}, {true, orgrel.MailTipsAll}, {false, orgrel.MailTipsLimited}}
	for i, w := range want {
		if r := f.Relationships[i]; r.MailTipsAccessEnabled != w.on || r.MailTipsAccessLevel != w.level {
			t.Errorf("%s: MailTips %v %v, want %v %v", r.Name, r.MailTipsAccessEnabled, r.MailTipsAccessLevel, w.on, w.level)
		}
	}
	if _, err := ParseFile([]byte("relationships:\n  - name: x\n    mail_tips_access_level: LimitedDetails\n")); !errors.Is(err, store.ErrInvalid) {
		t.Errorf("a free/busy level as MailTips level: %v, want ErrInvalid", err)
	}
}

func TestApplyIsIdempotentAndDryRunChangesNothing(t *testing.T) {
	s := newService(t)
	ctx := context.Background()
	f, _ := ParseFile([]byte(file))
	plan, err := s.Apply(ctx, "test", f.Relationships, ApplyOptions{DryRun: true})
	if err != nil || len(plan.Steps) != 3 || plan.Steps[0].Action != "create" {
		t.Fatalf("dry run: %+v, %v", plan, err)
	}
	if rels, _ := s.Relationships(ctx); len(rels) != 0 {
		t.Fatalf("dry run changed the store: %d relationships", len(rels))
	}
	if _, err := s.Apply(ctx, "test", f.Relationships, ApplyOptions{}); err != nil {
		t.Fatal(err)
	}
	plan, err = s.Apply(ctx, "test", f.Relationships, ApplyOptions{})
	if err != nil || plan.Changed() {
		t.Fatalf("second apply: %+v, %v", plan, err)
	}
	entries, _ := s.Audit(ctx, time.Time{}, 0)
	if len(entries) != 3 {
		t.Errorf("%d audit entries after applying twice, want 3", len(entries))
	}
	f.Relationships[0].FreeBusyAccessLevel = orgrel.LimitedDetails
	plan, err = s.Apply(ctx, "test", f.Relationships[:2], ApplyOptions{Prune: true, DryRun: true})
	if err != nil {
		t.Fatal(err)
	}
	got := []string{}
	for _, st := range plan.Steps {
		got = append(got, st.Action+" "+st.Name)
	}
	if strings.Join(got, ",") != "update Partner,unchanged Trust,remove Off" || plan.Steps[0].Changes[0].Field != "free_busy_access_level" {
		t.Errorf("plan = %v %+v", got, plan.Steps[0].Changes)
	}
	bad := []orgrel.Relationship{{Name: "S", Domains: []string{"s.example"}, FreeBusyAccessScope: "no-such-group"}}
	if _, err := s.Apply(ctx, "test", bad, ApplyOptions{}); !errors.Is(err, store.ErrInvalid) {
		t.Errorf("unknown scope group: %v", err)
	}
}

func TestMailboxSharingSources(t *testing.T) {
	s := newService(t)
	ctx := context.Background()
	for addr, want := range map[string]string{"alice@contoso.example": "default", "ROOM@contoso.example": "configuration"} {
		m, err := s.Mailbox(ctx, addr)
		if err != nil || m.Source != want {
			t.Errorf("Mailbox(%s) = %+v, %v; want source %s", addr, m, err, want)
		}
	}
	m, err := s.ShareMailbox(ctx, "alice", "alice@contoso.example", orgrel.LimitedDetails, 0)
	if err != nil || m.Source != "recorded" || m.Level != orgrel.LimitedDetails || m.ChangedBy != "alice" {
		t.Errorf("ShareMailbox = %+v, %v", m, err)
	}
	if _, err := s.ShareMailbox(ctx, "x", "nobody@contoso.example", orgrel.None, 0); !errors.Is(err, ErrUnknownMailbox) {
		t.Errorf("unknown mailbox: %v", err)
	}
	if m, err := s.Mailbox(ctx, "Alice@Contoso.Example."); err != nil || m.Address != "alice@contoso.example" {
		t.Errorf("Mailbox in another spelling: %+v, %v", m, err)
	}
	if d, _ := s.Domains(ctx); strings.Join(d, ",") != "contoso.example,other.example" {
		t.Errorf("Domains = %v", d)
	}
}

// The client against the handler offers what the service offers, errors
// included, and nothing without the token.
func TestClientThroughHandler(t *testing.T) {
	s := newService(t)
	h := NewHandler(s, "the-admin-token-0123456789abcdef0123", nil)
	mux := http.NewServeMux()
	for _, r := range h.Routes() {
		mux.Handle(r.Method+" "+r.Path, r.Handler)
	}
	srv := httptest.NewServer(mux)
	defer srv.Close()
	ctx := context.Background()

	for _, tok := range []string{"", "wrong"} {
		c := NewClient(srv.URL, tok, "eve")
		if _, err := c.Relationships(ctx); err == nil || !strings.Contains(err.Error(), "token") {
			t.Errorf("token %q: %v", tok, err)
		}
	}
	c := NewClient(srv.URL, "the-admin-token-0123456789abcdef0123", "alice@host")
	r, err := c.NewRelationship(ctx, "", orgrel.Relationship{Name: "Partner", Domains: []string{"partner.example"}, Enabled: true})
	if err != nil || r.Version != 1 {
		t.Fatalf("NewRelationship: %+v, %v", r, err)
	}
	if _, err := c.NewRelationship(ctx, "", orgrel.Relationship{Name: "Other", Domains: []string{"partner.example"}}); !errors.Is(err, store.ErrDomainTaken) {
		t.Errorf("taken domain over the API: %v", err)
	}
	r.Enabled = false
	if _, err := c.SetRelationship(ctx, "", "orgrel.disable", r); err != nil {
		t.Fatal(err)
	}
	if _, err := c.SetRelationship(ctx, "", "orgrel.enable", r); !errors.Is(err, store.ErrConflict) {
		t.Errorf("stale write over the API: %v", err)
	}
	if _, err := c.Relationship(ctx, "nobody"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("missing relationship: %v", err)
	}
	acct, secret, err := c.NewAccount(ctx, "", "svc-partner", "partner")
	if err != nil || len(secret) < 30 || acct.SecretHash != "" {
		t.Fatalf("NewAccount: %+v %q %v", acct, secret, err)
	}
	// A rotation over the API keeps the previous secret for the overlap
	// asked; an overlap out of bounds is refused.
	if _, _, err := c.RotateAccount(ctx, "", "svc-partner", orgrel.MaxRotationOverlap+time.Hour, acct.Version); !errors.Is(err, store.ErrInvalid) {
		t.Errorf("rotation with too long an overlap over the API: %v", err)
	}
	rotated, _, err := c.RotateAccount(ctx, "", "svc-partner", 72*time.Hour, acct.Version)
	if err != nil || rotated.PreviousValidUntil == nil || rotated.Rotated == nil || rotated.PreviousValidUntil.Sub(*rotated.Rotated) != 72*time.Hour {
		t.Errorf("rotation with a 72h overlap over the API: %+v, %v", rotated, err)
	}
	req, _ := http.NewRequest(http.MethodPost, srv.URL+"/v1/accounts/svc-partner/rotate", strings.NewReader(`{"version": 2, "overlap": "soon"}`))
	req.Header.Set("Authorization", "Bearer the-admin-token-0123456789abcdef0123")
	req.Header.Set("Content-Type", "application/json")
	if resp, err := http.DefaultClient.Do(req); err != nil {
		t.Error(err)
	} else {
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusBadRequest || !strings.Contains(string(body), `overlap \"soon\"`) {
			t.Errorf("rotation with overlap \"soon\": %d %s", resp.StatusCode, body)
		}
	}
	if _, err := c.ShareMailbox(ctx, "", "nobody@contoso.example", orgrel.None, 0); !errors.Is(err, ErrUnknownMailbox) {
		t.Errorf("unknown mailbox over the API: %v", err)
	}
	entries, err := c.Audit(ctx, time.Now().Add(-time.Hour), 0)
	if err != nil || len(entries) != 4 || entries[1].Actor != "alice@host via admin API" {
		t.Fatalf("Audit: %+v, %v", entries, err)
	}
	plan, err := c.Apply(ctx, "", nil, ApplyOptions{DryRun: true, Prune: true})
	if err != nil || len(plan.Steps) != 1 || plan.Steps[0].Action != "remove" {
		t.Errorf("Apply over the API: %+v, %v", plan, err)
	}
	if got, err := c.DomainChecks(ctx); err != nil || len(got) != 0 {
		t.Errorf("DomainChecks before any: %+v, %v", got, err)
	}
	checked := time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)
	s.db.RecordDomainCheck(ctx, orgrel.DomainCheck{Domain: "partner.example", Kind: "partner", Relationship: "Partner", Status: "pass", Checked: checked})
	if got, err := c.DomainChecks(ctx); err != nil || len(got) != 1 || got[0].Status != "pass" || !got[0].Checked.Equal(checked) || got[0].Relationship != "Partner" {
		t.Errorf("DomainChecks over the API: %+v, %v", got, err)
	}
	if _, err := c.Registration(ctx); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("Registration before any: %v", err)
	}
	s.db.SetRegistration(ctx, "alice", "trust.register", orgrel.Registration{Gateway: "https://gw.example/", AppID: "0A",
		Domains: []orgrel.RegisteredDomain{{Domain: "contoso.example", State: "Active"}}})
	if got, err := c.Registration(ctx); err != nil || got.AppID != "0A" || got.Domain("contoso.example") != "Active" {
		t.Errorf("Registration over the API: %+v, %v", got, err)
	}
	// A domain or address with no canonical form is refused, naming it
	// and the field.
	if _, err := c.NewRelationship(ctx, "", orgrel.Relationship{Name: "Kelvin", Domains: []string{"\u212Aelvin.example"}}); !errors.Is(err, store.ErrInvalid) ||
		!strings.Contains(err.Error(), "domain_names") || !strings.Contains(err.Error(), "kelvin.example") {
		t.Errorf("a KELVIN SIGN domain over the API: %v", err)
	}
	if _, err := c.ShareMailbox(ctx, "", "alice@\u212Aelvin.example", orgrel.None, 0); !errors.Is(err, store.ErrInvalid) || !strings.Contains(err.Error(), "address") {
		t.Errorf("a KELVIN SIGN address over the API: %v", err)
	}
	if _, err := c.Apply(ctx, "", []orgrel.Relationship{{Name: "K", Domains: []string{"k_1.example"}}}, ApplyOptions{DryRun: true}); !errors.Is(err, store.ErrInvalid) ||
		!strings.Contains(err.Error(), "relationships[0] (K).domain_names[0]") {
		t.Errorf("a bad domain in a file over the API: %v", err)
	}
	req, _ = http.NewRequest("POST", srv.URL+"/v1/orgrels", strings.NewReader(`{"name":"x","domain_names":["x.example"],"surprise":1}`))
	req.Header.Set("Authorization", "Bearer the-admin-token-0123456789abcdef0123")
	resp, err := http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != http.StatusBadRequest {
		t.Errorf("unknown JSON field: %v %v", resp.StatusCode, err)
	}
}

// No domain joins the trust through the admin API without its published
// proof: not when the trust is first made, nor later.
func TestSetTrustRequiresProofs(t *testing.T) {
	s, zone, keys := fixture(t)
	ctx := context.Background()
	cur, err := certs.Generate("Federation contoso.example", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	ring, _ := certs.Load(ctx, keys)
	if err := ring.Put(ctx, keys, certs.Current, cur); err != nil {
		t.Fatal(err)
	}
	h := NewHandler(s, "the-admin-token-0123456789abcdef0123", nil)
	mux := http.NewServeMux()
	for _, r := range h.Routes() {
		mux.Handle(r.Method+" "+r.Path, r.Handler)
	}
	srv := httptest.NewServer(mux)
	defer srv.Close()
	c := NewClient(srv.URL, "the-admin-token-0123456789abcdef0123", "alice@host")
	first := orgrel.Trust{AccountNamespace: "contoso.example", TokenIssuerURI: "urn:federation:MicrosoftOnline",
		TokenIssuerEndpoint: "https://login.microsoftonline.com/extSTS.srf"}

	// The first trust, its account namespace unproven: refused, nothing
	// written, nothing audited.
	if _, err := c.SetTrust(ctx, "", first); !errors.Is(err, store.ErrInvalid) {
		t.Fatalf("first trust with an unproven domain over the API: %v, want ErrInvalid", err)
	}
	if _, err := s.SetTrust(ctx, "alice", first); !errors.Is(err, trust.ErrUnproven) {
		t.Errorf("first trust with an unproven domain: %v, want trust.ErrUnproven", err)
	}
	if _, err := c.Trust(ctx); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("a refused trust was written: %v", err)
	}
	zone.Fail("contoso.example", dns.RcodeServerFailure)
	if _, err := c.SetTrust(ctx, "", first); !errors.Is(err, trust.ErrProofUnchecked) {
		t.Errorf("first trust while DNS fails: %v, want trust.ErrProofUnchecked", err)
	}
	zone.Fail("contoso.example", dns.RcodeSuccess)
	if entries, _ := c.Audit(ctx, time.Time{}, 0); len(entries) != 0 {
		t.Errorf("refused changes were audited: %+v", entries)
	}

	// Published, it is accepted.
	proofs, err := s.trust.Proofs(ctx, "contoso.example")
	if err != nil {
		t.Fatal(err)
	}
	zone.SetTXT("contoso.example", proofs[0].Proof)
	tr, err := c.SetTrust(ctx, "", first)
	if err != nil || tr.Version != 1 {
		t.Fatalf("first trust with its proof published: %+v, %v", tr, err)
	}

	// A domain added later is held to the same rule.
	tr.Domains = append(tr.Domains, "europe.contoso.example")
	if _, err := c.SetTrust(ctx, "", tr); !errors.Is(err, store.ErrInvalid) {
		t.Errorf("unproven domain added over the API: %v, want ErrInvalid", err)
	}
	proofs, _ = s.trust.Proofs(ctx, "europe.contoso.example")
	zone.SetTXT("europe.contoso.example", proofs[0].Proof)
	if tr, err = c.SetTrust(ctx, "", tr); err != nil || tr.Version != 2 {
		t.Fatalf("proven domain added over the API: %+v, %v", tr, err)
	}
	entries, _ := c.Audit(ctx, time.Time{}, 0)
	if len(entries) != 2 || entries[0].Action != "trust.set" || entries[1].Action != "trust.set" {
		t.Errorf("audit: %+v", entries)
	}
}
