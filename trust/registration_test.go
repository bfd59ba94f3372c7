package trust_test

import (
	"context"
	"errors"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/calfed/calfed/certs"
	"github.com/calfed/calfed/dnsproof"
	"github.com/calfed/calfed/managedelegation"
	"github.com/calfed/calfed/store"
	"github.com/calfed/calfed/trust"
)

// Registration against a ManageDelegation2 server reading the same DNS
// zone: proofs first, partial progress kept, domains removed at the
// gateway before the trust, and the next certificate published before a
// rollover.
func TestRegister(t *testing.T) {
	ctx := context.Background()
	s, db, zone := setup(t)
	reg, _ := managedelegation.OpenRegistry("")
	gw := httptest.NewServer(&managedelegation.Server{Registry: reg, Resolver: &dnsproof.DNS{Servers: []string{zone.Addr}, Timeout: 300 * time.Millisecond}})
	defer gw.Close()
	newCertificate(t, s, certs.Current)
	publish(t, s, zone, "contoso.example", certs.Current)
	publish(t, s, zone, "europe.contoso.example", certs.Current)
	if _, err := s.Set(ctx, "alice", first, trust.SetOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Register(ctx, "alice", "http://gateway.example/md2.asmx"); !errors.Is(err, store.ErrInvalid) {
		t.Errorf("a plain-HTTP gateway off loopback: %v", err)
	}
	// europe's proof is withdrawn: the rest registers, europe is named.
	zone.SetTXT("europe.contoso.example", "v=spf1 -all")
	r, err := s.Register(ctx, "alice", gw.URL)
	if err == nil || !strings.Contains(err.Error(), "adding europe.contoso.example") || !strings.Contains(err.Error(), "calfed domain proof europe.contoso.example") {
		t.Fatalf("register with one proof missing: %v", err)
	}
	if r.AppID == "" || r.Domain("contoso.example") != "Active" || r.Domain("europe.contoso.example") != "" {
		t.Fatalf("partial registration not kept: %+v", r)
	}
	publish(t, s, zone, "europe.contoso.example", certs.Current)
	if r, err = s.Register(ctx, "alice", ""); err != nil || r.Domain("europe.contoso.example") != "Active" || r.Gateway != gw.URL {
		t.Fatalf("register again: %+v %v", r, err)
	}
	apps := reg.Apps()
	if len(apps) != 1 || apps[0].ID != r.AppID || strings.Join(apps[0].URIs, ",") != "contoso.example,europe.contoso.example" ||
		apps[0].Reserved["fydibohf25spdlt.contoso.example"] != managedelegation.Active {
		t.Fatalf("the gateway has %+v", apps)
	}

	// Removing a domain: the gateway first, then the trust.
	if _, err := s.RemoveDomain(ctx, "alice", "contoso.example"); !errors.Is(err, store.ErrInvalid) {
		t.Errorf("removing the account namespace: %v", err)
	}
	tr, err := s.RemoveDomain(ctx, "alice", "Europe.Contoso.Example.")
	if err != nil || strings.Join(tr.Domains, ",") != "contoso.example" {
		t.Fatalf("remove: %+v %v", tr, err)
	}
	if got := reg.Apps()[0].URIs; strings.Join(got, ",") != "contoso.example" {
		t.Errorf("the gateway still has %v", got)
	}

	// Rollover publishes the next certificate first; a gateway that
	// refuses leaves everything as it was.
	next := newCertificate(t, s, certs.Next)
	gw.Close()
	if _, err := s.Rollover(ctx, "alice"); err == nil || !strings.Contains(err.Error(), "nothing changed") {
		t.Fatalf("rollover with the gateway down: %v", err)
	}
	ring, _ := s.Certificates(ctx)
	if ring.Get(certs.Next) == nil || ring.Get(certs.Next).Thumbprint() != next.Thumbprint() {
		t.Fatal("a refused rollover moved the certificates")
	}
	gw2 := httptest.NewServer(&managedelegation.Server{Registry: reg, Resolver: &dnsproof.DNS{Servers: []string{zone.Addr}, Timeout: 300 * time.Millisecond}})
	defer gw2.Close()
	r, _ = s.Registration(ctx)
	r.Gateway = gw2.URL // the same registry behind a new address
	if _, err := db.SetRegistration(ctx, "alice", "test.move", r); err != nil {
		t.Fatal(err)
	}
	if c, err := s.Rollover(ctx, "alice"); err != nil || c.Thumbprint() != next.Thumbprint() {
		t.Fatalf("rollover: %v", err)
	}
	if got, _ := reg.Apps()[0].Cert(); !got.Equal(next.Cert) {
		t.Error("the gateway does not hold the new current certificate")
	}
	if r, _ := s.Registration(ctx); r.Certificate != next.Thumbprint() {
		t.Errorf("recorded certificate %s, want %s", r.Certificate, next.Thumbprint())
	}
	want := []string{"trust.set", "trust.register", "trust.register", "domain.remove", "domain.remove", "certificate.new", "trust.set", "test.move", "certificate.rollover", "trust.set", "trust.certificate.rollover"}
	if got := actions(t, db); !strings.HasSuffix(strings.Join(got, " "), strings.Join(want, " ")) {
		t.Errorf("audit %v, want it to end with %v", got, want)
	}
}
