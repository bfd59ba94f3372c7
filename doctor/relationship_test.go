package doctor

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/calfed/calfed/certs"
	"github.com/calfed/calfed/dnsproof"
	"github.com/calfed/calfed/internal/dnstest"
	"github.com/calfed/calfed/orgrel"
	"github.com/calfed/calfed/store"
	"github.com/calfed/calfed/trust"
)

// checker is a Checker over a fresh store whose trust names no
// federation certificate, so that no token can be had.
func checker(t *testing.T, rels ...orgrel.Relationship) *Checker {
	t.Helper()
	dir := t.TempDir()
	db, err := store.Open(context.Background(), store.Config{Driver: "sqlite", DSN: filepath.Join(dir, "calfed.db")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	zone := dnstest.Start(t)
	tr := trust.NewService(trust.Config{Store: db, Keys: certs.Dir(filepath.Join(dir, "keys")), Resolver: &dnsproof.DNS{Servers: []string{zone.Addr}, Timeout: 300 * time.Millisecond}})
	if _, err := tr.Set(context.Background(), "test", orgrel.Trust{AccountNamespace: "contoso.example", ApplicationURI: "FYDIBOHF25SPDLT.contoso.example",
		TokenIssuerURI: "urn:federation:MicrosoftOnline", TokenIssuerEndpoint: "https://127.0.0.1:1/extSTS.srf"}, trust.SetOptions{SkipProof: true}); err != nil {
		t.Fatal(err)
	}
	for _, r := range rels {
		if _, err := db.CreateRelationship(context.Background(), "test", r); err != nil {
			t.Fatal(err)
		}
	}
	return &Checker{Records: db, Trust: tr}
}

// A relationship that cannot be used fails its first step, naming each
// problem and its command; nothing further is tried.
func TestRelationshipUnusable(t *testing.T) {
	c := checker(t, orgrel.Relationship{Name: "Northshire NHS Trust", Domains: []string{"northshire.example"}})
	r := c.Relationship(context.Background(), RelationshipOptions{Name: "Northshire NHS Trust"})
	if len(r.Steps) != 1 || r.Passed {
		t.Fatalf("Relationship = %+v, want the one failed step", r)
	}
	s := r.Steps[0]
	for _, want := range []string{"it is disabled", "free/busy access is off", "no TargetApplicationUri", "neither TargetAutodiscoverEpr nor TargetSharingEpr", "no user of ours"} {
		if !strings.Contains(s.Error, want) {
			t.Errorf("error %q lacks %q", s.Error, want)
		}
	}
	for _, want := range []string{"calfed orgrel enable 'Northshire NHS Trust'", "-free-busy", "-target-application-uri", "give -user"} {
		if !strings.Contains(s.Fix, want) {
			t.Errorf("fix %q lacks %q", s.Fix, want)
		}
	}
	if r := c.Relationship(context.Background(), RelationshipOptions{Name: "Nobody", User: "a@contoso.example"}); r.Passed || !strings.Contains(r.Steps[0].Error, `no organisation relationship named "Nobody"`) {
		t.Errorf("an unknown relationship: %+v", r)
	}
}

// Without a token client (no federation certificate), both token steps
// fail and what needs a token is skipped; nothing breaks.
func TestRelationshipWithoutTokens(t *testing.T) {
	c := checker(t, orgrel.Relationship{Name: "P", Domains: []string{"partner.example"}, Enabled: true, FreeBusyAccessEnabled: true,
		FreeBusyAccessLevel: orgrel.AvailabilityOnly, TargetApplicationURI: "FYDIBOHF25SPDLT.partner.example",
		TargetAutodiscoverEPR: "https://127.0.0.1:1/autodiscover/autodiscover.svc/WSSecurity"})
	r := c.Relationship(context.Background(), RelationshipOptions{Name: "P", User: "alice@contoso.example", PartnerUser: "bob@partner.example"})
	for step, want := range map[string]Status{StepRelationship: Pass, StepAutodiscoverToken: Fail, StepFreeBusyToken: Fail,
		StepPartnerRelationship: Skip, StepEWSURL: Skip, StepFreeBusy: Skip, StepFederationInfo: Fail} {
		if got, _ := r.Step(step); got.Status != want {
			t.Errorf("step %q = %+v, want %s", step, got, want)
		}
	}
}
