package caldav

import (
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/url"
	"sync"
	"sync/atomic"
	"time"
)

// Config is one CalDAV server. The zero value of each field but Name and
// URL is its default.
type Config struct {
	// Name names the server in logs, errors and the configuration.
	Name string
	// URL is the server's base URL; discovery (RFC 6764 §5, the
	// /.well-known/caldav URI) starts there for a mailbox without a URL
	// of its own.
	URL *url.URL
	// Credentials sign calfed in.
	Credentials Credentials
	// HTTP sends the requests (TLS settings live in its transport).
	// Default: a client over http.DefaultTransport.
	HTTP *http.Client
	// SyncInterval is the time between sync rounds; default 1m.
	SyncInterval time.Duration
	// MaxStaleness is how long a mailbox keeps serving its last good copy
	// while its syncs fail; past it the mailbox fails. Default 15m.
	MaxStaleness time.Duration
	// Timeout bounds one request; default 30s.
	Timeout time.Duration
	// Concurrency is how many mailboxes sync at once; default 4.
	Concurrency int
	// MaxBackoff caps the wait before retrying a failing mailbox or
	// server, which doubles with each failure from SyncInterval, with
	// jitter; default 10m.
	MaxBackoff time.Duration
	// MaxResponseBytes bounds one answer; default 64 MiB.
	MaxResponseBytes int64
	// FirstSyncWait is how long Server.First waits for the first round
	// before returning while the round goes on; default 1m.
	FirstSyncWait time.Duration
	// MultigetBatch is how many objects one calendar-multiget asks for;
	// default 100.
	MultigetBatch int
	// Calendars, when set, counts only the calendars named here (the last
	// segment of the collection's path, or its display name) instead of
	// every calendar of the mailbox.
	Calendars []string
	// IncludeTransparent counts calendars marked transparent
	// (schedule-calendar-transp, RFC 6638 §9.1), which are left out of
	// free/busy by default.
	IncludeTransparent bool

	Now    func() time.Time // default time.Now
	Logger *slog.Logger     // nil discards
}

// Server syncs the mailboxes on one CalDAV server.
type Server struct {
	cfg      Config
	http     *http.Client
	log      *slog.Logger
	sources  []*Source
	requests atomic.Int64

	mu         sync.Mutex // rounds; one at a time
	failRounds int        // rounds in a row that found the server not answering
	down       string     // why the server is taken to be down; empty when up
}

// NewServer returns a server with cfg's defaults filled in; Run syncs it.
func NewServer(cfg Config) *Server {
	if cfg.SyncInterval <= 0 {
		cfg.SyncInterval = time.Minute
	}
	if cfg.MaxStaleness <= 0 {
		cfg.MaxStaleness = 15 * time.Minute
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 30 * time.Second
	}
	if cfg.Concurrency <= 0 {
		cfg.Concurrency = 4
	}
	if cfg.MaxBackoff <= 0 {
		cfg.MaxBackoff = 10 * time.Minute
	}
	if cfg.MaxResponseBytes <= 0 {
		cfg.MaxResponseBytes = 64 << 20
	}
	if cfg.FirstSyncWait <= 0 {
		cfg.FirstSyncWait = time.Minute
	}
	if cfg.MultigetBatch <= 0 {
		cfg.MultigetBatch = 100
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	s := &Server{cfg: cfg, http: cfg.HTTP, log: cfg.Logger}
	if s.http == nil {
		s.http = &http.Client{}
	}
	// Redirects are not followed: net/http would turn a PROPFIND or
	// REPORT into a GET, and a redirect elsewhere would carry the
	// credentials there. Discovery reads the one redirect it expects.
	c := *s.http
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	s.http = &c
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	return s
}

// SetLogger sets where the server logs its mailboxes' sync failures and
// recoveries and its own outages; nil discards. Call it before the first
// round.
func (s *Server) SetLogger(l *slog.Logger) {
	if l == nil {
		l = slog.New(slog.DiscardHandler)
	}
	s.log = l
}

// Name is the server's configured name.
func (s *Server) Name() string { return s.cfg.Name }

// String names the server and its URL.
func (s *Server) String() string { return fmt.Sprintf("%s (%s)", s.cfg.Name, s.cfg.URL) }

// Requests counts the requests sent so far.
func (s *Server) Requests() int64 { return s.requests.Load() }

// Mailbox adds a mailbox. u is its calendar home, one calendar
// collection, or its principal; nil discovers the principal of the
// server's account (one mailbox per account). Add every mailbox before
// the first round.
func (s *Server) Mailbox(address string, u *url.URL) *Source {
	src := &Source{srv: s, address: address, url: u}
	src.state.Store(&snapshot{})
	s.sources = append(s.sources, src)
	return src
}

// Sources are the server's mailboxes, in the order they were added.
func (s *Server) Sources() []*Source { return s.sources }

// downAfter is how many mailboxes in a row must find the server not
// answering before a round stops: enough that one mailbox's slow
// calendar does not count as an outage.
func (s *Server) downAfter() int32 { return int32(s.cfg.Concurrency) + 1 }

// Round syncs every mailbox that is due (all of them when all is set):
// Concurrency at a time. When the server stops answering, the round
// stops early and the mailboxes it did not reach fail with that reason.
// It returns how long to wait before the next round: SyncInterval, or a
// growing backoff while the server is down.
func (s *Server) Round(ctx context.Context, all bool) time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.cfg.Now()
	auth, err := s.cfg.Credentials.header()
	if err != nil {
		for _, src := range s.sources {
			src.fail(err, now)
		}
		s.setDown("caldav server unusable: its credentials cannot be read; its mailboxes serve their last good calendars until max_staleness", err.Error())
		return s.backoff(&s.failRounds)
	}
	work := make(chan *Source)
	stop := make(chan struct{})
	var (
		stopOnce           sync.Once
		inARow, tried, bad atomic.Int32
		lastErr, downErr   atomic.Pointer[error]
		wg                 sync.WaitGroup
	)
	for range s.cfg.Concurrency {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for src := range work {
				err := src.sync(ctx, auth)
				tried.Add(1)
				if err == nil || !isTransport(err) {
					inARow.Store(0)
					continue
				}
				bad.Add(1)
				lastErr.Store(&err)
				if inARow.Add(1) >= s.downAfter() {
					downErr.Store(&err)
					stopOnce.Do(func() { close(stop) })
				}
			}
		}()
	}
	var skipped []*Source
