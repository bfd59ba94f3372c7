// Package live keeps the access policy, the partners' service accounts and
// the token-validation trust as the store has them now: it reloads after
// every committed change, from this process or any other, and swaps the
// new state in without blocking requests. A reload that fails is retried,
// with backoff, until it lands; every server records in the store the
// change it has applied, so that a change can be waited for; and a server
// whose policy has grown older than a bound while reloads fail refuses
// partners rather than answer them from a policy that may have revoked
// their access.
package live

import (
	"context"
	crand "crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/calfed/calfed/federation"
	"github.com/calfed/calfed/internal/identity"
	"github.com/calfed/calfed/orgrel"
)

// Store is where the federation objects live (*store.DB).
type Store interface {
	// Snapshot reads everything the policy needs at one change.
	Snapshot(ctx context.Context) (*orgrel.Snapshot, error)
	// Counter reads the change counter.
	Counter(ctx context.Context) (int64, error)
	// Watch signals every committed change until ctx ends.
	Watch(ctx context.Context) <-chan struct{}
}

// Reporter records in the store what this server has applied
// (*store.DB).
type Reporter interface {
	ReportServer(ctx context.Context, s orgrel.Server) error
	RemoveServer(ctx context.Context, id string) error
}

// Validation builds what token validation checks from the trust record:
// our certificates and the issuer's (*trust.Service).
type Validation interface {
	Validation(ctx context.Context, t *orgrel.Trust) (*federation.Trust, error)
}

// Defaults of Options.
const (
	DefaultHeartbeat = 5 * time.Second
	DefaultMaxAge    = 2 * time.Minute
	DefaultRetryMin  = 250 * time.Millisecond
)

// Options configure a Policy. Store and Validation are required.
type Options struct {
	Store      Store
	Validation Validation
	// Reporter, when set, records this server's state in the store at
	// every heartbeat and after every reload attempt; Run removes the
	// record when it ends.
	Reporter Reporter
	// ID names this server in the store and the log. Default NewID().
	ID string
	// Defaults are the mailboxes' configured external sharing, for those
	// without a recorded choice.
	Defaults map[string]orgrel.Level
	// Verifier checks service-account secrets for every policy loaded, so
	// its cache of verified credentials survives reloads. Default: one
	// with orgrel's defaults.
	Verifier *orgrel.Verifier
	// Heartbeat is how often Run checks that the policy in force is the
	// store's current one and reports; a report expires after four.
	// Default DefaultHeartbeat (5s).
	Heartbeat time.Duration
	// MaxAge is how old the policy in force may grow, counted from the
	// last time the store confirmed it current, before federated and
	// service-account callers are refused (RequireCurrent). It is reached
	// only while reloads or reads of the change counter fail. Default
	// DefaultMaxAge (2m).
	MaxAge time.Duration
	// RetryMin and RetryMax bound the wait before a failed reload is
	// tried again: RetryMin, doubling after each failure up to RetryMax,
	// each wait drawn at random from the upper half of that; every
	// heartbeat tries too. Defaults DefaultRetryMin (250ms) and the
	// heartbeat.
	RetryMin, RetryMax time.Duration
	Now                func() time.Time // default time.Now
	Logger             *slog.Logger     // nil discards
	// Applied, when set, is told of every change put in force after the
	// first load, with its lag: from when the change was made (its
	// audit entry's time, by the clock of whoever made it) to now. For
	// the metrics.
	Applied func(change int64, lag time.Duration)
}

// Policy is the live state. Its methods are safe for concurrent use.
type Policy struct {
	opt      Options
	log      *slog.Logger
	started  time.Time
	policy   atomic.Pointer[orgrel.Policy]
	accounts atomic.Pointer[orgrel.Accounts]
	trust    atomic.Pointer[orgrel.Trust]     // nil until one is set
	fed      atomic.Pointer[federation.Trust] // what token validation checks; nil until usable
	counter  atomic.Int64
	// confirmed is when (UnixNano, by opt.Now) the store last showed the
	// policy in force to be its current one.
	confirmed atomic.Int64
	refusing  atomic.Bool // RequireCurrent refuses callers; logged when it changes
	loaded    atomic.Bool // the first load is done

	mu           sync.Mutex
	appliedAt    time.Time
	lastErr      string    // why the last reload attempt failed; "" when it succeeded
	failingSince time.Time // zero while reloads succeed
	reportErr    string    // why the last report failed, to log each change once
}

