package partner

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/calfed/calfed/autodiscover"
	"github.com/calfed/calfed/ews"
	"github.com/calfed/calfed/freebusy"
	"github.com/calfed/calfed/internal/domainname"
	"github.com/calfed/calfed/internal/fedtoken"
	"github.com/calfed/calfed/internal/outbound"
	"github.com/calfed/calfed/orgrel"
	"github.com/calfed/calfed/store"
)

// MaxPerRequest is how many mailboxes one GetUserAvailability asks about,
// as Exchange batches its requests to another organisation
// ([MS-OXWAVLS] 3.1.4.1.3.1: at most 100 mailboxes). docs/protocol.md §1.7.
const MaxPerRequest = 100

// Relationships finds our relationship covering a partner domain
// (*live.Policy, or Static over the store's list).
type Relationships interface {
	Relationship(domain string) (orgrel.Relationship, bool)
}

// Static is Relationships over a fixed list: the first enabled
// relationship naming the domain.
type Static []orgrel.Relationship

// Relationship implements Relationships.
func (s Static) Relationship(domain string) (orgrel.Relationship, bool) {
	d, err := domainname.Canonical(domain)
	if err != nil {
		return orgrel.Relationship{}, false
	}
	for _, r := range s {
		for _, rd := range r.Domains {
			if rd == d {
				return r, true
			}
		}
	}
	return orgrel.Relationship{}, false
}

// Credentials are what partners gave us for asking them cross-forest
// (*store.DB); an error matching store.ErrNotFound means none, and the
// partner is asked as a federated one.
type Credentials interface {
	OutboundCredential(ctx context.Context, relationship string) (orgrel.OutboundCredential, error)
}

// Defaults of Asker.
const (
	DefaultTimeout    = 10 * time.Second
	DefaultCacheFor   = 30 * time.Second
	DefaultBreakAfter = 5
	DefaultBreakFor   = 30 * time.Second
	// tokenReuse is how long a FreeBusy token is reused: well inside its
	// offer's five minutes after NotBefore, which the partner allows
	// (docs/protocol.md §4.6), so one query is one round trip.
	tokenReuse = 2 * time.Minute
	// urlFor is how long a partner's EWS URL learnt from its
	// Autodiscover is kept.
	urlFor = time.Hour
	// maxCached bounds the answers kept: beyond it the cache starts
	// afresh.
	maxCached = 100_000
)

// Asker asks partner organisations for free/busy on behalf of our users:
// the freebusy.Remote of the user-facing fronts and calfed freebusy. Each
// query asks each partner once (in batches of MaxPerRequest mailboxes),
// all partners at once, each within Timeout; a partner failing BreakAfter
// times in a row is not asked for BreakFor (its mailboxes are
// PartnerFailed at once); answers are kept CacheFor. A federated partner
// is asked with a delegation token for the user; one whose credentials we
// hold (Credentials) with those, as Exchange's Add-AvailabilityAddressSpace
// -AccessMethod OrgWideFB does.
type Asker struct {
	Relationships Relationships // required
	Tokens        Tokens        // delegation tokens; nil: federated partners fail
	Credentials   Credentials   // cross-forest credentials; nil: none
	// HTTP reaches the partners; default internal/outbound's. Timeout
	// bounds each partner's request, not this client's.
	HTTP       *http.Client
	Timeout    time.Duration    // per partner and query; default DefaultTimeout
	CacheFor   time.Duration    // default DefaultCacheFor; negative: no cache
	BreakAfter int              // default DefaultBreakAfter
	BreakFor   time.Duration    // default DefaultBreakFor
	Now        func() time.Time // default time.Now
	Logger     *slog.Logger     // nil discards

	mu       sync.Mutex
	cache    map[cacheKey]cached
	breakers map[string]*breaker
	tokens   map[tokenKey]cachedToken
	urls     map[string]cachedURL
}

type cacheKey struct {
	rel, user, mailbox string
	start, end         int64
	view               freebusy.View
	interval           time.Duration
	legacy             bool
}

type cached struct {
	r       freebusy.Result
	expires time.Time
}

type tokenKey struct{ user, uri, offer string }

type cachedToken struct {
	tok     []byte
	expires time.Time
}

type cachedURL struct {
	url, app string // app: a discovered ApplicationUri
	expires  time.Time
}

type breaker struct {
	failures  int
	openUntil time.Time
	lastErr   string
}

func (a *Asker) now() time.Time {
	if a.Now != nil {
		return a.Now()
	}
	return time.Now()
}

func (a *Asker) log() *slog.Logger {
	if a.Logger != nil {
		return a.Logger
	}
	return slog.New(slog.DiscardHandler)
}

