package userauth

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/netip"
	"strings"
	"time"

	"github.com/calfed/calfed/calendar"
	"github.com/calfed/calfed/internal/domainname"
	"github.com/calfed/calfed/internal/httpauth"
	"github.com/calfed/calfed/orgrel"
)

// Prefix starts every token, so that secret scanners and people can tell
// one from other secrets.
const Prefix = "cfu_"

// NewToken makes a token: the secret shown once, its public id and the
// hash the store keeps.
func NewToken() (secret, id, hash string, err error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", "", "", err
	}
	secret = Prefix + base64.RawURLEncoding.EncodeToString(b)
	i := make([]byte, 6)
	if _, err := rand.Read(i); err != nil {
		return "", "", "", err
	}
	return secret, hex.EncodeToString(i), Hash(secret), nil
}

// Hash is the hash of a token as the store keeps it: SHA-256, hex.
func Hash(secret string) string {
	h := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(h[:])
}

// Tokens finds a token by its hash (*store.DB); an unknown hash is an
// error.
type Tokens interface {
	UserTokenByHash(ctx context.Context, hash string) (orgrel.UserToken, error)
}

// Directory says which addresses are our users (*calendar.Directory).
type Directory interface {
	Lookup(address string) (*calendar.Mailbox, bool)
}

// Options configure an Authenticator. Tokens and Directory are required.
type Options struct {
	Tokens    Tokens
	Directory Directory
	// ProxyHeader names the header a trusted reverse proxy puts the
	// signed-in user's address in (e.g. X-Remote-User); it is read only
	// on requests whose peer is in ProxySources, and ignored (and
	// logged) on any other. Empty: no proxy sign-in.
	ProxyHeader  string
	ProxySources []netip.Prefix
	// AnonymousSources are client networks whose requests without
	// credentials are served anonymously: our mailboxes' availability
	// only. The client is the peer, or the address X-Forwarded-For gives
	// when the peer is one of Sources' trusted proxies. Empty: none.
	AnonymousSources []netip.Prefix
	Sources          httpauth.Sources
	// Limiter refuses a source for a while after repeated failed
	// sign-ins (the one the service accounts' Basic sign-in uses, so a
	// guesser cannot spread attempts over both); nil: no throttling.
	Limiter *httpauth.Limiter
	Realm   string           // the Basic realm; default "calfed free/busy"
	Now     func() time.Time // default time.Now
	Logger  *slog.Logger     // nil discards
}

// User is who is asking: one of our mailboxes, or anonymous.
type User struct {
	Address   string // canonical; empty when anonymous
	Anonymous bool
	Via       string // token, proxy or anonymous
	TokenID   string // the token's id, when Via is token
}

type key struct{}

// FromContext returns the user Require put in ctx.
func FromContext(ctx context.Context) (User, bool) {
	u, ok := ctx.Value(key{}).(User)
	return u, ok
}

// NewContext returns ctx carrying u.
func NewContext(ctx context.Context, u User) context.Context {
	return context.WithValue(ctx, key{}, u)
}

// Authenticator signs users in.
type Authenticator struct {
	opt Options
	log *slog.Logger
}

