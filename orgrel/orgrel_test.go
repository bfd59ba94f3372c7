package orgrel

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/calfed/calfed/internal/identity"
)

// Every combination of relationship state, cap, mailbox sharing and scope.
func TestDecideCombinations(t *testing.T) {
	levels := []Level{None, AvailabilityOnly, LimitedDetails}
	for _, enabled := range []bool{false, true} {
		for _, fbEnabled := range []bool{false, true} {
			for _, cap := range levels {
				for _, sharing := range levels {
					for _, inScope := range []bool{false, true} {
						for _, scoped := range []bool{false, true} {
							rel := &Relationship{Name: "p", Domains: []string{"p.example"}, Enabled: enabled,
								FreeBusyAccessEnabled: fbEnabled, FreeBusyAccessLevel: cap}
							groups := []string{"other"}
							if scoped {
								rel.FreeBusyAccessScope = "staff"
							}
							if inScope {
								groups = append(groups, "staff")
							}
							name := fmt.Sprintf("enabled=%v fb=%v cap=%v sharing=%v scoped=%v member=%v", enabled, fbEnabled, cap, sharing, scoped, inScope)
							got := Decide(rel, sharing, groups)
							want := Decision{}
							if enabled {
								want.Related = true
								if fbEnabled && (!scoped || inScope) {
									want.Level = min(cap, sharing)
								}
							}
							if got != want {
								t.Errorf("%s: Decide = %+v, want %+v", name, got, want)
							}
						}
					}
				}
			}
		}
	}
	if got := Decide(nil, LimitedDetails, nil); got.Related {
		t.Errorf("Decide(nil) = %+v, want unrelated", got)
	}
}

func TestPolicy(t *testing.T) {
	p, err := NewPolicy([]Relationship{
		{Name: "Partner", Domains: []string{"Partner.Example"}, Enabled: true, FreeBusyAccessEnabled: true, FreeBusyAccessLevel: LimitedDetails},
	}, map[string]Level{"Opted@Example.org": LimitedDetails, "hidden@example.org": None})
	if err != nil {
		t.Fatal(err)
	}
	caller := identity.Caller{Domain: "partner.example"}
	for mb, want := range map[string]Level{"opted@example.org": LimitedDetails, "plain@example.org": AvailabilityOnly, "hidden@example.org": None} {
		if got := p.Access(caller, mb, nil); !got.Related || got.Level != want {
			t.Errorf("Access(%s) = %+v, want %v", mb, got, want)
		}
	}
	if got := p.Access(identity.Caller{Domain: "stranger.example"}, "opted@example.org", nil); got.Related {
		t.Errorf("stranger: %+v", got)
	}
	bad := [][]Relationship{
		{{Name: "a", Domains: []string{"x.example"}}, {Name: "b", Domains: []string{"X.example"}}},
		{{Name: "a", Domains: []string{"x.example"}}, {Name: "A", Domains: []string{"y.example"}}},
		{{Name: "a"}},
		{{Name: "", Domains: []string{"x.example"}}},
		{{Name: "a", Domains: []string{"user@x.example"}}},
		{{Name: "a", Domains: []string{"\u212Aelvin.example"}}},
		{{Name: "a", Domains: []string{"bücher.example"}}, {Name: "b", Domains: []string{"xn--bcher-kva.example"}}},
	}
	for _, rels := range bad {
		if _, err := NewPolicy(rels, nil); err == nil {
			t.Errorf("NewPolicy(%+v) succeeded", rels)
		}
	}
}

