package httpauth

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/calfed/calfed/internal/identity"
)

var errBad = errors.New("bad credentials")

type busyErr struct{}

func (busyErr) Error() string { return "busy" }
func (busyErr) Busy() bool    { return true }

// fakeAuth accepts svc/right, reports busy for the secret "busy", and
// counts its calls and the sources it saw.
type fakeAuth struct {
	calls   int
	sources []string
}

func (f *fakeAuth) Authenticate(ctx context.Context, name, secret string) (identity.Caller, error) {
	f.calls++
	s, _ := identity.SourceFromContext(ctx)
	f.sources = append(f.sources, s)
	switch {
	case secret == "busy":
		return identity.Caller{}, busyErr{}
	case name == "svc" && secret == "right":
		return identity.Caller{Account: "svc", Domain: "p.example"}, nil
	}
	return identity.Caller{}, errBad
}

type fixture struct {
	auth  *fakeAuth
	clock *clock
	logs  *bytes.Buffer
	h     http.Handler
}

func newFixture() *fixture {
	f := &fixture{auth: &fakeAuth{}, clock: &clock{time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}, logs: &bytes.Buffer{}}
	b := &Basic{Auth: f.auth, Realm: "calfed", Limiter: NewLimiter(LimitOptions{Now: f.clock.now}),
		Logger: slog.New(slog.NewTextHandler(f.logs, nil))}
	f.h = b.Require(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		if c, ok := identity.FromContext(r.Context()); !ok || c.Account != "svc" {
			rw.WriteHeader(http.StatusInternalServerError)
		}
	}))
	return f
}

func (f *fixture) do(remote, user, secret string) *httptest.ResponseRecorder {
	r := httptest.NewRequest(http.MethodPost, "/EWS/Exchange.asmx", nil)
	r.RemoteAddr = remote
	r.SetBasicAuth(user, secret)
	rw := httptest.NewRecorder()
	f.h.ServeHTTP(rw, r)
	return rw
}

// After five failures the source is refused for a second without the
// authenticator being asked — even with the right secret — with the same
// 401 and challenge as a wrong secret, and a Retry-After; the refusals are
// logged once.
func TestThrottledSourceNeverReachesTheAuthenticator(t *testing.T) {
	f := newFixture()
	for i := range 5 {
		if rw := f.do("192.0.2.1:1", "svc", "guess"); rw.Code != http.StatusUnauthorized || rw.Header().Get("Retry-After") != "" {
			t.Fatalf("guess %d: %d, Retry-After %q", i, rw.Code, rw.Header().Get("Retry-After"))
		}
	}
	if f.auth.calls != 5 || f.auth.sources[0] != "192.0.2.1" {
		t.Fatalf("authenticator calls %d, sources %q", f.auth.calls, f.auth.sources)
	}
	for range 100 {
		rw := f.do("192.0.2.1:2", "svc", "right")
		if rw.Code != http.StatusUnauthorized || rw.Header().Get("Retry-After") != "1" || rw.Header().Get("WWW-Authenticate") != `Basic realm="calfed"` {
			t.Fatalf("throttled: %d, headers %v", rw.Code, rw.Header())
		}
	}
	if f.auth.calls != 5 {
		t.Errorf("throttled requests reached the authenticator: %d calls, want 5", f.auth.calls)
	}
	if n := strings.Count(f.logs.String(), "authentication throttled"); n != 2 { // the source and the account name
		t.Errorf("%d throttling log lines for 100 refusals, want 2 (source and account, once each):\n%s", n, f.logs)
	}
	// Another source with a clean record signs in: an account name's
	// lock-out does not let a guesser lock the partner out.
	if rw := f.do("198.51.100.1:1", "svc", "right"); rw.Code != http.StatusOK {
		t.Errorf("clean source while the account is locked: %d, want 200", rw.Code)
	}
	// The lock-out ends; the next failure doubles it.
	f.clock.advance(time.Second)
	if rw := f.do("192.0.2.1:3", "svc", "guess"); rw.Code != http.StatusUnauthorized || f.auth.calls != 7 {
		t.Fatalf("after the lock-out: %d, calls %d", rw.Code, f.auth.calls)
	}
	if rw := f.do("192.0.2.1:3", "svc", "right"); rw.Header().Get("Retry-After") != "2" || f.auth.calls != 7 {
		t.Errorf("second lock-out: Retry-After %q, calls %d", rw.Header().Get("Retry-After"), f.auth.calls)
	}
}

