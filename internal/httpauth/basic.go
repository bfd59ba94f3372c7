// Package httpauth authenticates HTTP requests and puts the verified
// caller into the request context (internal/identity).
package httpauth

import (
	"context"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/calfed/calfed/internal/identity"
)

// Authenticator verifies a user name and secret.
type Authenticator interface {
	Authenticate(ctx context.Context, name, secret string) (identity.Caller, error)
}

// Basic requires HTTP Basic credentials that auth accepts. Without valid
// credentials it answers 401 with a Basic challenge, as Exchange does for
// clients that probe which authentication a server offers. Every refusal
// is logged once, with the reason kept out of the response.
func Basic(next http.Handler, auth Authenticator, realm string, log *slog.Logger) http.Handler {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	challenge := "Basic realm=" + strconv.Quote(realm)
	return http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		start := time.Now()
		name, secret, ok := r.BasicAuth()
		if !ok {
			log.Info("authentication required", "outcome", "challenge", "remote", r.RemoteAddr, "path", r.URL.Path)
			unauthorized(rw, challenge)
			return
		}
		caller, err := auth.Authenticate(r.Context(), name, secret)
		if err != nil {
			log.Warn("authentication failed", "outcome", "denied", "account", name, "remote", r.RemoteAddr,
				"reason", err.Error(), "duration", time.Since(start))
			unauthorized(rw, challenge)
			return
		}
		log.Debug("authenticated", "outcome", "allowed", "account", caller.Account, "domain", caller.Domain, "duration", time.Since(start))
		next.ServeHTTP(rw, r.WithContext(identity.NewContext(r.Context(), caller)))
	})
}

func unauthorized(rw http.ResponseWriter, challenge string) {
	rw.Header().Set("WWW-Authenticate", challenge)
	rw.Header().Set("Content-Length", "0")
	rw.WriteHeader(http.StatusUnauthorized)
}

// Optional verifies Basic credentials when a request carries them (401 when
// they are wrong) and lets requests without them through with no caller,
// for endpoints where some operations are anonymous and the handler
// decides (SOAP Autodiscover's GetFederationInformation).
func Optional(next http.Handler, auth Authenticator, realm string, log *slog.Logger) http.Handler {
	required := Basic(next, auth, realm, log)
	return http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") == "" {
			next.ServeHTTP(rw, r)
			return
		}
		required.ServeHTTP(rw, r)
	})
}
