package doctor

import (
	"context"
	"crypto/x509"
	"net/http"
	"sync"
	"time"

	"github.com/calfed/calfed/orgrel"
	"github.com/calfed/calfed/partner"
	"github.com/calfed/calfed/trust"
)

// Records are the federation's records the checks read (admin.API has
// them): our relationships and the last check of each partner proof.
type Records interface {
	Relationships(ctx context.Context) ([]orgrel.Relationship, error)
	DomainChecks(ctx context.Context) ([]orgrel.DomainCheck, error)
}

// Checker runs the checks. Records and Trust are required.
type Checker struct {
	Records Records
	// Trust is our federation trust over the same store: the trust
	// itself, our registration with the gateway, our domains' proofs,
	// the token client.
	Trust *trust.Service
	// HTTP sends every request; default: 20-second timeout, the system's
	// roots.
	HTTP *http.Client
	// Roots are the certification authorities a certificate must chain
	// to; nil: the system's (which SSL_CERT_FILE and SSL_CERT_DIR name).
	Roots *x509.CertPool
	// Tokens, when set, obtains delegation tokens instead of the trust's
	// client (tests).
	Tokens partner.Tokens
	Now    func() time.Time // default time.Now
}

func (c *Checker) client() *http.Client {
	if c.HTTP != nil {
		return c.HTTP
	}
	return &http.Client{Timeout: 20 * time.Second}
}

func (c *Checker) now() time.Time {
	if c.Now != nil {
		return c.Now()
	}
	return time.Now()
}

// tokens is the token client: Checker.Tokens or the trust's, each token
// asked for once per check.
func (c *Checker) tokens(ctx context.Context) (partner.Tokens, error) {
	t := c.Tokens
	if t == nil {
		client, err := c.Trust.Client(ctx)
		if err != nil {
			return nil, err
		}
		t = client
	}
	return &onceTokens{Tokens: t, got: map[[3]string][]byte{}}, nil
}

// onceTokens remembers the tokens a check obtained, so that the steps
// after the one that asked for a token use it.
type onceTokens struct {
	partner.Tokens
	mu  sync.Mutex
	got map[[3]string][]byte
}

func (o *onceTokens) Token(ctx context.Context, user, targetURI, offer string) ([]byte, error) {
	key := [3]string{user, targetURI, offer}
	o.mu.Lock()
	defer o.mu.Unlock()
	if tok, ok := o.got[key]; ok {
		return tok, nil
	}
	tok, err := o.Tokens.Token(ctx, user, targetURI, offer)
	if err == nil {
		o.got[key] = tok
	}
	return tok, err
}
