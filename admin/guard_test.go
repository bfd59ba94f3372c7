package admin

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/calfed/calfed/orgrel"
	"github.com/calfed/calfed/store"
)

// A relationship names a partner's domains, never ours: our mailboxes'
// domains, our trust's account namespace and federated domains, in any
// spelling; and a level is not set while its access is off.
func TestRelationshipGuards(t *testing.T) {
	s := newService(t)
	ctx := context.Background()
	if _, err := s.db.SetTrust(ctx, "test", orgrel.Trust{AccountNamespace: "fabrikam.example", Domains: []string{"fabrikam.example", "europe.fabrikam.example"},
		TokenIssuerURI: "urn:federation:MicrosoftOnline", TokenIssuerEndpoint: "https://login.microsoftonline.com/extSTS.srf"}); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		rel  orgrel.Relationship
		want string // "" for accepted
	}{
		{orgrel.Relationship{Name: "A", Domains: []string{"partner.example", "Contoso.Example."}}, "contoso.example is our own domain (our mailboxes are there)"},
		{orgrel.Relationship{Name: "B", Domains: []string{"EUROPE.fabrikam.example"}}, "europe.fabrikam.example is our own domain (a federated domain of our trust)"},
		{orgrel.Relationship{Name: "C", Domains: []string{"fabrikam.example"}}, "is our own domain"},
		{orgrel.Relationship{Name: "D", Domains: []string{"d.example"}, FreeBusyAccessLevel: orgrel.LimitedDetails}, "gives the partner nothing"},
		{orgrel.Relationship{Name: "E", Domains: []string{"e.example"}, MailTipsAccessLevel: orgrel.MailTipsAll}, "gives the partner nothing"},
		{orgrel.Relationship{Name: "F", Domains: []string{"f.example"}, FreeBusyAccessEnabled: true, FreeBusyAccessLevel: orgrel.LimitedDetails}, ""},
		{orgrel.Relationship{Name: "G", Domains: []string{"sub.contoso.example"}}, ""}, // a partner may sit under our name
	} {
		_, err := s.NewRelationship(ctx, "test", tc.rel)
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("NewRelationship(%s) = %v", tc.rel.Name, err)
		case tc.want != "" && (!errors.Is(err, store.ErrInvalid) || !strings.Contains(err.Error(), tc.want)):
			t.Errorf("NewRelationship(%s) = %v, want ErrInvalid saying %q", tc.rel.Name, err, tc.want)
		}
	}
	// Access turned off keeps its level; the level cannot be raised
	// while it is off; an apply file is held to the same rule.
	off, err := Modify(ctx, s, "test", "orgrel.set", "F", func(r *orgrel.Relationship) error { r.FreeBusyAccessEnabled = false; return nil })
	if err != nil || off.FreeBusyAccessLevel != orgrel.LimitedDetails {
		t.Fatalf("turning access off = %+v, %v", off, err)
	}
	if _, err := Modify(ctx, s, "test", "orgrel.set", "F", func(r *orgrel.Relationship) error { r.FreeBusyAccessLevel = orgrel.AvailabilityOnly; return nil }); !errors.Is(err, store.ErrInvalid) {
		t.Errorf("changing the level with access off = %v, want ErrInvalid", err)
	}
	if _, err := s.Apply(ctx, "test", []orgrel.Relationship{off}, ApplyOptions{DryRun: true}); err != nil {
		t.Errorf("applying the relationship as it is = %v", err)
	}
	raised := off
	raised.FreeBusyAccessLevel = orgrel.AvailabilityOnly
	if _, err := s.Apply(ctx, "test", []orgrel.Relationship{raised}, ApplyOptions{DryRun: true}); !errors.Is(err, store.ErrInvalid) {
		t.Errorf("applying a level with access off = %v, want ErrInvalid", err)
	}
}

// A relationship or account that is not there is not found, with the
// name meant when one is near, or the relationship a domain belongs to.
func TestNotFoundSuggests(t *testing.T) {
	s := newService(t)
	ctx := context.Background()
	if _, err := s.NewRelationship(ctx, "test", orgrel.Relationship{Name: "Northshire NHS Trust", Domains: []string{"northshire.example"}}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.NewAccount(ctx, "test", "svc-northshire", "Northshire NHS Trust"); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		find func() error
		want string
	}{
		{func() error { _, err := FindRelationship(ctx, s, "Northshire NHS Trsut"); return err }, "did you mean 'Northshire NHS Trust'?"},
		{func() error { _, err := FindRelationship(ctx, s, "Northshire.Example"); return err }, "Northshire.Example is a domain of 'Northshire NHS Trust', name that"},
		{func() error { _, err := FindRelationship(ctx, s, "Elsewhere"); return err }, `relationship "Elsewhere"`},
		{func() error { _, err := FindAccount(ctx, s, "svc-northshir"); return err }, "did you mean svc-northshire?"},
		{func() error { _, err := s.Mailbox(ctx, "alcie@contoso.example"); return err }, "did you mean alice@contoso.example?"},
	} {
		err := tc.find()
		if !(errors.Is(err, store.ErrNotFound) || errors.Is(err, ErrUnknownMailbox)) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("= %v, want not found saying %q", err, tc.want)
		}
	}
	if _, err := FindRelationship(ctx, s, "Elsewhere"); strings.Contains(err.Error(), "did you mean") {
		t.Errorf("a name near nothing: %v", err)
	}
}

// A relationships file is read as strictly as before, every problem at
// once with its field and line and the key meant; an empty file is still
// refused, never read as "no relationships".
func TestParseFileProblems(t *testing.T) {
	_, err := ParseFile([]byte(`relationships:
  - name: A
    domain_names: [a.example]
    free_busy_acess_level: LimitedDetails
    onboarding:
      approved: 2026-11-20
      notse: DSA-1
  - name: B
    enabled: maybe
`))
	for _, want := range []string{
		"not a relationships file as orgrel export writes it:\n",
		"\n  line 4: relationships[0].free_busy_acess_level: unknown key; did you mean free_busy_access_level?",
		"\n  line 7: relationships[0].onboarding.notse: unknown key; did you mean notes?",
		"\n  line 9: relationships[1].enabled: \"maybe\" is not true or false",
	} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("ParseFile = %v, want it to say %q", err, want)
		}
	}
	if !errors.Is(err, store.ErrInvalid) {
		t.Errorf("ParseFile = %v, want ErrInvalid", err)
	}
	if f, err := ParseFile([]byte(`relationships: [{name: A, domain_names: [a.example], onboarding: {approved: 2026-11-20}}]`)); err != nil || f.Relationships[0].Onboarding.Approved == nil {
		t.Errorf("a file with a date = %+v, %v", f, err)
	}
	if _, err := ParseFile(nil); !errors.Is(err, store.ErrInvalid) {
		t.Errorf("an empty file = %v, want ErrInvalid", err)
	}
}