func (a *Asker) client() *http.Client {
	if a.HTTP != nil {
		return a.HTTP
	}
	return outbound.Default().HTTP(0)
}

func (a *Asker) settings() (timeout, cacheFor time.Duration, breakAfter int, breakFor time.Duration) {
	timeout, cacheFor, breakAfter, breakFor = a.Timeout, a.CacheFor, a.BreakAfter, a.BreakFor
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	if cacheFor == 0 {
		cacheFor = DefaultCacheFor
	}
	if breakAfter <= 0 {
		breakAfter = DefaultBreakAfter
	}
	if breakFor <= 0 {
		breakFor = DefaultBreakFor
	}
	return
}

// batch is one request to one partner.
type batch struct {
	rel   orgrel.Relationship
	index []int // positions in the query's addresses
}

// Ask implements freebusy.Remote: one Result per address, in order.
func (a *Asker) Ask(ctx context.Context, user string, q *freebusy.Query, addresses []string) []freebusy.Result {
	out := make([]freebusy.Result, len(addresses))
	_, cacheFor, _, _ := a.settings()
	now := a.now()
	groups := map[string]*batch{}
	var batches []*batch
	for i, addr := range addresses {
		rel, why := a.relationship(addr)
		if why != "" {
			out[i] = freebusy.Result{Address: addr, Outcome: freebusy.NoPartner, Code: freebusy.CodeMailRecipientNotFound, Message: why}
			continue
		}
		if r, ok := a.cached(a.key(rel.Name, user, addr, q), now); ok && cacheFor > 0 {
			r.Address = addr
			out[i] = r
			continue
		}
		b := groups[rel.Name]
		if b == nil || len(b.index) == MaxPerRequest {
			b = &batch{rel: rel}
			groups[rel.Name] = b
			batches = append(batches, b)
		}
		b.index = append(b.index, i)
	}
	var wg sync.WaitGroup
	for _, b := range batches {
		wg.Add(1)
		go func() {
			defer wg.Done()
			a.askBatch(ctx, user, q, addresses, b, out)
		}()
	}
	wg.Wait()
	return out
}

// relationship is the enabled relationship to ask for addr, or why there
// is none.
func (a *Asker) relationship(addr string) (orgrel.Relationship, string) {
	domain, err := domainname.DomainOf(strings.TrimSpace(addr))
	if err != nil {
		return orgrel.Relationship{}, fmt.Sprintf("%q is not an e-mail address", addr)
	}
	rel, ok := a.Relationships.Relationship(domain)
	switch {
	case !ok:
		return rel, "no organisation relationship covers " + domain
	case !rel.Enabled:
		return rel, "the organisation relationship " + rel.Name + " is disabled"
	case !rel.FreeBusyAccessEnabled:
		// Exchange's FreeBusyAccessEnabled also decides whether the
		// relationship is used to retrieve the partner's free/busy.
		// docs/protocol.md §5.
		return rel, "the organisation relationship " + rel.Name + " does not have free/busy access enabled"
	}
	return rel, ""
}

func (a *Asker) key(rel, user, mailbox string, q *freebusy.Query) cacheKey {
	m, err := domainname.Address(strings.TrimSpace(mailbox))
	if err != nil {
		m = mailbox
	}
	return cacheKey{rel: strings.ToLower(rel), user: strings.ToLower(user), mailbox: m, start: q.Start.UnixNano(), end: q.End.UnixNano(),
		view: q.View, interval: q.Interval, legacy: q.Legacy}
}

func (a *Asker) cached(k cacheKey, now time.Time) (freebusy.Result, bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	c, ok := a.cache[k]
	if !ok || !now.Before(c.expires) {
		delete(a.cache, k)
		return freebusy.Result{}, false
	}
	return c.r, true
}

