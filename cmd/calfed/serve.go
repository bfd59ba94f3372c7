package main

import (
	"context"
	"crypto/tls"
	"errors"
	"flag"
	"fmt"
	"io"
	stdlog "log"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/gorilla/mux"
	"golang.org/x/net/netutil"

	"github.com/calfed/calfed/admin"
	"github.com/calfed/calfed/autodiscover"
	"github.com/calfed/calfed/calendar"
	"github.com/calfed/calfed/config"
	"github.com/calfed/calfed/conformance"
	"github.com/calfed/calfed/ews"
	"github.com/calfed/calfed/federation"
	"github.com/calfed/calfed/freebusy"
	demopkg "github.com/calfed/calfed/internal/demo"
	"github.com/calfed/calfed/internal/exchhttp"
	"github.com/calfed/calfed/internal/httpauth"
	"github.com/calfed/calfed/internal/identity"
	"github.com/calfed/calfed/internal/legacydn"
	"github.com/calfed/calfed/internal/lograte"
	"github.com/calfed/calfed/internal/soap"
	"github.com/calfed/calfed/live"
	"github.com/calfed/calfed/mailtips"
	"github.com/calfed/calfed/orgrel"
	"github.com/calfed/calfed/store"
)

func runServe(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fl := flag.NewFlagSet("serve", flag.ContinueOnError)
	fl.SetOutput(stderr)
	configPath := fl.String("config", "", "configuration file; without it the embedded demo runs")
	listen := fl.String("listen", "", "public listen address, overriding the configuration (default 127.0.0.1:8080)")
	adminListen := fl.String("admin-listen", "", "admin API listen address, overriding the configuration (default 127.0.0.1:8081)")
	logLevel := fl.String("log-level", "info", "debug, info, warn or error")
	record := fl.String("record", "", "write every public exchange into DIR as a conformance case, secrets redacted")
	demoWeek := fl.String("demo-week", "", "demo only: the Monday (YYYY-MM-DD) the demo calendars are laid out around; default this week")
	if err := fl.Parse(args); err != nil {
		return exitFailed
	}
	var level slog.Level
	if err := level.UnmarshalText([]byte(*logLevel)); err != nil {
		fmt.Fprintf(stderr, "calfed serve: -log-level: %v\n", err)
		return exitFailed
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))
	// What outsiders can make the servers log, bounded.
	quiet := quietLog(log, nil)
	go quiet.Run(ctx)
	qlog := slog.New(quiet)
	fail := func(err error) int {
		fmt.Fprintf(stderr, "calfed serve: %v\n", err)
		return exitError
	}

	var cfg *config.Config
	var demo *demopkg.Demo
	var err error
	if *configPath == "" {
		if demo, err = demopkg.New(*demoWeek); err == nil {
			defer demo.Close()
			cfg = demo.Config
		}
	} else {
		cfg, err = config.Load(*configPath)
	}
	if err != nil {
		return fail(err)
	}
	if *listen != "" {
		cfg.Listen = *listen
	}
	if *adminListen != "" {
		cfg.Admin.Listen = *adminListen
	}
	b, err := cfg.Build()
	if err != nil {
		fmt.Fprintf(stderr, "calfed serve: invalid configuration:\n%v\n", indent(err.Error()))
		return exitError
	}
	for _, w := range b.Warnings {
		log.Warn(w)
	}

	db, err := cfg.OpenStore(ctx, log)
	if err != nil {
		return fail(err)
	}
	defer db.Close()
	tr := cfg.TrustService(db, log)
	if demo != nil {
		if err := demo.Seed(ctx, db, tr, b.Mailboxes()); err != nil {
			return fail(err)
		}
	}
	policy, err := live.New(ctx, live.Options{Store: db, Reporter: db, Validation: tr, Defaults: b.Sharing, Logger: log,
		Verifier: orgrel.NewVerifier(cfg.Verifier()), Heartbeat: time.Duration(cfg.Store.Heartbeat), MaxAge: time.Duration(cfg.Store.MaxPolicyAge)})
	if err != nil {
		return fail(fmt.Errorf("loading the access policy: %w", err))
	}
	// Run removes this server's record from the store as it ends, so the
	// store stays open until it has.
	policyDone := make(chan struct{})
	go func() { policy.Run(ctx); close(policyDone) }()
	go tr.WatchMetadata(ctx, time.Duration(cfg.Federation.MetadataRefresh))
	// Used tokens (federation.refuse_token_reuse) are kept for the clock
	// skew past their use, for servers whose clocks run behind.
	go db.PurgeUsedTokensEvery(ctx, store.UsedTokenPurge{Margin: time.Duration(cfg.Federation.ClockSkew)})
	if demo == nil {
		go tr.RecheckOurs(ctx, time.Duration(cfg.DNS.Recheck))
	}

	dir, err := calendar.NewDirectory(ctx, b.Entries, calendar.DirectoryOptions{
		Logger:       log,
		HorizonPast:  time.Duration(cfg.Calendars.HorizonPast),
		HorizonAhead: time.Duration(cfg.Calendars.HorizonAhead),
		ReadTimeout:  time.Duration(cfg.Calendars.ReadTimeout),
		Strict:       cfg.Calendars.Strict,
	})
	if err != nil {
		return fail(err)
	}
	mailboxes, instances, failed := dir.Stats()
	log.Info("calendars loaded", "mailboxes", mailboxes, "instances", instances, "failed", failed)
	if demo == nil {
		go dir.Watch(ctx, time.Duration(cfg.Calendars.ReloadInterval))
	}

	var servers []*http.Server
	errc := make(chan error, 3)
	serve := func(name, addr string, h http.Handler, tc *tls.Config) (string, error) {
		ln, err := net.Listen("tcp", addr)
		if err != nil {
			return "", fmt.Errorf("%s listener: %w", name, err)
		}
		ln = netutil.LimitListener(ln, cfg.Limits.MaxConnections)
		srv := newHTTPServer(h, qlog)
		srv.TLSConfig = tc
		servers = append(servers, srv)
		go func() {
			var err error
			if tc != nil {
				err = srv.ServeTLS(ln, "", "")
			} else {
				err = srv.Serve(ln)
			}
			if !errors.Is(err, http.ErrServerClosed) {
				errc <- fmt.Errorf("%s listener: %w", name, err)
			}
		}()
		return ln.Addr().String(), nil
	}

	tc, err := cfg.ServerTLS(qlog)
	if err != nil {
		return fail(err)
	}
	scheme := "http"
	if tc != nil {
		scheme = "https"
	}
	var rec *conformance.Recorder
	if *record != "" {
		rec = &conformance.Recorder{Dir: *record, Source: "recorded by calfed serve", Log: log}
		log.Warn("recording every exchange", "dir", *record)
	}
	public := newRouter(cfg, dir, policy, db, qlog, rec)
	addr, err := serve("public", cfg.Listen, public, tc)
	if err != nil {
		return fail(err)
	}
	base := fmt.Sprintf("%s://%s", scheme, addr)
	log.Info("listening", "ews", base+"/EWS/Exchange.asmx", "store", db.Driver())

	if cfg.Autodiscover.RedirectListen != "" {
		a, err := serve("autodiscover redirect", cfg.Autodiscover.RedirectListen, autodiscover.Redirect(cfg.PublicURL), nil)
		if err != nil {
			return fail(err)
		}
		log.Info("autodiscover redirect listening", "addr", a, "to", cfg.PublicURL)
	}

	token := ""
	switch {
	case demo != nil:
		token = demo.AdminToken
	case cfg.Admin.TokenFile != "":
		if token, err = config.ReadToken(cfg.Path(cfg.Admin.TokenFile)); err != nil {
			return fail(err)
		}
	}
	adminBase := ""
	if token != "" {
		svc := admin.NewService(db, tr, b.Mailboxes())
		a, err := serve("admin", cfg.Admin.Listen, newAdminRouter(admin.NewHandler(svc, token, log)), nil)
		if err != nil {
			return fail(err)
		}
		adminBase = "http://" + a
		log.Info("admin API listening", "url", adminBase)
	} else {
		log.Info("admin API off: set admin.token_file to turn it on")
	}
	if demo != nil {
		demo.PrintWelcome(stdout, base, adminBase)
	}

	select {
	case err := <-errc:
		return fail(err)
	case <-ctx.Done():
	}
	shutdown, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for _, srv := range servers {
		if err := srv.Shutdown(shutdown); err != nil {
			log.Warn("shutdown", "err", err)
		}
	}
	<-policyDone
	log.Info("stopped")
	return exitOK
}

