// Package live keeps the access policy, the partners' service accounts and
// the token-validation trust as the store has them now: it reloads after
// every committed change, from this process or any other, and swaps the
// new state in without blocking requests.
package live

import (
	"context"
	"log/slog"
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
	// Watch signals every committed change until ctx ends.
	Watch(ctx context.Context) <-chan struct{}
}

// Validation builds what token validation checks from the trust record:
// our certificates and the issuer's (*trust.Service).
type Validation interface {
	Validation(ctx context.Context, t *orgrel.Trust) (*federation.Trust, error)
}

// Options configure a Policy. Store and Validation are required.
type Options struct {
	Store      Store
	Validation Validation
	// Defaults are the mailboxes' configured external sharing, for those
	// without a recorded choice.
	Defaults map[string]orgrel.Level
	// Verifier checks service-account secrets for every policy loaded, so
	// its cache of verified credentials survives reloads. Default: one
	// with orgrel's defaults.
	Verifier *orgrel.Verifier
	Logger   *slog.Logger // nil discards
}

// Policy is the live state. Its methods are safe for concurrent use.
type Policy struct {
	opt      Options
	log      *slog.Logger
	policy   atomic.Pointer[orgrel.Policy]
	accounts atomic.Pointer[orgrel.Accounts]
	trust    atomic.Pointer[orgrel.Trust]     // nil until one is set
	fed      atomic.Pointer[federation.Trust] // what token validation checks; nil until usable
	counter  atomic.Int64
}

// New loads the current state.
func New(ctx context.Context, opt Options) (*Policy, error) {
	l := &Policy{opt: opt, log: opt.Logger}
	if l.opt.Verifier == nil {
		l.opt.Verifier = orgrel.NewVerifier(orgrel.VerifierOptions{})
	}
	if l.log == nil {
		l.log = slog.New(slog.DiscardHandler)
	}
	return l, l.Load(ctx)
}

// Load reads the store's state now and puts it in force.
func (l *Policy) Load(ctx context.Context) error {
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
	l.fed.Store(fed)
	l.counter.Store(snap.Counter)
	l.log.Info("access policy loaded", "change", snap.Counter, "relationships", len(snap.Relationships),
		"accounts", len(snap.Accounts), "duration", time.Since(start))
	return nil
}

// Run reloads on every change notification until ctx ends. A snapshot
// that cannot be loaded leaves the previous policy in force and is logged
// as an error; the next change tries again.
func (l *Policy) Run(ctx context.Context) {
	for range l.opt.Store.Watch(ctx) {
		if err := l.Load(ctx); err != nil && ctx.Err() == nil {
			l.log.Error("access policy not reloaded; the previous one stays in force", "err", err)
		}
	}
}

// Access decides what a caller may see of a mailbox.
func (l *Policy) Access(c identity.Caller, mailbox string, groups []string) orgrel.Decision {
	return l.policy.Load().Access(c, mailbox, groups)
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

// Federation is the token validation trust now; nil until usable.
func (l *Policy) Federation() *federation.Trust { return l.fed.Load() }

// Relationship returns our relationship covering a partner domain.
func (l *Policy) Relationship(domain string) (orgrel.Relationship, bool) {
	if r, ok := l.policy.Load().Relationship(domain); ok {
		return *r, true
	}
	return orgrel.Relationship{}, false
}
