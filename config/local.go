package config

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/calfed/calfed/store"
	"github.com/calfed/calfed/trust"
)

// Validate is Build with every problem under one heading that names the
// file, each problem on its own indented line, as calfed prints them.
func (c *Config) Validate() (*Built, error) {
	b, err := c.Build()
	if err != nil {
		return nil, fmt.Errorf("%s: invalid configuration:\n  %s", c.File, strings.ReplaceAll(err.Error(), "\n", "\n  "))
	}
	return b, nil
}

// TrustService is the federation trust over db, with the configuration's
// key directory and the resolver that looks up domain proofs. A nil log
// discards.
func (c *Config) TrustService(db *store.DB, log *slog.Logger) *trust.Service {
	tc := trust.Config{Store: db, Keys: c.Keys(), Resolver: c.Resolver(), Logger: log}
	// An outbound section Build refuses leaves the default, the
	// environment's proxy settings; every command validates first.
	if o, err := c.OutboundClient(); err == nil {
		tc.HTTP = o.HTTP(30 * time.Second)
	}
	return trust.NewService(tc)
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
