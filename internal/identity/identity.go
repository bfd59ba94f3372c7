// Package identity carries the verified caller of a request through its
// context. Authenticators (service-account Basic auth, WS-Security tokens)
// put it there; protocol handlers read it and never parse credentials.
package identity

import "context"

// Caller is who is asking, once verified.
type Caller struct {
	Domain  string // the partner domain that selects the organisation relationship, canonical (internal/domainname)
	Email   string // the requesting user's address, when the credential names one
	Account string // the service account name, for cross-forest callers
	TokenID string // the delegation token's assertion id, for token callers
	// RequestorDomain is the requesting organisation as the token issuer
	// vouches for it (the delegation token's RequestorDomain claim, e.g.
	// outlook.com), for token callers; recorded, it does not select the
	// relationship (Domain does).
	RequestorDomain string
	Offer           string // the delegation token's offer (its action claim), for token callers
}

type key struct{}

// NewContext returns ctx carrying c.
func NewContext(ctx context.Context, c Caller) context.Context {
	return context.WithValue(ctx, key{}, c)
}

// FromContext returns the caller in ctx, if any.
func FromContext(ctx context.Context) (Caller, bool) {
	c, ok := ctx.Value(key{}).(Caller)
	return c, ok
}