// NewID returns an id for this process: host name, process id and a
// random part, so that a restarted process with the same pid is another
// server.
func NewID() string {
	host, err := os.Hostname()
	if err != nil || host == "" {
		host = "unknown-host"
	}
	b := make([]byte, 3)
	crand.Read(b)
	return fmt.Sprintf("%s/%d/%s", host, os.Getpid(), hex.EncodeToString(b))
}

// New loads the current state.
func New(ctx context.Context, opt Options) (*Policy, error) {
	if opt.Verifier == nil {
		opt.Verifier = orgrel.NewVerifier(orgrel.VerifierOptions{})
	}
	if opt.ID == "" {
		opt.ID = NewID()
	}
	if opt.Heartbeat <= 0 {
		opt.Heartbeat = DefaultHeartbeat
	}
	if opt.MaxAge <= 0 {
		opt.MaxAge = DefaultMaxAge
	}
	if opt.RetryMin <= 0 {
		opt.RetryMin = DefaultRetryMin
	}
	if opt.RetryMax <= 0 {
		opt.RetryMax = opt.Heartbeat
	}
	if opt.RetryMax < opt.RetryMin {
		opt.RetryMax = opt.RetryMin
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	l := &Policy{opt: opt, log: opt.Logger}
	if l.log == nil {
		l.log = slog.New(slog.DiscardHandler)
	}
	l.started = opt.Now()
	return l, l.Load(ctx)
}

// ID names this server in the store and the log.
func (l *Policy) ID() string { return l.opt.ID }

// Load reads the store's state now and puts it in force.
func (l *Policy) Load(ctx context.Context) error {
	return l.load(ctx, l.opt.Now())
}

// load puts the store's state in force; at is a moment before the
// snapshot was read, from when the policy counts as current.
func (l *Policy) load(ctx context.Context, at time.Time) error {
	start := time.Now()
	snap, err := l.opt.Store.Snapshot(ctx)
	if err != nil {
		return err
	}
	p, err := snap.Policy(l.opt.Defaults)
	if err != nil {
		return err
	}
	a, err := snap.ServiceAccounts(p, l.opt.Verifier)
	if err != nil {
		return err
	}
	fed, err := l.opt.Validation.Validation(ctx, snap.Trust)
	if err != nil {
		return err
	}
	l.policy.Store(p)
	l.accounts.Store(a)
	l.trust.Store(snap.Trust)
	// Validation gives a new trust only when it changed: validators then
	// empty their caches (federation.Trust).
	if old := l.fed.Swap(fed); old != nil && old != fed {
		l.log.Info("token validation trust changed: cached tokens are validated anew", "change", snap.Counter)
	}
	prev := l.counter.Swap(snap.Counter)
	if first := !l.loaded.Swap(true); l.opt.Applied != nil && !first && snap.Counter != prev && !snap.ChangedAt.IsZero() {
		l.opt.Applied(snap.Counter, l.opt.Now().Sub(snap.ChangedAt))
	}
	l.confirmed.Store(at.UnixNano())
	l.mu.Lock()
	l.appliedAt = l.opt.Now()
	l.mu.Unlock()
	l.log.Info("access policy loaded", "server", l.opt.ID, "change", snap.Counter, "relationships", len(snap.Relationships),
		"accounts", len(snap.Accounts), "duration", time.Since(start))
	return nil
}

// Sync brings the policy up to the store's current change: it reads the
// change counter and reloads when the counter differs from the change in
// force. It is one step of Run.
func (l *Policy) Sync(ctx context.Context) error {
	at := l.opt.Now()
	n, err := l.opt.Store.Counter(ctx)
	if err != nil {
		return fmt.Errorf("reading the change counter: %w", err)
	}
	if n == l.counter.Load() {
		l.confirmed.Store(at.UnixNano())
		return nil
	}
	return l.load(ctx, at)
}

// Run keeps the policy current until ctx ends (or the store's change
// notifications end): it syncs on every change notification and every
// heartbeat, and after a failure again and again, with backoff, until a
// reload lands, so a change is never left behind because one reload
// failed. Meanwhile the previous policy stays in force, up to MaxAge.
// With a Reporter, it records this server's state after every attempt
// and every heartbeat, and removes the record when it ends.
func (l *Policy) Run(ctx context.Context) {
	changes := l.opt.Store.Watch(ctx)
	beat := time.NewTicker(l.opt.Heartbeat)
	defer beat.Stop()
	defer l.remove()
	l.log.Info("keeping the access policy current", "server", l.opt.ID, "heartbeat", l.opt.Heartbeat, "max_policy_age", l.opt.MaxAge)
	l.report(ctx)
	var retry <-chan time.Time
	failures := 0
	for {
		select {
		case <-ctx.Done():
			return
		case _, ok := <-changes:
			if !ok {
				return
			}
		case <-beat.C:
		case <-retry:
		}
		// One attempt may not outlast the reports that show this server
		// alive (four heartbeats).
		actx, cancel := context.WithTimeout(ctx, 2*l.opt.Heartbeat)
		err := l.Sync(actx)
		cancel()
		if ctx.Err() != nil {
			return
		}
		l.settle(err)
		if err != nil {
			failures++
			retry = time.After(backoff(failures, l.opt.RetryMin, l.opt.RetryMax, rand.Float64))
		} else {
			failures, retry = 0, nil
		}
		l.current()
		l.report(ctx)
	}
}

// settle records the outcome of a sync, logging each change of it once.
func (l *Policy) settle(err error) {
	l.mu.Lock()
	prev, since := l.lastErr, l.failingSince
	if err == nil {
		l.lastErr, l.failingSince = "", time.Time{}
	} else {
		l.lastErr = err.Error()
		if l.failingSince.IsZero() {
			l.failingSince = l.opt.Now()
		}
	}
	l.mu.Unlock()
	switch {
	case err != nil && err.Error() != prev:
		l.log.Error("access policy not reloaded; the previous one stays in force while it is retried", "server", l.opt.ID,
			"change", l.counter.Load(), "err", err)
	case err != nil:
		l.log.Debug("access policy reload failed again", "server", l.opt.ID, "err", err)
	case prev != "":
		l.log.Info("access policy current again", "server", l.opt.ID, "change", l.counter.Load(),
			"failed_for", l.opt.Now().Sub(since).Round(time.Millisecond))
	}
}

// backoff is the wait before retry n (1 for the first): lo doubled n-1
// times, capped at hi, then drawn uniformly from the upper half of that
// (rnd returns [0, 1)), so that servers failing together do not retry in
// step.
func backoff(n int, lo, hi time.Duration, rnd func() float64) time.Duration {
	d := lo
	for i := 1; i < n && d < hi; i++ {
		d *= 2
	}
	d = min(d, hi)
	return d/2 + time.Duration(rnd()*float64(d-d/2))
}

// Status is this server as it reports itself to the store now.
func (l *Policy) Status() orgrel.Server {
	now := l.opt.Now()
	l.mu.Lock()
	defer l.mu.Unlock()
	s := orgrel.Server{ID: l.opt.ID, Started: l.started, Applied: l.counter.Load(), AppliedAt: l.appliedAt,
		Heartbeat: now, Expires: now.Add(4 * l.opt.Heartbeat), Error: l.lastErr}
	if !l.failingSince.IsZero() {
		since := l.failingSince
		s.FailingSince = &since
	}
	return s
}

// report records Status with the Reporter, logging each change of its
// outcome once.
func (l *Policy) report(ctx context.Context) {
	if l.opt.Reporter == nil {
		return
	}
	rctx, cancel := context.WithTimeout(ctx, l.opt.Heartbeat)
	err := l.opt.Reporter.ReportServer(rctx, l.Status())
	cancel()
	msg := ""
	if err != nil {
		if ctx.Err() != nil {
			return
		}
		msg = err.Error()
	}
	l.mu.Lock()
	prev := l.reportErr
	l.reportErr = msg
	l.mu.Unlock()
	switch {
	case msg != "" && msg != prev:
		l.log.Warn("cannot record this server's state in the store; commands that wait for changes will not see it", "server", l.opt.ID, "err", err)
	case msg == "" && prev != "":
		l.log.Info("recording this server's state in the store again", "server", l.opt.ID)
	}
}

// remove deletes this server's record as Run ends.
func (l *Policy) remove() {
	if l.opt.Reporter == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), l.opt.Heartbeat)
	defer cancel()
	if err := l.opt.Reporter.RemoveServer(ctx, l.opt.ID); err != nil {
		l.log.Warn("cannot remove this server's record from the store; it expires by itself", "server", l.opt.ID, "err", err)
	}
}