feed:
	for i, src := range s.sources {
		if !all && !src.due(now) {
			continue
		}
		select {
		case work <- src:
		case <-stop:
			skipped = s.sources[i:]
			break feed
		case <-ctx.Done():
			break feed
		}
	}
	close(work)
	wg.Wait()
	if ctx.Err() != nil {
		return s.cfg.SyncInterval // shutting down: the server is not to blame
	}
	if tried.Load() > 0 && bad.Load() == tried.Load() {
		downErr.Store(lastErr.Load()) // every mailbox tried found the server not answering
	}
	if p := downErr.Load(); p != nil {
		reason := fmt.Errorf("server %s not answering: %w", s.cfg.Name, *p)
		for _, src := range skipped {
			src.fail(&transportError{reason}, s.cfg.Now())
		}
		s.setDown("caldav server not answering; its mailboxes serve their last good calendars until max_staleness", (*p).Error())
		return s.backoff(&s.failRounds)
	}
	s.setDown("", "")
	s.failRounds = 0
	return s.cfg.SyncInterval
}

// setDown records why the server cannot be used (empty when it can), and
// logs msg when that changes.
func (s *Server) setDown(msg, why string) {
	switch {
	case why != "" && s.down == "":
		s.log.Error(msg, "server", s.cfg.Name, "url", s.cfg.URL.String(), "err", why)
	case why == "" && s.down != "":
		s.log.Info("caldav server answering again", "server", s.cfg.Name)
	}
	s.down = why
}

// backoff counts a failure in *n and returns the wait before the next
// try: SyncInterval doubled per failure after the first, capped at
// MaxBackoff, with jitter (between half and all of it) so that mailboxes
// and servers failing together do not retry together.
func (s *Server) backoff(n *int) time.Duration {
	*n++
	d := s.cfg.SyncInterval
	for i := 1; i < *n && d < s.cfg.MaxBackoff; i++ {
		d *= 2
	}
	d = min(d, s.cfg.MaxBackoff)
	return d/2 + rand.N(d/2+1)
}

// First runs the first round of every mailbox and waits for it up to
// FirstSyncWait; a round still running then goes on, and First reports
// false. The round runs under ctx, which must outlive First.
func (s *Server) First(ctx context.Context) (done bool) {
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		s.Round(ctx, true)
	}()
	t := time.NewTimer(s.cfg.FirstSyncWait)
	defer t.Stop()
	select {
	case <-finished:
		return true
	case <-t.C:
		return false
	}
}

// Run syncs the server every SyncInterval (or its backoff) until ctx
// ends; the first round starts after one interval (Open runs the first
// one itself).
func (s *Server) Run(ctx context.Context) {
	t := time.NewTimer(s.cfg.SyncInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			t.Reset(s.Round(ctx, false))
		}
	}
}