// Domains and addresses are compared in their canonical form: a U-label
// is its A-label, and a spelling that folds onto another name (KELVIN
// SIGN for k) is no spelling of it.
func TestPolicyCanonicalNames(t *testing.T) {
	p, err := NewPolicy([]Relationship{
		{Name: "Kelvin", Domains: []string{"kelvin.example"}, Enabled: true, FreeBusyAccessEnabled: true, FreeBusyAccessLevel: LimitedDetails},
		{Name: "Books", Domains: []string{"Bücher.example"}, Enabled: true, FreeBusyAccessEnabled: true},
	}, map[string]Level{"kim@contoso.example": LimitedDetails, "Jürgen@contoso.example": None})
	if err != nil {
		t.Fatal(err)
	}
	for domain, want := range map[string]string{
		"kelvin.example": "Kelvin", "KELVIN.example.": "Kelvin", "\u212Aelvin.example": "", "ｋelvin.example": "",
		"bücher.example": "Books", "xn--bcher-kva.example": "Books", "BÜCHER.example": "",
	} {
		r, ok := p.Relationship(domain)
		if ok != (want != "") || ok && r.Name != want {
			t.Errorf("Relationship(%q) = %+v, %v, want %q", domain, r, ok, want)
		}
	}
	if r, _ := p.RelationshipByName("books"); r == nil || r.Domains[0] != "xn--bcher-kva.example" {
		t.Errorf("the relationship keeps its domains as %v", r)
	}
	for mb, want := range map[string]Level{"kim@contoso.example": LimitedDetails, "KIM@Contoso.example": LimitedDetails, "\u212Aim@contoso.example": AvailabilityOnly,
		"jürgen@contoso.example": None, "JÜRGEN@contoso.example": AvailabilityOnly} {
		if got := p.Sharing(mb); got != want {
			t.Errorf("Sharing(%q) = %v, want %v", mb, got, want)
		}
	}
	if _, err := NewPolicy(nil, map[string]Level{"kim@\u212Aelvin.example": None}); err == nil {
		t.Error("NewPolicy took a sharing choice for an address with no canonical form")
	}
}

// A recorded sharing choice replaces the configured default however
// either spells the address.
func TestSnapshotSharingPrecedence(t *testing.T) {
	s := Snapshot{Sharing: []MailboxSharing{{Address: "alice@contoso.example", Level: None}}}
	p, err := s.Policy(map[string]Level{"Alice@Contoso.Example": LimitedDetails})
	if err != nil {
		t.Fatal(err)
	}
	if got := p.Sharing("alice@contoso.example"); got != None {
		t.Errorf("Sharing = %v, want the recorded None", got)
	}
}

func TestAccounts(t *testing.T) {
	hash, err := HashSecret("s3cret")
	if err != nil {
		t.Fatal(err)
	}
	p, _ := NewPolicy([]Relationship{{Name: "Partner", Domains: []string{"partner.example"}, Enabled: true}}, nil)
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	a, err := NewAccounts([]ServiceAccount{{Name: "svc-partner", Relationship: "partner", SecretHash: hash}}, p, NewVerifier(VerifierOptions{Now: func() time.Time { return now }}))
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 2; i++ { // second round is served from the cache
		c, err := a.Authenticate(t.Context(), "SVC-Partner", "s3cret")
		if err != nil || c.Domain != "partner.example" || c.Account != "svc-partner" {
			t.Fatalf("Authenticate = %+v, %v", c, err)
		}
	}
	for _, tc := range [][2]string{{"svc-partner", "wrong"}, {"svc-partner", ""}, {"nobody", "s3cret"}, {"svc-partner", "s3cret "}} {
		if _, err := a.Authenticate(t.Context(), tc[0], tc[1]); !errors.Is(err, ErrBadCredentials) {
			t.Errorf("Authenticate(%q, %q) err = %v, want ErrBadCredentials", tc[0], tc[1], err)
		}
	}
	if _, err := NewAccounts([]ServiceAccount{{Name: "x", Relationship: "missing", SecretHash: hash}}, p, nil); err == nil {
		t.Error("account for a missing relationship accepted")
	}
	for _, h := range []string{"", "plain", "$argon2id$v=19$m=1,t=1,p=1$c2FsdHNhbHQ$a2V5a2V5a2V5a2V5a2V5a2V5", "$argon2i$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$a2V5a2V5a2V5a2V5a2V5"} {
		if _, err := NewAccounts([]ServiceAccount{{Name: "x", Relationship: "partner", SecretHash: h}}, p, nil); !errors.Is(err, ErrBadHash) {
			t.Errorf("hash %q: err = %v, want ErrBadHash", h, err)
		}
	}
}
