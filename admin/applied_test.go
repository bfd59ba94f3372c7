package admin

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/calfed/calfed/orgrel"
)

func TestAppliedSaysWhoHasNot(t *testing.T) {
	since := time.Date(2026, 3, 24, 10, 0, 3, 0, time.UTC)
	a := orgrel.Server{ID: "a/1/aa", Applied: 42}
	b := orgrel.Server{ID: "b/2/bb", Applied: 41, Error: "permission denied for table service_accounts", FailingSince: &since}
	c := orgrel.Server{ID: "c/3/cc", Applied: 40, Heartbeat: since}
	tests := []struct {
		a    Applied
		done bool
		want string
	}{
		{Applied{Change: 42}, true, "no server is running on this store"},
		{Applied{Change: 42, Servers: []orgrel.Server{a, a}, Elapsed: 140 * time.Millisecond}, true, "applied by 2 of 2 servers in 140 ms"},
		{Applied{Change: 42, Servers: []orgrel.Server{a, b, c}, Wait: 10 * time.Second}, false,
			"applied by 1 of 3 servers within 10s; not by b/2/bb (at change 41 of 42; reloads failing since 2026-03-24T10:00:03Z: permission denied for table service_accounts);" +
				" c/3/cc (at change 40 of 42; last report 2026-03-24T10:00:03Z)"},
	}
	for _, tt := range tests {
		if got := tt.a.String(); got != tt.want || tt.a.Done() != tt.done {
			t.Errorf("String() = %q, Done() = %v; want %q, %v", got, tt.a.Done(), tt.want, tt.done)
		}
	}
}

// WaitApplied reports at once when every running server has the change,
// waits out the wait when one has not, and refuses a wait out of bounds.
func TestWaitApplied(t *testing.T) {
	s := newService(t)
	ctx := context.Background()
	if _, err := s.NewRelationship(ctx, "alice", orgrel.Relationship{Name: "P", Domains: []string{"p.example"}}); err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	report := func(id string, applied int64) {
		if err := s.db.ReportServer(ctx, orgrel.Server{ID: id, Started: now, Applied: applied, AppliedAt: now, Heartbeat: now, Expires: now.Add(time.Hour)}); err != nil {
			t.Fatal(err)
		}
	}
	report("a", 1)
	report("b", 0)
	a, err := s.WaitApplied(ctx, 0, 50*time.Millisecond)
	if err != nil || a.Done() || a.Change != 1 || len(a.Pending()) != 1 || a.Pending()[0].ID != "b" || a.Elapsed < 50*time.Millisecond {
		t.Errorf("with b behind: %+v, %v", a, err)
	}
	report("b", 1)
	if a, err := s.WaitApplied(ctx, 0, time.Minute); err != nil || !a.Done() || len(a.Servers) != 2 {
		t.Errorf("with both at change 1: %+v, %v", a, err)
	}
	if _, err := s.WaitApplied(ctx, 0, MaxWait+time.Second); !errors.Is(err, errBadRequest) {
		t.Errorf("a wait beyond MaxWait: %v", err)
	}

	h := NewHandler(s, strings.Repeat("k", 32), nil)
	var applied http.Handler
	for _, r := range h.Routes() {
		if r.Path == "/v1/applied" {
			applied = r.Handler
		}
	}
	for _, q := range []string{"wait=soon", "wait=-1s", "change=x", "change=-2"} {
		req := httptest.NewRequest("GET", "/v1/applied?"+q, nil)
		req.Header.Set("Authorization", "Bearer "+strings.Repeat("k", 32))
		w := httptest.NewRecorder()
		applied.ServeHTTP(w, req)
		if w.Code != http.StatusBadRequest {
			t.Errorf("?%s: %d %s", q, w.Code, w.Body.String())
		}
	}
}