// askBatch asks one partner about b's mailboxes and fills their results.
func (a *Asker) askBatch(ctx context.Context, user string, q *freebusy.Query, addresses []string, b *batch, out []freebusy.Result) {
	timeout, cacheFor, breakAfter, breakFor := a.settings()
	fail := func(code, msg string) {
		for _, i := range b.index {
			out[i] = freebusy.Result{Address: addresses[i], Outcome: freebusy.PartnerFailed, Code: code, Message: msg}
		}
	}
	name := b.rel.Name
	if until, last, open := a.open(name); open {
		fail(freebusy.CodeProxyRequestProcessingFailed, fmt.Sprintf("%s is not asked until %s after repeated failures (last: %s)", name, until.UTC().Format(time.RFC3339), last))
		return
	}
	mailboxes := make([]string, len(b.index))
	for j, i := range b.index {
		mailboxes[j] = addresses[i]
	}
	start := a.now()
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	results, err := a.askPartner(ctx, b.rel, user, q, mailboxes)
	if err != nil {
		code := freebusy.CodeProxyRequestProcessingFailed
		if errors.Is(err, context.DeadlineExceeded) || errors.Is(ctx.Err(), context.DeadlineExceeded) {
			code = freebusy.CodeTimeoutExpired
			err = fmt.Errorf("%s did not answer within %v", name, timeout)
		}
		a.failed(name, err, breakAfter, breakFor)
		a.log().Warn("partner not asked", "relationship", name, "mailboxes", len(mailboxes), "err", err, "duration", a.now().Sub(start))
		fail(code, err.Error())
		return
	}
	a.succeeded(name)
	now := a.now()
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.cache == nil {
		a.cache = map[cacheKey]cached{}
	}
	for j, i := range b.index {
		r := results[j]
		r.Address = addresses[i]
		out[i] = r
		if cacheFor > 0 {
			a.cache[a.key(name, user, addresses[i], q)] = cached{r: r, expires: now.Add(cacheFor)}
		}
	}
	// The cache is short-lived: sweep what has expired as it grows, and
	// start afresh beyond maxCached.
	if len(a.cache) > 4096 {
		for k, c := range a.cache {
			if !now.Before(c.expires) {
				delete(a.cache, k)
			}
		}
		if len(a.cache) > maxCached {
			clear(a.cache)
		}
	}
}

func (a *Asker) open(name string) (time.Time, string, bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	b := a.breakers[strings.ToLower(name)]
	if b == nil || !a.now().Before(b.openUntil) {
		return time.Time{}, "", false
	}
	return b.openUntil, b.lastErr, true
}

// failed counts a failure; BreakAfter in a row open the breaker for
// BreakFor, after which the partner is asked again (and a failure then
// reopens it at once).
func (a *Asker) failed(name string, err error, after int, openFor time.Duration) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.breakers == nil {
		a.breakers = map[string]*breaker{}
	}
	k := strings.ToLower(name)
	b := a.breakers[k]
	if b == nil {
		b = &breaker{}
		a.breakers[k] = b
	}
	b.failures++
	b.lastErr = err.Error()
	if b.failures >= after {
		b.openUntil = a.now().Add(openFor)
		a.log().Warn("partner circuit open", "relationship", name, "failures", b.failures, "until", b.openUntil)
	}
}

func (a *Asker) succeeded(name string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	delete(a.breakers, strings.ToLower(name))
}

// askPartner sends one GetUserAvailability to the partner of rel.
func (a *Asker) askPartner(ctx context.Context, rel orgrel.Relationship, user string, q *freebusy.Query, mailboxes []string) ([]freebusy.Result, error) {
	pq := Query{User: user, Query: *q}
	pq.Mailboxes = mailboxes
	if a.Credentials != nil {
		cred, err := a.Credentials.OutboundCredential(ctx, rel.Name)
		if err == nil {
			return a.crossForest(ctx, rel, cred, pq)
		}
		if !errors.Is(err, store.ErrNotFound) {
			return nil, fmt.Errorf("reading the outbound credentials of %s: %w", rel.Name, err)
		}
	}
	if a.Tokens == nil {
		return nil, fmt.Errorf("%s: no delegation tokens here and no outbound credentials (calfed orgrel set %q -outbound-account …)", rel.Name, rel.Name)
	}
	p := Partner{ApplicationURI: rel.TargetApplicationURI, AutodiscoverEPR: rel.TargetAutodiscoverEPR, SharingEPR: rel.TargetSharingEPR}
	if p.AutodiscoverEPR == "" && p.SharingEPR == "" {
		var err error
		if p, err = a.discover(ctx, rel.Name, p, mailboxes[0]); err != nil {
			return nil, err
		}
	}
	if p.ApplicationURI == "" {
		return nil, fmt.Errorf("%w for %s (calfed orgrel set %q -target-application-uri …)", ErrNoPartner, rel.Name, rel.Name)
	}
	url, err := a.ewsURL(ctx, rel.Name, p, user, mailboxes[0])
	if err != nil {
		return nil, err
	}
	tok, fresh, err := a.token(ctx, user, p.ApplicationURI)
	if err != nil {
		return nil, err
	}
	client := &ews.Client{HTTP: a.client()}
	h := ews.RequestHeader{RequestType: "CrossForest", Token: tok}
	if q.Legacy {
		h.ServerVersion = "Exchange2010"
	}
	resp, err := client.GetUserAvailability(ctx, WSSecurityURL(url), h, request(pq))
	if err != nil && !fresh && ctx.Err() == nil {
		// A partner that accepts each token once (calfed's
		// refuse_token_reuse) refuses a reused one: ask once more with a
		// new token.
		a.forgetToken(user, p.ApplicationURI)
		if tok, _, err = a.token(ctx, user, p.ApplicationURI); err != nil {
			return nil, err
		}
		h.Token = tok
		resp, err = client.GetUserAvailability(ctx, WSSecurityURL(url), h, request(pq))
	}
	if err != nil {
		return nil, fmt.Errorf("%s's EWS: %w", rel.Name, err)
	}
	return results(pq, resp)
}

