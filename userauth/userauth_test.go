package userauth

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/calfed/calfed/calendar"
	"github.com/calfed/calfed/internal/httpauth"
	"github.com/calfed/calfed/orgrel"
)

type tokens map[string]orgrel.UserToken

func (t tokens) UserTokenByHash(ctx context.Context, h string) (orgrel.UserToken, error) {
	if v, ok := t[h]; ok {
		return v, nil
	}
	return orgrel.UserToken{}, errors.New("not found")
}

type dir map[string]bool

func (d dir) Lookup(a string) (*calendar.Mailbox, bool) {
	if d[a] {
		return &calendar.Mailbox{Address: a}, true
	}
	return nil, false
}

var now = time.Date(2026, 3, 24, 9, 0, 0, 0, time.UTC)

func TestAuthenticate(t *testing.T) {
	alice, _, aliceHash, err := NewToken()
	if err != nil || !strings.HasPrefix(alice, Prefix) || len(alice) < 40 {
		t.Fatalf("NewToken = %q, %v", alice, err)
	}
	revoked, _, revokedHash, _ := NewToken()
	expired, _, expiredHash, _ := NewToken()
	gone, _, goneHash, _ := NewToken()
	past, then := now.Add(-time.Hour), now.Add(-2*time.Hour)
	a := New(Options{
		Tokens: tokens{
			aliceHash:   {ID: "a1", Address: "alice@contoso.example"},
			revokedHash: {ID: "r1", Address: "alice@contoso.example", Revoked: &then},
			expiredHash: {ID: "e1", Address: "alice@contoso.example", Expires: &past},
			goneHash:    {ID: "g1", Address: "left@contoso.example"},
		},
		Directory:        dir{"alice@contoso.example": true, "bob@contoso.example": true},
		ProxyHeader:      "X-Remote-User",
		ProxySources:     []netip.Prefix{netip.MustParsePrefix("10.0.0.5/32")},
		AnonymousSources: []netip.Prefix{netip.MustParsePrefix("192.168.0.0/16")},
		Sources:          httpauth.Sources{TrustedProxies: []netip.Prefix{netip.MustParsePrefix("10.0.0.5/32")}},
		Now:              func() time.Time { return now },
	})
	req := func(peer string, set func(*http.Request)) *http.Request {
		r := httptest.NewRequest("GET", "/freebusy/bob@contoso.example.vfb", nil)
		r.RemoteAddr = peer + ":40000"
		if set != nil {
			set(r)
		}
		return r
	}
	basic := func(u, p string) func(*http.Request) { return func(r *http.Request) { r.SetBasicAuth(u, p) } }
	header := func(k, v string) func(*http.Request) { return func(r *http.Request) { r.Header.Set(k, v) } }
	for _, tc := range []struct {
		name    string
		r       *http.Request
		want    User
		wantErr error
	}{
		{"Basic with the address", req("203.0.113.9", basic("Alice@Contoso.example", alice)), User{Address: "alice@contoso.example", Via: "token", TokenID: "a1"}, nil},
		{"Bearer", req("203.0.113.9", header("Authorization", "Bearer "+alice)), User{Address: "alice@contoso.example", Via: "token", TokenID: "a1"}, nil},
		{"another user's name with alice's token", req("203.0.113.9", basic("bob@contoso.example", alice)), User{}, ErrWrongUser},
		{"revoked", req("203.0.113.9", basic("alice@contoso.example", revoked)), User{}, ErrBadToken},
		{"expired", req("203.0.113.9", header("Authorization", "Bearer "+expired)), User{}, ErrBadToken},
		{"unknown", req("203.0.113.9", header("Authorization", "Bearer "+Prefix+"guess")), User{}, ErrBadToken},
		{"a token of a mailbox no longer ours", req("203.0.113.9", header("Authorization", "Bearer "+gone)), User{}, ErrNotOurs},
		{"nothing", req("203.0.113.9", nil), User{}, ErrNoCredentials},
		{"the proxy's header from the proxy", req("10.0.0.5", header("X-Remote-User", "bob@contoso.example")), User{Address: "bob@contoso.example", Via: "proxy"}, nil},
		{"the proxy naming someone not ours", req("10.0.0.5", header("X-Remote-User", "mallory@evil.example")), User{}, ErrNotOurs},
		{"the header from anyone else", req("203.0.113.9", header("X-Remote-User", "bob@contoso.example")), User{}, ErrNoCredentials},
		{"the header from anyone else, with a token", req("203.0.113.9", func(r *http.Request) {
			r.Header.Set("X-Remote-User", "bob@contoso.example")
			r.SetBasicAuth("alice@contoso.example", alice)
		}), User{Address: "alice@contoso.example", Via: "token", TokenID: "a1"}, nil},
		{"anonymous from a configured network", req("192.168.4.4", nil), User{Anonymous: true, Via: "anonymous"}, nil},
		{"anonymous through the trusted proxy", req("10.0.0.5", header("X-Forwarded-For", "192.168.4.4")), User{Anonymous: true, Via: "anonymous"}, nil},
		{"a forged X-Forwarded-For from elsewhere", req("203.0.113.9", header("X-Forwarded-For", "192.168.4.4")), User{}, ErrNoCredentials},
		{"a bad token from a configured network", req("192.168.4.4", header("Authorization", "Bearer nope")), User{}, ErrBadToken},
	} {
		got, err := a.Authenticate(tc.r)
		if !errors.Is(err, tc.wantErr) || got != tc.want {
			t.Errorf("%s: Authenticate = %+v, %v; want %+v, %v", tc.name, got, err, tc.want, tc.wantErr)
		}
	}

	// Require: 401 with both challenges, whatever the cause.
	h := a.Require(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u, _ := FromContext(r.Context())
		w.Write([]byte(u.Address))
	}))
	for _, r := range []*http.Request{req("203.0.113.9", nil), req("203.0.113.9", basic("alice@contoso.example", revoked))} {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, r)
		if rec.Code != 401 || len(rec.Header().Values("WWW-Authenticate")) != 2 {
			t.Errorf("refused: %d %v", rec.Code, rec.Header())
		}
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req("203.0.113.9", basic("alice@contoso.example", alice)))
	if rec.Code != 200 || rec.Body.String() != "alice@contoso.example" {
		t.Errorf("signed in: %d %q", rec.Code, rec.Body)
	}
}