func newHTTPServer(h http.Handler, log *slog.Logger) *http.Server {
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          serverErrorLog(log.Handler()),
	}
}

// quietLog bounds what outsiders can make the servers log at WARN and
// above — refused tokens, refused sign-ins, failed TLS handshakes,
// unreadable requests: per kind (message and cause) one line every 10s,
// then how many more there were. now is the clock (nil: time.Now); the
// caller runs the handler's Run.
func quietLog(log *slog.Logger, now func() time.Time) *lograte.Handler {
	return lograte.New(log.Handler(), lograte.Options{Keys: []string{"cause"}, Now: now})
}

// serverErrorLog is an http.Server's ErrorLog writing to h: each line a
// WARN record, a failed TLS handshake as "TLS handshake failed" with its
// remote address and reason apart, so that they are one kind, not one per
// client address.
func serverErrorLog(h slog.Handler) *stdlog.Logger {
	return stdlog.New(serverLogWriter{h}, "", 0)
}

type serverLogWriter struct{ h slog.Handler }

func (w serverLogWriter) Write(p []byte) (int, error) {
	ctx := context.Background()
	if !w.h.Enabled(ctx, slog.LevelWarn) {
		return len(p), nil
	}
	line := strings.TrimSpace(string(p))
	var r slog.Record
	if rest, ok := strings.CutPrefix(line, "http: TLS handshake error from "); ok {
		remote, reason, _ := strings.Cut(rest, ": ")
		r = slog.NewRecord(time.Now(), slog.LevelWarn, "TLS handshake failed", 0)
		r.AddAttrs(slog.String("remote", remote), slog.String("reason", reason))
	} else {
		r = slog.NewRecord(time.Now(), slog.LevelWarn, "HTTP server", 0)
		r.AddAttrs(slog.String("err", line))
	}
	return len(p), w.h.Handle(ctx, r)
}

