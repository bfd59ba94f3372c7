// Package httpauth authenticates HTTP requests and puts the verified
// caller into the request context (internal/identity).
package httpauth

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/calfed/calfed/internal/identity"
)

// Authenticator verifies a user name and secret. The request's source
// (Source) is in ctx (identity.SourceFromContext). An error whose Busy
// method reports true means the source has too much work waiting: the
// request is refused without counting a failure.
type Authenticator interface {
	Authenticate(ctx context.Context, name, secret string) (identity.Caller, error)
}

// Basic requires HTTP Basic credentials that Auth accepts. Without valid
// credentials it answers 401 with a Basic challenge, as Exchange does for
// clients that probe which authentication a server offers. Every refusal
// is logged once, with the reason kept out of the response.
//
// With a Limiter, failures are counted per source (Sources) and per account
// name, known or not, so that throttling tells no names apart. A source
// with too many failures is refused outright; an account name with too
// many is refused to sources that have failed themselves, so that nobody
// can lock a partner out by failing on purpose under its name (a spread-out
// guesser still gets one attempt per fresh source, not MaxFailures). A
// throttled request gets the same 401, with Retry-After, never reaches
// Auth, and is logged once per lock-out, not once per request.
type Basic struct {
	Auth  Authenticator // required
	Realm string        // the challenge's realm
	// Limiter throttles failing sources and account names; nil throttles
	// nothing.
	Limiter *Limiter
	// Sources finds a request's source; the zero value uses the peer
	// address and trusts no forwarding header.
	Sources Sources
	Logger  *slog.Logger // nil discards
	// Refused, when set, is told why each request was refused:
	// "no_credentials", "throttled", "busy" or "invalid" (for the
	// metrics).
	Refused func(reason string)
}

// busy is an Authenticator's error for a source with too much waiting.
type busy interface{ Busy() bool }

// Require serves next for requests with accepted credentials only.
func (b *Basic) Require(next http.Handler) http.Handler {
	log := b.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	challenge := "Basic realm=" + strconv.Quote(b.Realm)
	refused := b.Refused
	if refused == nil {
		refused = func(string) {}
	}
	return http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		start := time.Now()
		name, secret, ok := r.BasicAuth()
		if !ok {
			log.Info("authentication required", "outcome", "challenge", "remote", r.RemoteAddr, "path", r.URL.Path)
			refused("no_credentials")
			unauthorized(rw, challenge, 0)
			return
		}
		source := b.Sources.Source(r)
		// The limiter's keys; while it remembers no failure at all (the
		// usual case) there is nothing to check or reset, and they are
		// not made.
		srcKey, acctKey := "", ""
		keys := func() {
			if srcKey == "" {
				srcKey, acctKey = "source "+source, "account "+strings.ToLower(strings.TrimSpace(name))
			}
		}
		if b.Limiter != nil && b.Limiter.Tracking() {
			keys()
			if wait := b.throttled(log, srcKey, acctKey, source, name); wait > 0 {
				refused("throttled")
				unauthorized(rw, challenge, wait)
				return
			}
		}
		caller, err := b.Auth.Authenticate(identity.WithSource(r.Context(), source), name, secret)
		if err != nil {
			var bz busy
			switch {
			case errors.As(err, &bz) && bz.Busy():
				log.Debug("authentication deferred", "outcome", "busy", "account", name, "source", source)
				refused("busy")
				unauthorized(rw, challenge, time.Second)
				return
			case r.Context().Err() == nil && b.Limiter != nil:
				keys()
				b.Limiter.Fail(srcKey)
				b.Limiter.Fail(acctKey)
			}
			log.Warn("authentication failed", "outcome", "denied", "account", name, "remote", r.RemoteAddr, "source", source,
				"reason", err.Error(), "duration", time.Since(start))
			refused("invalid")
			unauthorized(rw, challenge, 0)
			return
		}
		if b.Limiter != nil && b.Limiter.Tracking() {
			keys()
			b.Limiter.Reset(acctKey)
		}
		log.Debug("authenticated", "outcome", "allowed", "account", caller.Account, "domain", caller.Domain, "duration", time.Since(start))
		next.ServeHTTP(rw, r.WithContext(identity.NewContext(r.Context(), caller)))
	})
}

// throttled reports how long the request's source, or its account name
// for a source with failures of its own, is still refused, logging the
// first refusal of each lock-out.
func (b *Basic) throttled(log *slog.Logger, srcKey, acctKey, source, name string) time.Duration {
	keys := []string{srcKey}
	if b.Limiter.Failed(srcKey) {
		keys = append(keys, acctKey)
	}
	var wait time.Duration
	for _, k := range keys {
		w, first := b.Limiter.Check(k)
		if first {
			log.Warn("authentication throttled", "outcome", "throttled", "key", k, "source", source, "account", name,
				"retry_after", w.Round(time.Second))
		}
		wait = max(wait, w)
	}
	return wait
}

// Optional verifies Basic credentials when a request carries them (401 when
// they are wrong) and lets requests without them through with no caller,
// for endpoints where some operations are anonymous and the handler
// decides (SOAP Autodiscover's GetFederationInformation).
func (b *Basic) Optional(next http.Handler) http.Handler {
	required := b.Require(next)
	return http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") == "" {
			next.ServeHTTP(rw, r)
			return
		}
		required.ServeHTTP(rw, r)
	})
}

// unauthorized answers 401 with the challenge, and with Retry-After (whole
// seconds, rounded up) when retry is positive.
func unauthorized(rw http.ResponseWriter, challenge string, retry time.Duration) {
	rw.Header().Set("WWW-Authenticate", challenge)
	if retry > 0 {
		rw.Header().Set("Retry-After", strconv.FormatInt(int64((retry+time.Second-1)/time.Second), 10))
	}
	rw.Header().Set("Content-Length", "0")
	rw.WriteHeader(http.StatusUnauthorized)
}