// Repeated failures from a source lock it out, a good token included,
// and tell it when to come back.
func TestThrottle(t *testing.T) {
	good, _, hash, _ := NewToken()
	clock := now
	a := New(Options{Tokens: tokens{hash: {ID: "a1", Address: "alice@contoso.example"}}, Directory: dir{"alice@contoso.example": true},
		Limiter: httpauth.NewLimiter(httpauth.LimitOptions{MaxFailures: 2, Lockout: time.Minute, Now: func() time.Time { return clock }}),
		Now:     func() time.Time { return clock }})
	h := a.Require(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	try := func(peer, secret string) *httptest.ResponseRecorder {
		r := httptest.NewRequest("GET", "/freebusy/x@contoso.example.vfb", nil)
		r.RemoteAddr = peer + ":1"
		r.Header.Set("Authorization", "Bearer "+secret)
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		return w
	}
	for range 2 {
		if w := try("203.0.113.9", Prefix+"guess"); w.Code != 401 {
			t.Fatalf("a guess: %d", w.Code)
		}
	}
	if w := try("203.0.113.9", good); w.Code != 401 || w.Header().Get("Retry-After") == "" {
		t.Errorf("a good token from a locked-out source: %d %v", w.Code, w.Header())
	}
	if w := try("198.51.100.1", good); w.Code != 200 {
		t.Errorf("a good token from another source: %d", w.Code)
	}
	clock = clock.Add(2 * time.Minute)
	if w := try("203.0.113.9", good); w.Code != 200 {
		t.Errorf("after the lock-out: %d", w.Code)
	}
}

func TestHash(t *testing.T) {
	a, id, h, _ := NewToken()
	b, id2, h2, _ := NewToken()
	if a == b || id == id2 || h == h2 || Hash(a) != h || len(h) != 64 {
		t.Errorf("NewToken: %q %q %q / %q %q %q", a, id, h, b, id2, h2)
	}
}
