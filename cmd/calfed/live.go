package main

import (
	"context"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/calfed/calfed/federation"
	"github.com/calfed/calfed/internal/identity"
	"github.com/calfed/calfed/orgrel"
	"github.com/calfed/calfed/store"
	"github.com/calfed/calfed/trust"
)

// livePolicy is the access policy and the service accounts as the store
// has them now: it reloads after every committed change, from this
// process or any other, and swaps them in without blocking requests.
type livePolicy struct {
	db       *store.DB
	tr       *trust.Service // our federation certificates, for token validation
	defaults map[string]orgrel.Level
	log      *slog.Logger
	policy   atomic.Pointer[orgrel.Policy]
	accounts atomic.Pointer[orgrel.Accounts]
	trust    atomic.Pointer[orgrel.Trust]     // nil until one is set
	fed      atomic.Pointer[federation.Trust] // what token validation checks; nil until usable
	counter  atomic.Int64
}

func newLivePolicy(ctx context.Context, db *store.DB, tr *trust.Service, defaults map[string]orgrel.Level, log *slog.Logger) (*livePolicy, error) {
	l := &livePolicy{db: db, tr: tr, defaults: defaults, log: log}
	return l, l.load(ctx)
}

func (l *livePolicy) load(ctx context.Context) error {
	start := time.Now()
	snap, err := l.db.Snapshot(ctx)
	if err != nil {
		return err
	}
	p, err := snap.Policy(l.defaults)
	if err != nil {
		return err
	}
	a, err := snap.ServiceAccounts(p, nil)
	if err != nil {
		return err
	}
	fed, err := l.tr.Validation(ctx, snap.Trust)
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

// run reloads on every change notification until ctx ends. A snapshot
// that cannot be loaded leaves the previous policy in force and is logged
// as an error; the next change tries again.
func (l *livePolicy) run(ctx context.Context) {
	for range l.db.Watch(ctx) {
		if err := l.load(ctx); err != nil && ctx.Err() == nil {
			l.log.Error("access policy not reloaded; the previous one stays in force", "err", err)
		}
	}
}

func (l *livePolicy) Access(c identity.Caller, mailbox string, groups []string) orgrel.Decision {
	return l.policy.Load().Access(c, mailbox, groups)
}

func (l *livePolicy) Authenticate(ctx context.Context, name, secret string) (identity.Caller, error) {
	return l.accounts.Load().Authenticate(ctx, name, secret)
}

// Trust is the federation trust as the store has it now.
func (l *livePolicy) Trust() *orgrel.Trust { return l.trust.Load() }

// Federation is the token validation trust now.
func (l *livePolicy) Federation() *federation.Trust { return l.fed.Load() }

// Relationship returns our relationship covering a partner domain.
func (l *livePolicy) Relationship(domain string) (orgrel.Relationship, bool) {
	if r, ok := l.policy.Load().Relationship(domain); ok {
		return *r, true
	}
	return orgrel.Relationship{}, false
}