// current reports whether the policy in force is young enough to answer
// partners from: the store confirmed it current within MaxAge. It logs
// each change of the answer once.
func (l *Policy) current() bool {
	age := l.opt.Now().Sub(time.Unix(0, l.confirmed.Load()))
	if age <= l.opt.MaxAge {
		if l.refusing.Load() && l.refusing.CompareAndSwap(true, false) {
			l.log.Info("serving federated and service-account callers again: the access policy is current", "server", l.opt.ID,
				"change", l.counter.Load())
		}
		return true
	}
	if l.refusing.CompareAndSwap(false, true) {
		l.mu.Lock()
		why := l.lastErr
		l.mu.Unlock()
		l.log.Error("refusing federated and service-account callers: the access policy in force is older than max_policy_age and cannot be reloaded",
			"server", l.opt.ID, "change", l.counter.Load(), "age", age.Round(time.Second), "max_policy_age", l.opt.MaxAge, "err", why)
	}
	return false
}

// Current reports whether the policy in force is young enough to answer
// partners from (within MaxAge of the store's last confirmation), as
// RequireCurrent decides it.
func (l *Policy) Current() bool { return l.current() }

// Confirmed is when the store last showed the policy in force to be its
// current one, and the change counter it was loaded at.
func (l *Policy) Confirmed() (at time.Time, change int64) {
	return time.Unix(0, l.confirmed.Load()), l.counter.Load()
}

