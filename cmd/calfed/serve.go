package main

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/gorilla/mux"

	"github.com/calfed/calfed/admin"
	"github.com/calfed/calfed/autodiscover"
	"github.com/calfed/calfed/config"
	"github.com/calfed/calfed/conformance"
	"github.com/calfed/calfed/internal/cli"
	demopkg "github.com/calfed/calfed/internal/demo"
	"github.com/calfed/calfed/server"
)

func runServe(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fl := newFlags("serve")
	var configPath string
	configFlag(fl, &configPath, "configuration file; with none anywhere the embedded demo runs")
	listen := fl.String("listen", "", "public listen address, overriding the configuration (default 127.0.0.1:8080)")
	adminListen := fl.String("admin-listen", "", "admin API listen address, overriding the configuration (default 127.0.0.1:8081)")
	logLevel := fl.String("log-level", "", "debug, info, warn or error, overriding log.level (default info)")
	record := fl.String("record", "", "write every public exchange into DIR as a conformance case, secrets redacted")
	demoWeek := fl.String("demo-week", "", "demo only: the Monday (YYYY-MM-DD) the demo calendars are laid out around; default this week")
	if _, err := parseArgs(fl, args); err != nil {
		return report(stdout, stderr, "serve", err)
	}
	if *logLevel != "" {
		var l slog.Level
		if err := l.UnmarshalText([]byte(*logLevel)); err != nil {
			return report(stdout, stderr, "serve", usageError{Msg: fmt.Sprintf("-log-level %q: want debug, info, warn or error", *logLevel)})
		}
	}
	fail := func(err error) int {
		fmt.Fprintf(stderr, "calfed serve: %s\n", cli.Plain(err))
		return exitError
	}
	var cfg *config.Config
	var demo *demopkg.Demo
	path, err := config.Find(configPath)
	switch {
	case errors.Is(err, config.ErrNoConfig):
		fmt.Fprintf(stderr, "calfed serve: no configuration (no -config, no $%s, no ./%s): running the embedded demo, not for production\n", config.Env, config.DefaultFile)
		if demo, err = demopkg.New(*demoWeek); err == nil {
			defer demo.Close()
			cfg = demo.Config
		}
	case err == nil:
		cfg, err = config.Load(path)
	}
	if err != nil {
		return fail(err)
	}
	overrides := func(cfg *config.Config) {
		if *listen != "" {
			cfg.Listen = *listen
		}
		if *adminListen != "" {
			cfg.Admin.Listen = *adminListen
		}
		if *logLevel != "" {
			cfg.Log.Level = *logLevel
		}
	}
	overrides(cfg)
	level := new(slog.LevelVar)
	log, err := server.NewLogger(cfg, stderr, level)
	if err != nil {
		return fail(err)
	}
	// What outsiders can make the servers log, bounded.
	quiet := server.Quiet(log, nil)
	go quiet.Run(ctx)
	qlog := slog.New(quiet)
	s, err := server.Open(ctx, cfg, server.Options{Demo: demo, Logger: log, PublicLog: qlog, Level: level})
	if err != nil {
		return fail(err)
	}
	defer s.Close()
	policyDone := s.Start(ctx)

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
	listeners := &server.Listeners{MaxConnections: cfg.Limits.MaxConnections, Logger: log, ServerLog: qlog}
	// The demo serves where the user said, else on the defaults, else
	// on free ports, so that a second demo runs beside the first.
	serveOn := func(name, addr string, set bool, h http.Handler, tc *tls.Config) (string, error) {
		a, err := listeners.Serve(name, addr, h, tc)
		if err != nil && demo != nil && !set && errors.Is(err, syscall.EADDRINUSE) {
			log.Info("demo: address taken, serving on a free port instead", "listener", name, "taken", addr)
			return listeners.Serve(name, "127.0.0.1:0", h, tc)
		}
		return a, err
	}
	addr, err := serveOn("public", cfg.Listen, *listen != "", newRouter(s, rec), tc)
	if err != nil {
		return fail(err)
	}
	base := fmt.Sprintf("%s://%s", scheme, addr)
	log.Info("listening", "ews", base+"/EWS/Exchange.asmx", "store", s.DB.Driver())

	if cfg.Autodiscover.RedirectListen != "" {
		a, err := listeners.Serve("autodiscover redirect", cfg.Autodiscover.RedirectListen, autodiscover.Redirect(cfg.PublicURL), nil)
		if err != nil {
			return fail(err)
		}
		log.Info("autodiscover redirect listening", "addr", a, "to", cfg.PublicURL)
	}

	adminRoutes, err := s.AdminRoutes()
	if err != nil {
		return fail(err)
	}
	// SIGHUP reloads the configuration from here on.
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	go reloadOnHangup(ctx, hup, s, cfg.File, overrides, log)
	var api http.Handler
	if adminRoutes != nil {
		api = newAdminRouter(adminRoutes)
	}
	a, err := serveOn("admin", cfg.Admin.Listen, *adminListen != "", s.AdminHandler(api), nil)
	if err != nil {
		return fail(err)
	}
	adminBase := "http://" + a
	log.Info("admin listener: /healthz, /readyz, /metrics", "url", adminBase, "admin_api", adminRoutes != nil, "pprof", cfg.Admin.Pprof)
	if adminRoutes != nil {
		log.Info("admin API listening", "url", adminBase, "console", adminBase+"/console/")
	} else {
		log.Info("admin API off: set admin.token_file to turn it on")
		adminBase = ""
	}
	if demo != nil {
		demo.PrintWelcome(stdout, base, adminBase)
	}
	// SIGTERM: /readyz answers 503 at once, and the requests under way
	// finish (Listeners.Wait) before the server stops.
	go func() {
		<-ctx.Done()
		s.Drain()
		log.Info("shutting down: finishing the requests under way")
	}()
	if err := listeners.Wait(ctx); err != nil {
		return fail(err)
	}
	<-policyDone
	log.Info("stopped")
	return exitOK
}

