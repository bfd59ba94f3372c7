package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/gorilla/mux"

	"github.com/calfed/calfed/calendar"
	"github.com/calfed/calfed/ews"
	"github.com/calfed/calfed/internal/httpauth"
	"github.com/calfed/calfed/internal/soap"
)

func runServe(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fl := flag.NewFlagSet("serve", flag.ContinueOnError)
	fl.SetOutput(stderr)
	configPath := fl.String("config", "", "configuration file; without it the embedded demo runs")
	listen := fl.String("listen", "", "listen address, overriding the configuration (default 127.0.0.1:8080)")
	logLevel := fl.String("log-level", "info", "debug, info, warn or error")
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

	var cfg *Config
	var demo *demoInfo
	var err error
	if *configPath == "" {
		cfg, demo, err = demoConfig(*demoWeek)
	} else {
		cfg, err = LoadConfig(*configPath)
	}
	if err != nil {
		fmt.Fprintf(stderr, "calfed serve: %v\n", err)
		return exitError
	}
	if *listen != "" {
		cfg.Listen = *listen
	}
	if cfg.Listen == "" {
		cfg.Listen = "127.0.0.1:8080"
	}
	b, err := cfg.Build()
	if err != nil {
		fmt.Fprintf(stderr, "calfed serve: invalid configuration:\n%v\n", indent(err.Error()))
		return exitError
	}
	dir, err := calendar.NewDirectory(b.entries, calendar.DirectoryOptions{
		Logger:       log,
		HorizonPast:  time.Duration(cfg.Calendars.HorizonPast),
		HorizonAhead: time.Duration(cfg.Calendars.HorizonAhead),
	})
	if err != nil {
		fmt.Fprintf(stderr, "calfed serve: %v\n", err)
		return exitError
	}
	mailboxes, instances, failed := dir.Stats()
	log.Info("calendars loaded", "mailboxes", mailboxes, "instances", instances, "failed", failed)

	handler := newRouter(cfg, b, dir, log)
	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		fmt.Fprintf(stderr, "calfed serve: %v\n", err)
		return exitError
	}
	srv := &http.Server{
		Handler:           handler,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	reloadEvery := time.Duration(cfg.Calendars.ReloadInterval)
	if reloadEvery <= 0 {
		reloadEvery = 2 * time.Second
	}
	if demo == nil {
		go dir.Watch(ctx, reloadEvery)
	}
	scheme := "http"
	if cfg.TLS.CertFile != "" {
		scheme = "https"
	}
	base := fmt.Sprintf("%s://%s", scheme, ln.Addr().String())
	log.Info("listening", "ews", base+"/EWS/Exchange.asmx")
	if demo != nil {
		demo.printWelcome(stdout, base)
	}
	errc := make(chan error, 1)
	go func() {
		if cfg.TLS.CertFile != "" {
			errc <- srv.ServeTLS(ln, cfg.TLS.CertFile, cfg.TLS.KeyFile)
			return
		}
		errc <- srv.Serve(ln)
	}()
	select {
	case err := <-errc:
		fmt.Fprintf(stderr, "calfed serve: %v\n", err)
		return exitError
	case <-ctx.Done():
	}
	shutdown, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdown); err != nil && !errors.Is(err, context.DeadlineExceeded) {
		log.Warn("shutdown", "err", err)
	}
	log.Info("stopped")
	return exitOK
}

// newRouter wires the public endpoints. Paths match case-insensitively, as
// IIS serves Exchange's. NOTES §1.1.
func newRouter(cfg *Config, b *built, dir *calendar.Directory, log *slog.Logger) http.Handler {
	ewsHandler := ews.New(ews.Options{
		Directory:     dir,
		Access:        b.policy,
		Logger:        log,
		Limits:        soap.Limits{MaxBytes: cfg.Limits.MaxRequestBytes},
		MaxMailboxes:  cfg.Limits.MaxMailboxes,
		MaxWindowDays: cfg.Limits.MaxWindowDays,
		MaxResultSet:  cfg.Limits.MaxResultSet,
		ServerName:    cfg.ServerName,
	})
	r := mux.NewRouter()
	r.Handle("/ews/exchange.asmx", httpauth.Basic(ewsHandler, b.accounts, "calfed", log))
	r.NotFoundHandler = http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		http.Error(rw, "not found", http.StatusNotFound)
	})
	return http.HandlerFunc(func(rw http.ResponseWriter, req *http.Request) {
		req.URL.Path = strings.ToLower(req.URL.Path)
		req.URL.RawPath = ""
		r.ServeHTTP(rw, req)
	})
}

func indent(s string) string {
	return "  " + strings.ReplaceAll(s, "\n", "\n  ")
}