// MaxAge is how old the policy may grow before partners are refused.
func (l *Policy) MaxAge() time.Duration { return l.opt.MaxAge }

// RequireCurrent serves next, except that a request with a verified
// caller (a delegation token's or a service account's, in its context)
// is refused while the policy in force is older than MaxAge: with 503
// Service Unavailable and Retry-After, which a requester takes for a
// passing failure, never for a statement about its access.
// docs/protocol.md §1.8. Anonymous requests pass: their answers do not
// depend on the relationships.
func (l *Policy) RequireCurrent(next http.Handler) http.Handler {
	retry := strconv.FormatInt(int64((l.opt.Heartbeat+time.Second-1)/time.Second), 10)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, ok := identity.FromContext(r.Context()); ok && !l.current() {
			w.Header().Set("Retry-After", retry)
			http.Error(w, "The server is busy; try again.", http.StatusServiceUnavailable)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// Access decides what a caller may see of a mailbox.
func (l *Policy) Access(c identity.Caller, mailbox string, groups []string) orgrel.Decision {
	return l.policy.Load().Access(c, mailbox, groups)
}

// Sharing is a mailbox's external sharing now (orgrel.Policy.Sharing).
func (l *Policy) Sharing(mailbox string) orgrel.Level {
	return l.policy.Load().Sharing(mailbox)
}

// MailTips is the MailTips level of the caller's relationship now.
func (l *Policy) MailTips(c identity.Caller) orgrel.MailTipsLevel {
	return l.policy.Load().MailTips(c)
}

// Authenticate verifies a service account's secret.
func (l *Policy) Authenticate(ctx context.Context, name, secret string) (identity.Caller, error) {
	return l.accounts.Load().Authenticate(ctx, name, secret)
}

// Trust is the federation trust as the store has it now.
func (l *Policy) Trust() *orgrel.Trust { return l.trust.Load() }

// Federation is the token validation trust now; nil until usable. It is
// the same pointer until the trust changes (Validation), so validators
// keep their caches until then and empty them on every change.
func (l *Policy) Federation() *federation.Trust { return l.fed.Load() }

// Relationship returns our relationship covering a partner domain.
func (l *Policy) Relationship(domain string) (orgrel.Relationship, bool) {
	if r, ok := l.policy.Load().Relationship(domain); ok {
		return *r, true
	}
	return orgrel.Relationship{}, false
}