// newRouter wires the public endpoints. Paths match case-insensitively, as
// IIS serves Exchange's. docs/protocol.md §1.1. The admin API is never mounted here.
// Every answer gets Exchange's HTTP conventions (request-id,
// client-request-id, gzip: internal/exchhttp); rec, when not nil, records
// the exchanges inside them, so cases hold plain bodies. Under
// federation.refuse_token_reuse, replay (the store) records the tokens
// used.
func newRouter(cfg *config.Config, dir *calendar.Directory, policy *live.Policy, replay federation.Replay, log *slog.Logger, rec *conformance.Recorder) http.Handler {
	// Every handler a verified caller reaches refuses it while the policy
	// is too old to answer from. docs/protocol.md §1.8.
	current := policy.RequireCurrent
	fb := freebusy.New(freebusy.Options{Directory: dir, Access: policy, Logger: log, MaxResultSet: cfg.Limits.MaxResultSet})
	ewsHandler := current(ews.New(ews.Options{
		FreeBusy:      fb,
		Logger:        log,
		Limits:        soap.Limits{MaxBytes: cfg.Limits.MaxRequestBytes},
		MaxMailboxes:  cfg.Limits.MaxMailboxes,
		MaxWindowDays: cfg.Limits.MaxWindowDays,
		ServerName:    cfg.ServerName,
		// The legacy DNs Autodiscover hands out come back as EX or X500
		// addresses. docs/protocol.md §1.2.
		ResolveLegacyDN: legacydn.Resolver(dir),
	}))
	mt := current(ews.NewMailTips(ews.MailTipsOptions{
		MailTips:      mailtips.New(mailtips.Options{Directory: dir, Access: policy, Logger: log}),
		Logger:        log,
		Limits:        soap.Limits{MaxBytes: cfg.Limits.MaxRequestBytes},
		MaxRecipients: cfg.Limits.MaxMailboxes,
		ServerName:    cfg.ServerName,
	}))
	ad := autodiscover.New(autodiscover.Options{
		Directory:         dir,
		Access:            policy,
		Trust:             policy.Trust,
		Relationship:      policy.Relationship,
		PublicURL:         cfg.PublicURL,
		PublicHosts:       cfg.Hosts(),
		RedirectAddresses: cfg.RedirectAddresses(),
		RedirectURL:       cfg.Autodiscover.RedirectURL,
		ServerName:        cfg.ServerName,
		Limits:            soap.Limits{MaxBytes: cfg.Limits.MaxRequestBytes},
		Logger:            log,
	})
	// One validator for every guard: one cache, emptied when the trust
	// changes (policy.Federation).
	entries, bytes := cfg.TokenCache()
	validator := &federation.Validator{Trust: policy.Federation, Skew: time.Duration(cfg.Federation.ClockSkew),
		RefuseReuse: cfg.RefuseTokenReuse(), Replay: replay, AcceptRSA15: cfg.Federation.AcceptRSA15KeyTransport,
		MaxCacheEntries: entries, MaxCacheBytes: bytes}
	// Refusals are answered as Exchange answers them (federation/answer.go):
	// on EWS a valid token for another offer gets ErrorAccessDenied, on
	// Autodiscover 401.
	guard := func(offer string, refuse func(http.ResponseWriter, *http.Request, error)) *federation.Guard {
		return &federation.Guard{Validator: validator, Offer: offer, Limits: soap.Limits{MaxBytes: cfg.Limits.MaxRequestBytes}, Logger: log, Refuse: refuse}
	}
	// Bodies read before their sender is known share one budget.
	budget := soap.NewBudget(cfg.Limits.MaxPendingBytes)
	bounded := func(h http.Handler) http.Handler {
		return soap.Bounded(h, soap.Limits{MaxBytes: cfg.Limits.MaxRequestBytes}, budget)
	}
	// One limiter for every endpoint that takes Basic credentials, so a
	// guesser cannot spread its attempts over them.
	basic := &httpauth.Basic{Auth: policy, Realm: "calfed", Limiter: httpauth.NewLimiter(cfg.AuthLimits()), Sources: cfg.AuthSources(), Logger: log}
	r := mux.NewRouter()
	// EWS requests are routed by operation: GetMailTips to its own
	// handler and, on /WSSecurity, behind a guard for its own offer, so
	// that a token serves only its offer's operations. docs/protocol.md §4.3, §8.4.
	// Routing reads the body, so it is read first: under the budget where
	// the sender is not yet known, after Basic authentication otherwise.
	limits := soap.Limits{MaxBytes: cfg.Limits.MaxRequestBytes}
	r.Handle("/ews/exchange.asmx", basic.Require(soap.Bounded(byOperation(limits, ewsHandler, map[string]http.Handler{"GetMailTips": mt}), limits, nil)))
	r.Handle("/ews/exchange.asmx/wssecurity", bounded(byOperation(limits,
		guard(federation.OfferFreeBusy, federation.RefuseEWS).Wrap(noteToken(policy, federation.OfferFreeBusy, ewsHandler)),
		map[string]http.Handler{"GetMailTips": guard(federation.OfferMailTips, federation.RefuseEWS).Wrap(noteToken(policy, federation.OfferMailTips, mt))})))
	r.Handle("/autodiscover/autodiscover.svc", bounded(basic.Optional(current(ad.SOAP(false)))))
	r.Handle("/autodiscover/autodiscover.svc/wssecurity", bounded(guard(federation.OfferAutodiscover, federation.RefuseAutodiscover).Wrap(noteToken(policy, federation.OfferAutodiscover, current(ad.SOAP(true))))))
	r.Handle("/autodiscover/autodiscover.xml", bounded(basic.Optional(current(ad.POX()))))
	r.Handle("/autodiscover/autodiscover.json/v1.0/{address}", ad.JSON(func(r *http.Request) string { return mux.Vars(r)["address"] }))
	r.NotFoundHandler = http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		http.Error(rw, "not found", http.StatusNotFound)
	})
	var routes http.Handler = http.HandlerFunc(func(rw http.ResponseWriter, req *http.Request) {
		req.URL.Path = strings.ToLower(req.URL.Path)
		req.URL.RawPath = ""
		r.ServeHTTP(rw, req)
	})
	if rec != nil {
		routes = rec.Wrap(routes)
	}
	return exchhttp.Wrap(routes)
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
			if body, err := soap.ReadRequest(r, l); err == nil { // in memory: no copy
				soap.SetBody(r, body)
				if op, ok := soap.Operation(body, l); ok && op.Space == nsMessages {
					if h, ok := ops[op.Local]; ok {
						h.ServeHTTP(w, r)
						return
					}
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

// newAdminRouter mounts the admin API's routes, handing gorilla/mux's path
// variables to the handlers as PathValue.
func newAdminRouter(h *admin.Handler) http.Handler {
	r := mux.NewRouter()
	for _, rt := range h.Routes() {
		handler := rt.Handler
		r.Methods(rt.Method).Path(rt.Path).HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
			for k, v := range mux.Vars(req) {
				req.SetPathValue(k, v)
			}
			handler.ServeHTTP(w, req)
		})
	}
	r.NotFoundHandler = http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusNotFound)
		io.WriteString(w, `{"error":"no such admin endpoint","code":"not_found"}`+"\n")
	})
	return r
}

func indent(s string) string {
	return "  " + strings.ReplaceAll(s, "\n", "\n  ")
}