// newRouter mounts the server's public endpoints for server.Public, which
// lower-cases request paths first. The admin API is never mounted here.
func newRouter(s *server.Server, rec *conformance.Recorder) http.Handler {
	r := mux.NewRouter()
	routes := s.Routes()
	mounted := make([]*mux.Route, len(routes))
	for i, rt := range routes {
		mounted[i] = r.Path(rt.Path)
		handle(mounted[i], rt.Handler)
	}
	r.NotFoundHandler = http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		http.Error(rw, "not found", http.StatusNotFound)
	})
	return server.Public(exactFirst(r, routes, mounted), rec)
}

// exactFirst serves a request whose path is exactly a route's path
// without variables (the EWS and Autodiscover endpoints, every partner
// request) from a map, and every other request through r, where mounted
// are the routes' mux routes. gorilla/mux matches with regular
// expressions and copies the request twice (for its variables and its
// route) on every request. A route's own path is clean, so mux would not
// redirect it, and a path goes to the map only if r picks that path's
// route for it (checked here, once), so every request gets the handler
// mux would give it.
func exactFirst(r *mux.Router, routes []server.Route, mounted []*mux.Route) http.Handler {
	exact := map[string]http.Handler{}
	for i, rt := range routes {
		if strings.ContainsRune(rt.Path, '{') {
			continue
		}
		var m mux.RouteMatch
		if r.Match(&http.Request{Method: http.MethodPost, URL: &url.URL{Path: rt.Path}, Header: http.Header{}}, &m) && m.Route == mounted[i] {
			exact[rt.Path] = rt.Handler
		}
	}
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if h, ok := exact[req.URL.Path]; ok {
			h.ServeHTTP(w, req)
			return
		}
		r.ServeHTTP(w, req)
	})
}

// newAdminRouter mounts the admin API's and the console's routes.
func newAdminRouter(routes []admin.Route) http.Handler {
	r := mux.NewRouter()
	for _, rt := range routes {
		handle(r.Methods(rt.Method).Path(rt.Path), rt.Handler)
	}
	r.NotFoundHandler = http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusNotFound)
		io.WriteString(w, `{"error":"no such admin endpoint","code":"not_found"}`+"\n")
	})
	return r
}

// handle serves h on route, handing gorilla/mux's path variables to it as
// PathValue.
func handle(route *mux.Route, h http.Handler) {
	route.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		for k, v := range mux.Vars(req) {
			req.SetPathValue(k, v)
		}
		h.ServeHTTP(w, req)
	})
}

// reloadOnHangup reads the configuration file again on every signal on hup
// until ctx ends, and has the server apply it (server.Reload), with the
// command line's overrides. The demo has no file to read.
func reloadOnHangup(ctx context.Context, hup <-chan os.Signal, s *server.Server, file string, overrides func(*config.Config), log *slog.Logger) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-hup:
		}
		if file == "" {
			log.Warn("SIGHUP: the demo has no configuration file to reload")
			continue
		}
		log.Info("SIGHUP: reloading the configuration", "file", file)
		next, err := config.Load(file)
		if err != nil {
			log.Error("configuration not reloaded; the running configuration stays in force", "err", err)
			continue
		}
		overrides(next)
		s.Reload(ctx, next)
	}
}