// crossForest asks with the credentials the partner gave us, over HTTP
// Basic authentication at its EWS URL (TargetSharingEpr).
func (a *Asker) crossForest(ctx context.Context, rel orgrel.Relationship, cred orgrel.OutboundCredential, pq Query) ([]freebusy.Result, error) {
	if rel.TargetSharingEPR == "" {
		return nil, fmt.Errorf("%s: asking with outbound credentials needs the partner's EWS URL (calfed orgrel set %q -target-sharing-epr https://…/EWS/Exchange.asmx)", rel.Name, rel.Name)
	}
	base := a.client()
	hc := &http.Client{Timeout: base.Timeout, Transport: basicAuth{base: transport(base), user: cred.Account, secret: cred.Secret}}
	h := ews.RequestHeader{RequestType: "CrossForest"}
	if pq.Legacy {
		h.ServerVersion = "Exchange2010"
	}
	resp, err := (&ews.Client{HTTP: hc}).GetUserAvailability(ctx, rel.TargetSharingEPR, h, request(pq))
	if err != nil {
		return nil, fmt.Errorf("%s's EWS: %w", rel.Name, err)
	}
	return results(pq, resp)
}

func transport(c *http.Client) http.RoundTripper {
	if c.Transport != nil {
		return c.Transport
	}
	return http.DefaultTransport
}

// basicAuth adds the partner's credentials to each request, only ever
// to the EWS URL they were given for (the client follows no redirect
// with them: Go drops Authorization on a redirect to another host).
type basicAuth struct {
	base         http.RoundTripper
	user, secret string
}

func (b basicAuth) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.SetBasicAuth(b.user, b.secret)
	return b.base.RoundTrip(r)
}

func results(pq Query, resp *ews.GetUserAvailabilityResponse) ([]freebusy.Result, error) {
	if len(resp.FreeBusyResponses) != len(pq.Mailboxes) {
		return nil, fmt.Errorf("%w: %d mailboxes answered of %d", ErrAnswer, len(resp.FreeBusyResponses), len(pq.Mailboxes))
	}
	out := make([]freebusy.Result, len(pq.Mailboxes))
	for i, r := range resp.FreeBusyResponses {
		out[i] = result(pq.Mailboxes[i], r).FreeBusy()
	}
	return out, nil
}

// FreeBusy is r as the freebusy core's result: the partner's code and
// message kept, its busy periods as events.
func (r Result) FreeBusy() freebusy.Result {
	code := r.Code
	if code == "" {
		code = freebusy.CodeNoError
	}
	out := freebusy.Result{Address: r.Mailbox, Outcome: freebusy.OutcomeOf(code), Code: code, Message: r.Message}
	if out.Outcome != freebusy.OK {
		return out
	}
	out.View, out.WorkingHours, out.Zone = r.View, r.WorkingHours, r.Zone
	detailed := r.View.Detailed()
	for _, b := range r.Busy {
		out.Events = append(out.Events, freebusy.RemoteEvent(b.Start, b.End, b.Busy, detailed, b.Private, b.Subject, b.Location))
	}
	if r.Merged != "" {
		out.Merged = []byte(r.Merged)
	}
	return out
}

func (a *Asker) ewsURL(ctx context.Context, rel string, p Partner, user, mailbox string) (string, error) {
	if p.SharingEPR != "" {
		return p.SharingEPR, nil
	}
	k := strings.ToLower(rel)
	a.mu.Lock()
	c, ok := a.urls[k]
	a.mu.Unlock()
	if ok && a.now().Before(c.expires) {
		return c.url, nil
	}
	url, err := (&Client{Tokens: a.tokenSource(), HTTP: a.client()}).EWSURL(ctx, p, user, mailbox)
	if err != nil {
		return "", err
	}
	if err := learnt(url); err != nil {
		return "", fmt.Errorf("%s's Autodiscover: %w", rel, err)
	}
	a.mu.Lock()
	if a.urls == nil {
		a.urls = map[string]cachedURL{}
	}
	a.urls[k] = cachedURL{url: url, expires: a.now().Add(urlFor)}
	a.mu.Unlock()
	return url, nil
}

