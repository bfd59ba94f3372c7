package server

import (
	"net/http"
	"strings"
	"time"

	"github.com/calfed/calfed/autodiscover"
	"github.com/calfed/calfed/conformance"
	"github.com/calfed/calfed/ews"
	"github.com/calfed/calfed/federation"
	"github.com/calfed/calfed/freebusy"
	"github.com/calfed/calfed/internal/exchhttp"
	"github.com/calfed/calfed/internal/httpauth"
	"github.com/calfed/calfed/internal/identity"
	"github.com/calfed/calfed/internal/legacydn"
	"github.com/calfed/calfed/internal/soap"
	"github.com/calfed/calfed/live"
	"github.com/calfed/calfed/mailtips"
	"github.com/calfed/calfed/userauth"
	"github.com/calfed/calfed/userfb"
)

// A Route is a public endpoint: its path in lower case, with {name} for a
// path variable its handler reads with PathValue, and the handler.
type Route struct {
	Path    string
	Handler http.Handler
}

// Routes are the public endpoints, for a router that matches their paths
// after lower-casing the request's, as IIS serves Exchange's
// (docs/protocol.md §1.1), and hands its path variables on as PathValue.
// The admin API is never among them. Each call assembles handlers of its
// own, with their own caches and limits: call it once per listener.
func (s *Server) Routes() []Route {
	cfg, log, policy := s.Config, s.publicLog, s.Policy
	limits := soap.Limits{MaxBytes: cfg.Limits.MaxRequestBytes}
	// Every handler a verified caller reaches refuses it while the policy
	// is too old to answer from. docs/protocol.md §1.8.
	current := policy.RequireCurrent
	// Every request a verified partner makes is logged and recorded
	// (internal/accesslog), the 503s of a policy too old included; the
	// free/busy, MailTips and Autodiscover cores note each mailbox.
	access := func(op string, h http.Handler) http.Handler {
		return s.Access.Wrap(op, h)
	}
	fb := freebusy.New(freebusy.Options{Directory: s.Directory, Access: policy, Logger: log, MaxResultSet: cfg.Limits.MaxResultSet,
		Remote: s.Partners, Internal: policy})
	// Our own users' fronts: signed in with their tokens, a trusted
	// proxy's header, or from an anonymous network.
	limiter := httpauth.NewLimiter(cfg.AuthLimits())
	ua := cfg.UserAuth()
	ua.Tokens, ua.Directory, ua.Logger, ua.Limiter = s.DB, s.Directory, log, limiter
	users := userauth.New(ua)
	front := userfb.New(userfb.Options{FreeBusy: fb, MaxMailboxes: cfg.Limits.MaxMailboxes, MaxWindowDays: cfg.Limits.MaxWindowDays, Logger: log})
	ewsHandler := access("", current(ews.New(ews.Options{
		FreeBusy:      fb,
		Logger:        log,
		Limits:        limits,
		MaxMailboxes:  cfg.Limits.MaxMailboxes,
		MaxWindowDays: cfg.Limits.MaxWindowDays,
		ServerName:    cfg.ServerName,
		// The legacy DNs Autodiscover hands out come back as EX or X500
		// addresses. docs/protocol.md §1.2.
		ResolveLegacyDN: legacydn.Resolver(s.Directory),
	})))
	mt := access("GetMailTips", current(ews.NewMailTips(ews.MailTipsOptions{
		MailTips:      mailtips.New(mailtips.Options{Directory: s.Directory, Access: policy, Logger: log}),
		Logger:        log,
		Limits:        limits,
		MaxRecipients: cfg.Limits.MaxMailboxes,
		ServerName:    cfg.ServerName,
	})))
	ad := autodiscover.New(autodiscover.Options{
		Directory:         s.Directory,
		Access:            policy,
		Trust:             policy.Trust,
		Relationship:      policy.Relationship,
		PublicURL:         cfg.PublicURL,
		PublicHosts:       cfg.Hosts(),
		RedirectAddresses: cfg.RedirectAddresses(),
		RedirectURL:       cfg.Autodiscover.RedirectURL,
		ServerName:        cfg.ServerName,
		Limits:            limits,
		Logger:            log,
	})
	// One validator for every guard: one cache, emptied when the trust
	// changes (policy.Federation). Under federation.refuse_token_reuse,
	// the store records the tokens used, for every server on it.
	entries, bytes := cfg.TokenCache()
	validator := &federation.Validator{Trust: policy.Federation, Skew: time.Duration(cfg.Federation.ClockSkew),
		RefuseReuse: cfg.RefuseTokenReuse(), Replay: s.DB, AcceptRSA15: cfg.Federation.AcceptRSA15KeyTransport,
		MaxCacheEntries: entries, MaxCacheBytes: bytes}
	// Refusals are answered as Exchange answers them (federation/answer.go):
	// on EWS a valid token for another offer gets ErrorAccessDenied, on
	// Autodiscover 401. The token's claims are noted for a recorder.
	guard := func(offer string, refuse func(http.ResponseWriter, *http.Request, error), h http.Handler) http.Handler {
		g := &federation.Guard{Validator: validator, Offer: offer, Limits: limits, Logger: log, Refuse: refuse, Refused: s.Metrics.TokenRefused}
		return g.Wrap(noteToken(policy, offer, h))
	}
	// Bodies read before their sender is known share one budget.
	budget := soap.NewBudget(cfg.Limits.MaxPendingBytes)
	bounded := func(h http.Handler) http.Handler {
		return soap.Bounded(h, limits, budget)
	}
	// One limiter for every endpoint that takes Basic credentials, so a
	// guesser cannot spread its attempts over them.
	basic := &httpauth.Basic{Auth: policy, Realm: "calfed", Limiter: limiter, Sources: cfg.AuthSources(), Logger: log,
		Refused: s.Metrics.LoginRefused}
	// EWS requests are routed by operation: GetMailTips to its own
	// handler and, on /WSSecurity, behind a guard for its own offer, so
	// that a token serves only its offer's operations. docs/protocol.md §4.3, §8.4.
	// Routing reads the body, so it is read first: under the budget where
	// the sender is not yet known, after Basic authentication otherwise.
	routes := []Route{
		{"/ews/exchange.asmx", basic.Require(soap.Bounded(byOperation(limits, ewsHandler, map[string]http.Handler{"GetMailTips": mt}), limits, nil))},
		{"/ews/exchange.asmx/wssecurity", bounded(byOperation(limits,
			guard(federation.OfferFreeBusy, federation.RefuseEWS, ewsHandler),
			map[string]http.Handler{"GetMailTips": guard(federation.OfferMailTips, federation.RefuseEWS, mt)}))},
		{"/autodiscover/autodiscover.svc", bounded(basic.Optional(access("", current(ad.SOAP(false)))))},
		{"/autodiscover/autodiscover.svc/wssecurity", bounded(guard(federation.OfferAutodiscover, federation.RefuseAutodiscover, access("", current(ad.SOAP(true)))))},
		{"/autodiscover/autodiscover.xml", bounded(basic.Optional(access("Autodiscover", current(ad.POX()))))},
		{"/autodiscover/autodiscover.json/v1.0/{address}", ad.JSON(func(r *http.Request) string { return r.PathValue("address") })},
		{"/freebusy/v1/availability", users.Require(front.JSON())},
		{"/freebusy/{address}", users.Require(front.ICal())},
	}
	return append(routes, s.healthRoutes()...)
}

