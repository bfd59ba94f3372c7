// Package server assembles calfed's server from its configuration: the
// store, the federation trust and the live access policy over it, the
// calendar directory, the public endpoints with their limits,
// authentication and token validation, and the admin API; Listeners
// serves them until shut down. calfed serve mounts the endpoints on its
// router (only cmd imports the router), and tests assemble the same
// server it runs.
//
// It is a package of its own because the assembly reaches into every
// protocol surface (ews, autodiscover, mailtips) and every source of
// state (store, trust, live, calendar), none of which should depend on
// the others for it.
package server

import (
	"context"
	"fmt"
	"log/slog"
	"runtime/debug"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/calfed/calfed/admin"
	"github.com/calfed/calfed/calendar"
	"github.com/calfed/calfed/config"
	"github.com/calfed/calfed/console"
	"github.com/calfed/calfed/doctor"
	"github.com/calfed/calfed/internal/accesslog"
	"github.com/calfed/calfed/internal/demo"
	"github.com/calfed/calfed/internal/metrics"
	"github.com/calfed/calfed/live"
	"github.com/calfed/calfed/orgrel"
	"github.com/calfed/calfed/partner"
	"github.com/calfed/calfed/store"
	"github.com/calfed/calfed/trust"
)

// Options are what Open takes besides the configuration. The zero value
// serves a configuration file, logging nothing.
type Options struct {
	// Demo is the embedded demo the configuration comes from, if it does:
	// Open seeds its fresh store, its domains and calendars are fixed
	// (Start rechecks and reloads nothing), and its admin token turns the
	// admin API on.
	Demo   *demo.Demo
	Now    func() time.Time // the access policy's clock; default time.Now
	Logger *slog.Logger     // nil discards
	// PublicLog is where the public endpoints log what outsiders can
	// make them log, such as refusals (Quiet bounds it). Default Logger.
	PublicLog *slog.Logger
	// Level is the loggers' level, which Reload sets from log.level; nil:
	// the level is not changed by a reload.
	Level *slog.LevelVar
}

// Server is what calfed serves from: the validated configuration, its
// store, the federation trust and live access policy over the store, and
// the calendar directory.
type Server struct {
	Config    *config.Config
	Built     *config.Built
	DB        *store.DB
	Trust     *trust.Service
	Policy    *live.Policy
	Directory *calendar.Directory
	// Partners asks partner organisations for our users' free/busy; one
	// per server, so its cache, tokens and circuit breakers are shared
	// by every front.
	Partners *partner.Asker

	// Metrics are the server's Prometheus metrics, served on the admin
	// listener; Access is the information-governance access log of
	// partner requests (ops.go).
	Metrics *metrics.Metrics
	Access  *accesslog.Recorder

	draining     atomic.Bool // Drain was called: /readyz answers 503
	pprof        atomic.Bool // admin.pprof, as SIGHUP last set it
	publicHealth atomic.Bool // health.public, as SIGHUP last set it
	level        *slog.LevelVar

	demo      *demo.Demo
	now       func() time.Time
	log       *slog.Logger
	publicLog *slog.Logger
}

// Open validates cfg and logs its warnings, opens its store (seeding the
// demo's), loads the access policy and reads the calendars. Close
// releases the store.
func Open(ctx context.Context, cfg *config.Config, opt Options) (*Server, error) {
	log := opt.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	b, err := cfg.Build()
	if err != nil {
		return nil, fmt.Errorf("invalid configuration:\n  %s", strings.ReplaceAll(err.Error(), "\n", "\n  "))
	}
	for _, w := range b.Warnings {
		log.Warn(w)
	}
	db, err := cfg.OpenStore(ctx, log)
	if err != nil {
		return nil, err
	}
	if limit := cfg.Limits.MemoryLimitBytes; limit > 0 {
		// Before the calendars load: their garbage is what it bounds.
		prev := debug.SetMemoryLimit(limit)
		log.Info("memory limit set", "bytes", limit, "previous", prev)
	}
	s := &Server{Config: cfg, Built: b, DB: db, Trust: cfg.TrustService(db, log), demo: opt.Demo, now: opt.Now, log: log, publicLog: opt.PublicLog,
		level: opt.Level}
	if s.now == nil {
		s.now = time.Now
	}
	if s.publicLog == nil {
		s.publicLog = log
	}
	if err := s.load(ctx); err != nil {
		db.Close()
		return nil, err
	}
	return s, nil
}

// load seeds the demo's store, then loads the policy and the calendars.
func (s *Server) load(ctx context.Context) error {
	if s.demo != nil {
		if err := s.demo.Seed(ctx, s.DB, s.Trust, s.Built.Mailboxes()); err != nil {
			return err
		}
	}
	s.Metrics = s.newMetrics() // read at scrape time, once the server is up
	var err error
	s.Policy, err = live.New(ctx, live.Options{Store: s.DB, Reporter: s.DB, Validation: s.Trust, Defaults: s.Built.Sharing,
		Applied:  s.Metrics.PolicyApplied,
		Verifier: orgrel.NewVerifier(s.Config.Verifier()), Heartbeat: time.Duration(s.Config.Store.Heartbeat),
		MaxAge: time.Duration(s.Config.Store.MaxPolicyAge), Now: s.now, Logger: s.log})
	if err != nil {
		return fmt.Errorf("loading the access policy: %w", err)
	}
	s.syncCalDAV(ctx)
	cal := s.Config.Calendars
	// The calendars load behind the listeners: a mailbox asked for before
	// its turn is loaded then (calendar.DirectoryOptions.Background).
	began := time.Now()
	s.Directory, err = calendar.NewDirectory(ctx, s.Built.Entries, calendar.DirectoryOptions{
		Logger:       s.log,
		HorizonPast:  time.Duration(cal.HorizonPast),
		HorizonAhead: time.Duration(cal.HorizonAhead),
		ReadTimeout:  time.Duration(cal.ReadTimeout),
		Strict:       cal.Strict,
		Background:   true,
	})
	if err != nil {
		return err
	}
	s.Partners, err = s.Config.Asker(s.DB, s.Policy, s.Trust, s.log)
	if err != nil {
		return err
	}
	s.log.Info("calendars loading", "mailboxes", len(s.Built.Entries))
	dir := s.Directory // the one loading, whatever the field holds later
	go func() {
		select {
		case <-dir.Loaded():
		case <-ctx.Done():
			return
		}
		mailboxes, instances, failed := dir.Stats()
		s.log.Info("calendars loaded", "mailboxes", mailboxes, "instances", instances, "failed", failed, "duration", time.Since(began).Round(time.Millisecond))
	}()
	s.ops()
	return nil
}