// New returns an Authenticator.
func New(opt Options) *Authenticator {
	if opt.Realm == "" {
		opt.Realm = "calfed free/busy"
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	a := &Authenticator{opt: opt, log: opt.Logger}
	if a.log == nil {
		a.log = slog.New(slog.DiscardHandler)
	}
	return a
}

// Errors of Authenticate; match with errors.Is. The caller sees none of
// them: every refusal is the same 401.
var (
	ErrNoCredentials = errors.New("userauth: no credentials")
	ErrBadToken      = errors.New("userauth: unknown, revoked or expired token")
	ErrWrongUser     = errors.New("userauth: the token belongs to another user")
	ErrNotOurs       = errors.New("userauth: not one of our mailboxes")
)

// Authenticate finds the request's user.
func (a *Authenticator) Authenticate(r *http.Request) (User, error) {
	ctx := r.Context()
	if h := a.opt.ProxyHeader; h != "" && r.Header.Get(h) != "" {
		if in(a.opt.ProxySources, httpauth.Peer(r)) {
			addr, err := a.ours(r.Header.Get(h))
			if err != nil {
				return User{}, err
			}
			return User{Address: addr, Via: "proxy"}, nil
		}
		// Anyone can send the header: believed only from the proxy.
		a.log.Warn("user header from an address that is not a configured proxy; ignored", "header", h, "peer", httpauth.Peer(r).String())
	}
	var secret, name string
	switch auth := r.Header.Get("Authorization"); {
	case strings.HasPrefix(auth, "Bearer "):
		secret = strings.TrimSpace(strings.TrimPrefix(auth, "Bearer "))
	default:
		if u, p, ok := r.BasicAuth(); ok {
			name, secret = u, p
		}
	}
	if secret == "" {
		if in(a.opt.AnonymousSources, a.opt.Sources.Client(r)) {
			return User{Anonymous: true, Via: "anonymous"}, nil
		}
		return User{}, ErrNoCredentials
	}
	tok, err := a.opt.Tokens.UserTokenByHash(ctx, Hash(secret))
	if err != nil || !tok.Usable(a.opt.Now()) {
		return User{}, ErrBadToken
	}
	if name != "" {
		n, err := domainname.Address(strings.TrimSpace(name))
		if err != nil || n != tok.Address {
			return User{}, ErrWrongUser
		}
	}
	if _, ok := a.opt.Directory.Lookup(tok.Address); !ok {
		return User{}, fmt.Errorf("%w: %s", ErrNotOurs, tok.Address)
	}
	return User{Address: tok.Address, Via: "token", TokenID: tok.ID}, nil
}

func (a *Authenticator) ours(v string) (string, error) {
	addr, err := domainname.Address(strings.TrimSpace(v))
	if err != nil {
		return "", fmt.Errorf("%w: %q", ErrNotOurs, v)
	}
	if _, ok := a.opt.Directory.Lookup(addr); !ok {
		return "", fmt.Errorf("%w: %s", ErrNotOurs, addr)
	}
	return addr, nil
}

func in(ps []netip.Prefix, ip netip.Addr) bool {
	if !ip.IsValid() {
		return false
	}
	for _, p := range ps {
		if p.Contains(ip) {
			return true
		}
	}
	return false
}

// Require serves next to signed-in users only (User in the request's
// context); others get 401 with Basic and Bearer challenges, one
// refusal looking like another.
func (a *Authenticator) Require(next http.Handler) http.Handler {
	refuse := func(w http.ResponseWriter, retry time.Duration) {
		w.Header().Add("WWW-Authenticate", fmt.Sprintf(`Basic realm=%q, charset="UTF-8"`, a.opt.Realm))
		w.Header().Add("WWW-Authenticate", fmt.Sprintf(`Bearer realm=%q`, a.opt.Realm))
		w.Header().Set("Cache-Control", "no-store")
		if retry > 0 {
			w.Header().Set("Retry-After", fmt.Sprint(int(retry.Round(time.Second)/time.Second)+1))
		}
		http.Error(w, "Sign in with your address and a token from calfed user token new.", http.StatusUnauthorized)
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := a.opt.Now()
		source := a.opt.Sources.Source(r)
		key := "source " + source
		if a.opt.Limiter != nil {
			if wait, first := a.opt.Limiter.Check(key); wait > 0 {
				if first {
					a.log.Warn("user sign-in throttled", "outcome", "throttled", "source", source, "retry_after", wait.Round(time.Second))
				}
				refuse(w, wait)
				return
			}
		}
		u, err := a.Authenticate(r)
		if err != nil {
			if !errors.Is(err, ErrNoCredentials) {
				if a.opt.Limiter != nil && r.Context().Err() == nil {
					a.opt.Limiter.Fail(key)
				}
				a.log.Warn("user sign-in refused", "outcome", "denied", "err", err, "source", source, "duration", a.opt.Now().Sub(start))
			}
			refuse(w, 0)
			return
		}
		next.ServeHTTP(w, r.WithContext(NewContext(r.Context(), u)))
	})
}

// Issuer records tokens (*store.DB).
type Issuer interface {
	CreateUserToken(ctx context.Context, actor string, t orgrel.UserToken, hash string) (orgrel.UserToken, error)
}

// ErrNotMailbox: a token was asked for an address that is not one of our
// mailboxes.
var ErrNotMailbox = errors.New("userauth: not one of our mailboxes")

// Issue makes a token for our mailbox address (any spelling) and records
// its hash, audited as actor; the secret is returned to be shown once.
// validFor 0 makes a token that does not expire.
func Issue(ctx context.Context, st Issuer, dir Directory, actor, address, label string, validFor time.Duration, now time.Time) (string, orgrel.UserToken, error) {
	addr, err := domainname.Address(strings.TrimSpace(address))
	if err != nil {
		return "", orgrel.UserToken{}, fmt.Errorf("%w: %q: %v", ErrNotMailbox, address, err)
	}
	if _, ok := dir.Lookup(addr); !ok {
		return "", orgrel.UserToken{}, fmt.Errorf("%w: %s is not in the configuration's mailboxes", ErrNotMailbox, addr)
	}
	secret, id, hash, err := NewToken()
	if err != nil {
		return "", orgrel.UserToken{}, err
	}
	t := orgrel.UserToken{ID: id, Address: addr, Label: strings.TrimSpace(label)}
	if validFor > 0 {
		exp := now.Add(validFor).UTC()
		t.Expires = &exp
	}
	t, err = st.CreateUserToken(ctx, actor, t, hash)
	return secret, t, err
}