// Failures against one account name from many sources lock the name for
// the sources that failed; a success clears the name's failures.
func TestAccountThrottling(t *testing.T) {
	f := newFixture()
	for i := range 5 {
		f.do(fmt.Sprintf("192.0.2.%d:1", i+1), "svc", "guess")
	}
	if rw := f.do("192.0.2.1:1", "svc", "guess"); rw.Header().Get("Retry-After") == "" || f.auth.calls != 5 {
		t.Errorf("a failed source guessing a locked name: Retry-After %q, calls %d", rw.Header().Get("Retry-After"), f.auth.calls)
	}
	// Unknown names are throttled alike, so throttling tells no names apart.
	for i := range 5 {
		f.do(fmt.Sprintf("192.0.2.%d:1", i+1), "nobody", "guess")
	}
	if rw := f.do("192.0.2.1:1", "nobody", "guess"); rw.Header().Get("Retry-After") == "" {
		t.Error("an unknown name is not throttled like a known one")
	}
	// The partner signs in: the name's record is cleared.
	f.clock.advance(time.Hour)
	f.do("192.0.2.9:1", "svc", "guess")
	f.do("192.0.2.9:1", "svc", "right")
	for i := range 4 {
		f.do(fmt.Sprintf("192.0.2.%d:1", i+1), "svc", "guess")
	}
	if rw := f.do("192.0.2.1:1", "svc", "guess"); rw.Header().Get("Retry-After") != "" {
		t.Error("failures before the success still count against the name")
	}
}

// A busy authenticator's refusal is not a failure: a partner's burst does
// not lock it out.
func TestBusyIsNotAFailure(t *testing.T) {
	f := newFixture()
	for range 20 {
		if rw := f.do("192.0.2.1:1", "svc", "busy"); rw.Code != http.StatusUnauthorized || rw.Header().Get("Retry-After") != "1" {
			t.Fatalf("busy: %d, Retry-After %q", rw.Code, rw.Header().Get("Retry-After"))
		}
	}
	if rw := f.do("192.0.2.1:1", "svc", "right"); rw.Code != http.StatusOK {
		t.Errorf("after busy refusals: %d, want 200", rw.Code)
	}
}

func TestOptionalAndChallenge(t *testing.T) {
	f := newFixture()
	b := &Basic{Auth: f.auth, Realm: "calfed"}
	reached := false
	h := b.Optional(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { reached = true }))
	rw := httptest.NewRecorder()
	h.ServeHTTP(rw, httptest.NewRequest(http.MethodPost, "/autodiscover/autodiscover.svc", nil))
	if !reached || rw.Code != http.StatusOK {
		t.Errorf("anonymous request: reached %v, %d", reached, rw.Code)
	}
	reached = false
	r := httptest.NewRequest(http.MethodPost, "/autodiscover/autodiscover.svc", nil)
	r.SetBasicAuth("svc", "wrong")
	rw = httptest.NewRecorder()
	h.ServeHTTP(rw, r)
	if reached || rw.Code != http.StatusUnauthorized || rw.Header().Get("WWW-Authenticate") != `Basic realm="calfed"` {
		t.Errorf("wrong credentials: reached %v, %d %v", reached, rw.Code, rw.Header())
	}
	rw = httptest.NewRecorder()
	b.Require(http.NotFoundHandler()).ServeHTTP(rw, httptest.NewRequest(http.MethodPost, "/EWS/Exchange.asmx", nil))
	if rw.Code != http.StatusUnauthorized || rw.Header().Get("WWW-Authenticate") != `Basic realm="calfed"` {
		t.Errorf("no credentials: %d %v", rw.Code, rw.Header())
	}
}