// syncCalDAV runs the first sync round of every CalDAV server, all at
// once, so that the directory starts from their calendars. It waits for
// each server up to its first_sync_wait: a server that does not answer
// fails its mailboxes (logged) without holding up the others, and one
// whose first round takes longer goes on syncing in the background while
// its mailboxes not yet synced fail until they are (the directory picks
// them up as they sync). ctx must outlive Open: it bounds those rounds.
func (s *Server) syncCalDAV(ctx context.Context) {
	var wg sync.WaitGroup
	for _, srv := range s.Built.CalDAV {
		srv.SetLogger(s.log)
		wg.Add(1)
		go func() {
			defer wg.Done()
			start := time.Now()
			if !srv.First(ctx) {
				s.log.Warn("caldav first sync still running; serving meanwhile, the mailboxes not yet synced failing until they are",
					"server", srv.Name(), "mailboxes", len(srv.Sources()), "waited", time.Since(start).Round(time.Millisecond))
				return
			}
			failed := 0
			for _, src := range srv.Sources() {
				if src.Status().Error != "" {
					failed++
				}
			}
			s.log.Info("caldav first sync", "server", srv.Name(), "mailboxes", len(srv.Sources()), "failed", failed,
				"requests", srv.Requests(), "took", time.Since(start).Round(time.Millisecond))
		}()
	}
	wg.Wait()
}

// Start keeps the server current in the background until ctx ends: the
// policy follows the store, the token issuer's metadata is refreshed and
// used tokens are purged; outside the demo, our domain proofs are rechecked, the CalDAV
// servers synced on their schedules and the calendars reloaded as they change; the access
// log's records are written to the store and pruned. The policy loop removes this server's
// record from the store as it ends, and the channel Start returns is closed once it has and
// the access log's last records are written: keep the store open until then.
func (s *Server) Start(ctx context.Context) (policyDone <-chan struct{}) {
	done := make(chan struct{})
	accessDone := make(chan struct{})
	go func() {
		s.Access.Run(ctx) // writes what is queued as ctx ends
		close(accessDone)
	}()
	go func() {
		s.Policy.Run(ctx)
		<-accessDone
		close(done)
	}()
	go s.Trust.WatchMetadata(ctx, time.Duration(s.Config.Federation.MetadataRefresh))
	// Used tokens (federation.refuse_token_reuse) are kept for the clock
	// skew past their use, for servers whose clocks run behind.
	go s.DB.PurgeUsedTokensEvery(ctx, store.UsedTokenPurge{Margin: time.Duration(s.Config.Federation.ClockSkew)})
	if s.demo == nil {
		go s.Trust.RecheckOurs(ctx, time.Duration(s.Config.DNS.Recheck))
		go s.Directory.Watch(ctx, time.Duration(s.Config.Calendars.ReloadInterval))
		for _, srv := range s.Built.CalDAV {
			go srv.Run(ctx)
		}
	}
	return done
}

// Close closes the store.
func (s *Server) Close() error { return s.DB.Close() }

// Admin returns the admin API over the store, behind the demo's token or
// the one in the configured token file; nil, and no error, when neither
// is set and the API is off.
func (s *Server) Admin() (*admin.Handler, error) {
	token, err := s.adminToken()
	if token == "" || err != nil {
		return nil, err
	}
	return admin.NewHandler(s.adminService(), token, s.log), nil
}

// AdminRoutes are the admin listener's: the admin API and the console
// (package console), behind the same token; nil, and no error, when the
// admin API is off.
func (s *Server) AdminRoutes() ([]admin.Route, error) {
	token, err := s.adminToken()
	if token == "" || err != nil {
		return nil, err
	}
	api := s.adminService()
	c, err := console.New(console.Options{API: api, Checker: &doctor.Checker{Records: s.DB, Trust: s.Trust, HTTP: s.Config.HTTPClient(20 * time.Second)},
		Trust: s.Trust, Activity: console.AccessLog{API: api}, Token: token, Logger: s.log})
	if err != nil {
		return nil, err
	}
	return append(admin.NewHandler(api, token, s.log).Routes(), c.Routes()...), nil
}

// adminToken is the demo's admin token or the configured one; "" when
// neither is set.
func (s *Server) adminToken() (string, error) {
	switch {
	case s.demo != nil:
		return s.demo.AdminToken, nil
	case s.Config.Admin.TokenFile != "":
		return config.ReadToken(s.Config.Path(s.Config.Admin.TokenFile))
	}
	return "", nil
}

func (s *Server) adminService() *admin.Service {
	return admin.NewService(s.DB, s.Trust, s.Built.Mailboxes())
}
