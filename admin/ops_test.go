package admin

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/calfed/calfed/orgrel"
	"github.com/calfed/calfed/store"
)

// The read-change-write operations write at the version they read: a
// change made in between makes them fail instead of being lost.
func TestOperationsWriteAtTheVersionRead(t *testing.T) {
	s := newService(t)
	ctx := context.Background()
	if _, err := s.NewRelationship(ctx, "test", orgrel.Relationship{Name: "Partner", Domains: []string{"partner.example"}, Enabled: true}); err != nil {
		t.Fatal(err)
	}
	rel, err := Modify(ctx, s, "test", "orgrel.set", "partner", func(r *orgrel.Relationship) error {
		r.FreeBusyAccessEnabled = true
		return nil
	})
	if err != nil || !rel.FreeBusyAccessEnabled || rel.Version != 2 {
		t.Fatalf("Modify = %+v, %v", rel, err)
	}
	_, err = Modify(ctx, s, "test", "orgrel.set", "partner", func(r *orgrel.Relationship) error {
		// Someone else changes it meanwhile.
		if _, err := Modify(ctx, s, "other", "orgrel.disable", "partner", func(r *orgrel.Relationship) error {
			r.Enabled = false
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		r.OrganizationContact = "someone@partner.example"
		return nil
	})
	if !errors.Is(err, store.ErrConflict) {
		t.Errorf("Modify over a concurrent change = %v, want a conflict", err)
	}
	refused := errors.New("no")
	if _, err := Modify(ctx, s, "test", "orgrel.set", "partner", func(*orgrel.Relationship) error { return refused }); err != refused {
		t.Errorf("Modify with a refused change = %v", err)
	}

	if _, _, err := s.NewAccount(ctx, "test", "Svc-Partner", "Partner"); err != nil {
		t.Fatal(err)
	}
	if a, err := FindAccount(ctx, s, "svc-partner"); err != nil || a.Name != "Svc-Partner" {
		t.Errorf("FindAccount(svc-partner) = %+v, %v", a, err)
	}
	if _, err := FindAccount(ctx, s, "nobody"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("FindAccount(nobody) = %v, want not found", err)
	}
	if a, secret, err := RotateAccount(ctx, s, "test", "SVC-PARTNER", orgrel.RotationOverlap); err != nil || secret == "" || a.Rotated == nil {
		t.Errorf("RotateAccount = %+v, %q, %v", a, secret, err)
	}
	if _, _, err := RotateAccount(ctx, s, "test", "nobody", 0); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("RotateAccount(nobody) = %v, want not found", err)
	}

	var ps bytes.Buffer
	if err := PowerShell(ctx, s, &ps, "Partner"); err != nil || !strings.Contains(ps.String(), "contoso.example") || !strings.Contains(ps.String(), "Svc-Partner") {
		t.Errorf("PowerShell = %v\n%s", err, ps.String())
	}

	m, err := Share(ctx, s, "alice", "alice@contoso.example", orgrel.LimitedDetails)
	if err != nil || m.Level != orgrel.LimitedDetails || m.Source != "recorded" {
		t.Errorf("Share = %+v, %v", m, err)
	}

	if a, err := RevokeAccount(ctx, s, "test", "svc-partner"); err != nil || a.Revoked == nil {
		t.Errorf("RevokeAccount = %+v, %v", a, err)
	}

	rel, err = Remove(ctx, s, "test", "PARTNER")
	if err != nil || rel.Name != "Partner" {
		t.Errorf("Remove = %+v, %v", rel, err)
	}
	if _, err := s.Relationship(ctx, "Partner"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("after Remove: %v", err)
	}
	if _, err := Remove(ctx, s, "test", "Partner"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("Remove of a removed relationship = %v", err)
	}
}

// Without mailboxes there is no domain of ours for the partner to
// federate with.
func TestPowerShellNeedsADomain(t *testing.T) {
	s := newService(t)
	ctx := context.Background()
	if _, err := s.NewRelationship(ctx, "test", orgrel.Relationship{Name: "P", Domains: []string{"p.example"}}); err != nil {
		t.Fatal(err)
	}
	empty := NewService(s.db, s.trust, nil)
	if err := PowerShell(ctx, empty, &bytes.Buffer{}, "P"); err == nil || !strings.Contains(err.Error(), "no domain to federate") {
		t.Errorf("PowerShell without mailboxes = %v", err)
	}
}

func TestWritePlan(t *testing.T) {
	p := Plan{Steps: []Step{
		{Action: "create", Name: "A"},
		{Action: "update", Name: "B", Changes: []Change{{Field: "enabled", Old: "true", New: "false"}}},
		{Action: "unchanged", Name: "C"},
	}}
	var done, dry bytes.Buffer
	WritePlan(&done, p, false)
	WritePlan(&dry, p, true)
	if want := "+ A: created\n~ B: updated\n    enabled: \"true\" -> \"false\"\n= C: unchanged\n"; done.String() != want {
		t.Errorf("WritePlan = %q, want %q", done.String(), want)
	}
	if !strings.Contains(dry.String(), "+ A: would create") || !strings.Contains(dry.String(), "~ B: would update") {
		t.Errorf("WritePlan(dry run) = %q", dry.String())
	}
	var nothing bytes.Buffer
	WritePlan(&nothing, Plan{Steps: []Step{{Action: "unchanged", Name: "C"}}}, false)
	if nothing.String() != "= C: unchanged\nnothing to change\n" {
		t.Errorf("WritePlan(unchanged) = %q", nothing.String())
	}
}

// With no server running there is nothing to wait for; an API that
// cannot say is an error that says the change is saved.
func TestAwaitApplied(t *testing.T) {
	s := newService(t)
	a, err := AwaitApplied(context.Background(), s, time.Second)
	if err != nil || a.String() != "no server is running on this store" {
		t.Errorf("AwaitApplied = %v, %v", a, err)
	}
	if _, err := AwaitApplied(context.Background(), s, MaxWait+time.Second); err == nil || !strings.HasPrefix(err.Error(), "the change is saved") {
		t.Errorf("AwaitApplied beyond MaxWait = %v", err)
	}
	// A server that never applies the change is named.
	if _, err := s.NewRelationship(context.Background(), "test", orgrel.Relationship{Name: "P", Domains: []string{"p.example"}}); err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	if err := s.db.ReportServer(context.Background(), orgrel.Server{ID: "host/1/behind", Started: now, Heartbeat: now, Expires: now.Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	if _, err := AwaitApplied(context.Background(), s, 50*time.Millisecond); !errors.Is(err, ErrNotApplied) || !strings.Contains(err.Error(), "host/1/behind") {
		t.Errorf("AwaitApplied with a server behind = %v", err)
	}
}
