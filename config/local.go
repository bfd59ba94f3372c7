package config

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/calfed/calfed/calendar"
	"github.com/calfed/calfed/freebusy"
	"github.com/calfed/calfed/internal/domainname"
	"github.com/calfed/calfed/internal/outbound"
	"github.com/calfed/calfed/orgrel"
	"github.com/calfed/calfed/store"
	"github.com/calfed/calfed/trust"
)

// Validate is Build with every problem under one heading that names the
// file, each problem on its own indented line, as calfed prints them.
func (c *Config) Validate() (*Built, error) {
	b, err := c.Build()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", c.File, invalid(err))
	}
	return b, nil
}

// TrustService is the federation trust over db, with the configuration's
// key directory and the resolver that looks up domain proofs. A nil log
// discards.
func (c *Config) TrustService(db *store.DB, log *slog.Logger) *trust.Service {
	return trust.NewService(trust.Config{Store: db, Keys: c.Keys(), Resolver: c.Resolver(), Logger: log, HTTP: c.HTTPClient(30 * time.Second)})
}

// HTTPClient is an HTTP client over the outbound client every outbound
// call uses, with timeout. An outbound section Build refuses leaves the
// default, the environment's proxy settings; every command validates
// first.
func (c *Config) HTTPClient(timeout time.Duration) *http.Client {
	o, err := c.OutboundClient()
	if err != nil {
		o = outbound.Default()
	}
	return o.HTTP(timeout)
}

// Local is what a command run on the server's own machine works on: the
// configuration, validated, its store and the federation trust over it.
type Local struct {
	Config *Config
	Built  *Built
	DB     *store.DB
	Trust  *trust.Service
}

// Open validates the configuration (Validate) and opens its store, which
// Close releases.
func (c *Config) Open(ctx context.Context) (*Local, error) {
	b, err := c.Validate()
	if err != nil {
		return nil, err
	}
	db, err := c.OpenStore(ctx, nil)
	if err != nil {
		return nil, err
	}
	return &Local{Config: c, Built: b, DB: db, Trust: c.TrustService(db, nil)}, nil
}

// Close closes the store.
func (l *Local) Close() error { return l.DB.Close() }

// FreeBusy is the free/busy core as the server runs it, for a command:
// the store's relationships and sharing as they are now, the calendars
// read once, and partners asked as the server asks them (Asker), so that
// calfed freebusy shows exactly what our users see.
func (l *Local) FreeBusy(ctx context.Context, log *slog.Logger) (*freebusy.Service, error) {
	snap, err := l.DB.Snapshot(ctx)
	if err != nil {
		return nil, err
	}
	p, err := snap.Policy(l.Built.Sharing)
	if err != nil {
		return nil, err
	}
	cal := l.Config.Calendars
	dir, err := calendar.NewDirectory(ctx, l.Built.Entries, calendar.DirectoryOptions{Logger: log,
		HorizonPast: time.Duration(cal.HorizonPast), HorizonAhead: time.Duration(cal.HorizonAhead),
		ReadTimeout: time.Duration(cal.ReadTimeout), Strict: cal.Strict})
	if err != nil {
		return nil, err
	}
	asker, err := l.Config.Asker(l.DB, policyRelationships{p}, l.Trust, log)
	if err != nil {
		return nil, err
	}
	return freebusy.New(freebusy.Options{Directory: dir, Access: p, Remote: asker, Internal: p,
		MaxResultSet: l.Config.Limits.MaxResultSet, Logger: log}), nil
}

// policyRelationships is a fixed policy's relationships for an Asker.
type policyRelationships struct{ p *orgrel.Policy }

func (r policyRelationships) Relationship(domain string) (orgrel.Relationship, bool) {
	if rel, ok := r.p.Relationship(domain); ok {
		return *rel, true
	}
	return orgrel.Relationship{}, false
}

// Directory is the configured mailboxes, for looking addresses up without
// reading their calendars.
func (b *Built) Directory() interface {
	Lookup(address string) (*calendar.Mailbox, bool)
} {
	return builtDirectory{b}
}

type builtDirectory struct{ b *Built }

func (d builtDirectory) Lookup(address string) (*calendar.Mailbox, bool) {
	want, err := domainname.Address(strings.TrimSpace(address))
	if err != nil {
		return nil, false
	}
	for i := range d.b.Entries {
		if d.b.Entries[i].Mailbox.Address == want {
			return &d.b.Entries[i].Mailbox, true
		}
	}
	return nil, false
}

// Ask answers q for our user through FreeBusy.
func (l *Local) Ask(ctx context.Context, user string, q *freebusy.Query) ([]freebusy.Result, error) {
	fb, err := l.FreeBusy(ctx, nil)
	if err != nil {
		return nil, err
	}
	return fb.Ask(ctx, user, q)
}