// discover fills in what a relationship without endpoints lacks from the
// partner domain's Autodiscover, found as Get-FederationInformation finds
// it (autodiscover.Discoverer; docs/protocol.md §2.2): its Autodiscover
// endpoint, and its ApplicationUri when the relationship has none. Kept
// with the EWS URL.
func (a *Asker) discover(ctx context.Context, rel string, p Partner, mailbox string) (Partner, error) {
	k := "discovered " + strings.ToLower(rel)
	a.mu.Lock()
	c, ok := a.urls[k]
	a.mu.Unlock()
	if !ok || !a.now().Before(c.expires) {
		domain, err := domainname.DomainOf(mailbox)
		if err != nil {
			return p, err
		}
		info, err := (&autodiscover.Discoverer{HTTP: a.client()}).FederationInformation(ctx, domain)
		if err != nil {
			return p, fmt.Errorf("%s has neither TargetAutodiscoverEpr nor TargetSharingEpr, and discovering %s: %w", rel, domain, err)
		}
		if err := learnt(info.TargetAutodiscoverEPR); err != nil {
			return p, fmt.Errorf("%s's Autodiscover: %w", rel, err)
		}
		c = cachedURL{url: info.TargetAutodiscoverEPR, app: info.TargetApplicationURI, expires: a.now().Add(urlFor)}
		a.mu.Lock()
		if a.urls == nil {
			a.urls = map[string]cachedURL{}
		}
		a.urls[k] = c
		a.mu.Unlock()
	}
	p.AutodiscoverEPR = c.url
	if p.ApplicationURI == "" {
		p.ApplicationURI = c.app
	}
	return p, nil
}

// ErrLearntURL: a URL a partner's Autodiscover gave is not one we send a
// request with a token to.
var ErrLearntURL = errors.New("partner: the URL the partner's Autodiscover gave is not https")

// learnt checks a URL a partner's Autodiscover gave: https, or http
// on loopback for labs. The partner chooses it, so without the check it
// could point our server at plain-text or internal endpoints; an
// administrator who must use another sets TargetSharingEpr instead.
func learnt(raw string) error {
	u, err := url.Parse(raw)
	if err != nil {
		return fmt.Errorf("%w: %v", ErrLearntURL, err)
	}
	if u.Scheme == "https" && u.Host != "" {
		return nil
	}
	if ip, err := netip.ParseAddr(u.Hostname()); u.Scheme == "http" && (u.Hostname() == "localhost" || err == nil && ip.IsLoopback()) {
		return nil
	}
	return fmt.Errorf("%w: %q (set the relationship's TargetSharingEpr to ask it anyway)", ErrLearntURL, raw)
}

// tokenSource is a.Tokens through the token cache.
func (a *Asker) tokenSource() Tokens { return cachingTokens{a} }

type cachingTokens struct{ a *Asker }

func (c cachingTokens) Token(ctx context.Context, user, uri, offer string) ([]byte, error) {
	tok, _, err := c.a.tokenFor(ctx, user, uri, offer)
	return tok, err
}

func (a *Asker) token(ctx context.Context, user, uri string) ([]byte, bool, error) {
	return a.tokenFor(ctx, user, uri, fedtoken.OfferFreeBusy)
}

// tokenFor returns a delegation token, reused for tokenReuse; fresh
// reports whether it was just issued.
func (a *Asker) tokenFor(ctx context.Context, user, uri, offer string) ([]byte, bool, error) {
	k := tokenKey{strings.ToLower(user), uri, offer}
	a.mu.Lock()
	c, ok := a.tokens[k]
	a.mu.Unlock()
	if ok && a.now().Before(c.expires) {
		return c.tok, false, nil
	}
	tok, err := a.Tokens.Token(ctx, user, uri, offer)
	if err != nil {
		return nil, false, err
	}
	a.mu.Lock()
	if a.tokens == nil {
		a.tokens = map[tokenKey]cachedToken{}
	}
	now := a.now()
	if len(a.tokens) > 4096 {
		for k, c := range a.tokens {
			if !now.Before(c.expires) {
				delete(a.tokens, k)
			}
		}
	}
	a.tokens[k] = cachedToken{tok: tok, expires: now.Add(tokenReuse)}
	a.mu.Unlock()
	return tok, true, nil
}

func (a *Asker) forgetToken(user, uri string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	delete(a.tokens, tokenKey{strings.ToLower(user), uri, fedtoken.OfferFreeBusy})
}
