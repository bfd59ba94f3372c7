package federation

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/beevik/etree"
	"github.com/russellhaering/goxmldsig/etreeutils"

	"github.com/calfed/calfed/internal/identity"
	"github.com/calfed/calfed/internal/soap"
)

// Guard lets through only SOAP requests whose wsse:Security header holds a
// valid delegation token for Offer, with the caller in the context.
type Guard struct {
	Validator *Validator
	Offer     string
	Limits    soap.Limits
	Now       func() time.Time // default time.Now
	Logger    *slog.Logger     // nil discards
	// Refuse answers a refused request by its cause (answer.go):
	// RefuseEWS (the default) or RefuseAutodiscover. docs/protocol.md §4.3.
	Refuse func(w http.ResponseWriter, r *http.Request, err error)
	// Refused, when set, is told the cause (Cause) of every refusal, for
	// the metrics.
	Refused func(cause string)
}

// Wrap guards next.
func (g *Guard) Wrap(next http.Handler) http.Handler {
	log := g.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	now := g.Now
	if now == nil {
		now = time.Now
	}
	refuse := g.Refuse
	if refuse == nil {
		refuse = RefuseEWS
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		if r.Method != http.MethodPost {
			next.ServeHTTP(w, r) // the handler answers GET and others itself
			return
		}
		// In calfed's router soap.Bounded has read the body already, within
		// the budget for unauthenticated requests, into a pooled buffer.
		body, err := soap.ReadRequest(r, g.Limits)
		var c Claims
		if err == nil {
			c, body, err = g.authenticate(r.Context(), body, now())
			if err == nil {
				if log.Enabled(r.Context(), slog.LevelInfo) { // the arguments cost more than a discarded line
					log.Info("delegation token accepted", "outcome", "allowed", "offer", g.Offer, "email", c.Email,
						"requestor_domain", c.RequestorDomain, "token", c.TokenID, "remote", r.RemoteAddr,
						"user_agent", r.UserAgent(), "client_request_id", r.Header.Get("client-request-id"),
						"duration", time.Since(start))
				}
				soap.SetBody(r, body) // the handler reads it without a copy
				ctx := identity.NewContext(r.Context(), identity.Caller{Domain: c.Domain, Email: c.Email, TokenID: c.TokenID,
					RequestorDomain: c.RequestorDomain, Offer: c.Offer})
				next.ServeHTTP(w, r.WithContext(ctx))
				return
			}
		}
		log.Warn("delegation token refused", "outcome", "denied", "answer", Classify(err).String(), "cause", Cause(err), "offer", g.Offer,
			"email", c.Email, "requestor_domain", c.RequestorDomain, "token", c.TokenID, "remote", r.RemoteAddr,
			"user_agent", r.UserAgent(), "client_request_id", r.Header.Get("client-request-id"),
			"reason", err.Error(), "duration", time.Since(start))
		if g.Refused != nil {
			g.Refused(Cause(err))
		}
		refuse(w, r, err)
	})
}

// authenticate validates the request's token and returns its claims and
// the body without the wsse:Security header, which the next handler has no
// use for and would otherwise decode again. One bounded pass over the body
// finds the token; the validator answers a token it has seen from its
// cache, and parses only the token of one it has not.
func (g *Guard) authenticate(ctx context.Context, body []byte, now time.Time) (Claims, []byte, error) {
	loc, err := scanEnvelope(body, g.Limits)
	switch {
	case err == nil:
		c, err := g.Validator.validate(ctx, body[loc.edStart:loc.edEnd], loc.scope, false, g.Offer, now)
		if err != nil {
			return c, nil, err
		}
		return c, strip(body, loc.secStart, loc.secEnd), nil
	case errors.Is(err, errUnsure):
		c, err := g.check(ctx, body, now)
		return c, body, err
	}
	return Claims{}, nil, err
}

// strip removes body[from:to] in place.
func strip(body []byte, from, to int) []byte {
	n := copy(body[from:], body[to:])
	return body[:from+n]
}

// check reads a request the scan could not decide with etree (it has
// checked the limits): the one token in the one wsse:Security header.
func (g *Guard) check(ctx context.Context, body []byte, now time.Time) (Claims, error) {
	doc := etree.NewDocument()
	if err := doc.ReadFromBytes(body); err != nil {
		return Claims{}, ErrNoToken
	}
	env := doc.Root()
	if env == nil || env.Tag != "Envelope" || (env.NamespaceURI() != soap.NS11 && env.NamespaceURI() != soap.NS12) {
		return Claims{}, ErrNoToken
	}
	headers := childNS(env, env.NamespaceURI(), "Header")
	if len(headers) != 1 {
		return Claims{}, ErrNoToken
	}
	sec := childNS(headers[0], nsWSSE, "Security")
	switch {
	case len(sec) == 0:
		return Claims{}, ErrNoToken
	case len(sec) > 1:
		return Claims{}, ErrMalformed // which one would count? neither
	}
	eds := childNS(sec[0], nsXEnc, "EncryptedData")
	if len(eds) != 1 {
		return Claims{}, ErrNoToken
	}
	raw, err := standalone(eds[0])
	if err != nil {
		return Claims{}, err
	}
	return g.Validator.validate(ctx, raw, nil, false, g.Offer, now)
}

// standalone serialises el with every namespace it uses declared on it.
func standalone(el *etree.Element) ([]byte, error) {
	ctx, err := etreeutils.NSBuildParentContext(el)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	detached, err := etreeutils.NSDetatch(ctx, el)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	doc := etree.NewDocument()
	doc.SetRoot(detached)
	return doc.WriteToBytes()
}
