package admin

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/calfed/calfed/orgrel"
	"github.com/calfed/calfed/store"
)

// A partner's credentials are set from a private file, locally or through
// the admin API, and never come back out: not in the answer, not in the
// audit log.
func TestSetOutbound(t *testing.T) {
	s := newService(t)
	h := NewHandler(s, "the-admin-token-0123456789abcdef0123", nil)
	mux := http.NewServeMux()
	for _, r := range h.Routes() {
		mux.Handle(r.Method+" "+r.Path, r.Handler)
	}
	srv := httptest.NewServer(mux)
	defer srv.Close()
	ctx := context.Background()
	if _, err := s.NewRelationship(ctx, "alice", orgrel.Relationship{Name: "Partner", Domains: []string{"partner.example"}, Enabled: true}); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	good := filepath.Join(dir, "secret")
	os.WriteFile(good, []byte("given-by-partner\n"), 0o600)
	open := filepath.Join(dir, "open")
	os.WriteFile(open, []byte("given-by-partner\n"), 0o644)
	two := filepath.Join(dir, "two")
	os.WriteFile(two, []byte("a\nb\n"), 0o600)
	for name, api := range map[string]API{"local": s, "remote": NewClient(srv.URL, "the-admin-token-0123456789abcdef0123", "alice")} {
		if err := SetOutbound(ctx, api, "alice", "Partner", "svc-contoso", good); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		c, err := s.db.OutboundCredential(ctx, "Partner")
		if err != nil || c.Account != "svc-contoso" || c.Secret != "given-by-partner" {
			t.Errorf("%s: recorded %+v, %v", name, c, err)
		}
		for _, bad := range []struct{ account, file, says string }{
			{"svc", open, "chmod 600"},
			{"svc", two, "one line"},
			{"svc", "", "go together"},
			{"svc", filepath.Join(dir, "none"), "no such file"},
		} {
			if err := SetOutbound(ctx, api, "alice", "Partner", bad.account, bad.file); err == nil || !strings.Contains(err.Error(), bad.says) {
				t.Errorf("%s: SetOutbound(%s, %s) = %v, want it to say %q", name, bad.account, bad.file, err, bad.says)
			}
		}
		if err := SetOutbound(ctx, api, "alice", "Nobody", "svc", good); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("%s: an unknown relationship = %v", name, err)
		}
		if err := SetOutbound(ctx, api, "alice", "Partner", "-", ""); err != nil {
			t.Errorf("%s: removing: %v", name, err)
		}
		if _, err := s.db.OutboundCredential(ctx, "Partner"); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("%s: after removal: %v", name, err)
		}
	}
	audit, _ := s.Audit(ctx, time.Time{}, 0)
	for _, e := range audit {
		if strings.Contains(string(e.Before)+string(e.After), "given-by-partner") {
			t.Errorf("the audit log holds the secret: %+v", e)
		}
	}
}