// Public is the public handler around router, which serves Routes:
// router matches the request's path lower-cased, as IIS matches
// Exchange's (docs/protocol.md §1.1), and every answer gets Exchange's
// HTTP conventions (request-id, client-request-id, gzip:
// internal/exchhttp). rec, when not nil, records the exchanges inside
// them, so cases hold plain bodies.
func Public(router http.Handler, rec *conformance.Recorder) http.Handler {
	var h http.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.URL.Path = strings.ToLower(r.URL.Path)
		r.URL.RawPath = ""
		router.ServeHTTP(w, r)
	})
	if rec != nil {
		h = rec.Wrap(h)
	}
	return exchhttp.Wrap(h)
}

// byOperation sends a POSTed EWS request to the handler of its operation
// (the first element of its soap:Body, in the EWS messages namespace), and
// everything else, including requests it cannot read, to def, which
// answers them as it would without routing. The body must already be in
// memory (soap.Bounded); it is handed on unchanged.
func byOperation(l soap.Limits, def http.Handler, ops map[string]http.Handler) http.Handler {
	const nsMessages = "http://schemas.microsoft.com/exchange/services/2006/messages"
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost {
			if op, ok := soap.RequestOperation(r, l); ok && op.Space == nsMessages {
				if h, ok := ops[op.Local]; ok {
					h.ServeHTTP(w, r)
					return
				}
			}
		}
		def.ServeHTTP(w, r)
	})
}

// noteToken passes a validated token's claims to a conformance recorder
// around the server (calfed serve -record), so the recorded case can have
// a fresh token minted on replay.
func noteToken(policy *live.Policy, offer string, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if c, ok := identity.FromContext(r.Context()); ok && c.TokenID != "" {
			if t := policy.Federation(); t != nil {
				conformance.NoteToken(r.Context(), conformance.TokenClaims{Requester: c.Email, Audience: t.ApplicationURI, Offer: offer})
			}
		}
		next.ServeHTTP(w, r)
	})
}
