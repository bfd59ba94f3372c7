package server

import (
	"context"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/pprof"
	"os"
	"time"

	"github.com/calfed/calfed/certs"
	"github.com/calfed/calfed/internal/accesslog"
	"github.com/calfed/calfed/internal/metrics"
	"github.com/calfed/calfed/orgrel"
)

// newMetrics makes the server's metrics, whose state they read at each
// scrape: the calendars, the policy, the certificates, the domain proofs.
func (s *Server) newMetrics() *metrics.Metrics {
	return metrics.New(metrics.State{
		Calendars: func() []metrics.CalendarStatus {
			st := s.Directory.Status()
			out := make([]metrics.CalendarStatus, len(st))
			for i, c := range st {
				out[i] = metrics.CalendarStatus{Mailbox: c.Mailbox, Checked: c.Checked, Failures: c.Failures, Failed: !c.Loaded || c.Err != nil}
			}
			return out
		},
		Policy: func() metrics.PolicyStatus {
			at, change := s.Policy.Confirmed()
			return metrics.PolicyStatus{Change: change, Confirmed: at}
		},
		Certificates: s.certificates,
		DomainProofs: s.DB.DomainChecks,
		Now:          s.now,
		Logger:       s.log,
	})
}

// ops sets up the access log of partner requests, and the settings
// SIGHUP may change.
func (s *Server) ops() {
	s.Access = accesslog.New(accesslog.Options{
		Store:  s.DB,
		Logger: s.log,
		Server: s.Policy.ID(),
		Relationship: func(domain string) (string, bool) {
			r, ok := s.Policy.Relationship(domain)
			return r.Name, ok
		},
		Observe:   s.Metrics.Request,
		Retention: time.Duration(s.Config.AccessLog.Retention),
		Now:       s.now,
	})
	s.pprof.Store(s.Config.Admin.Pprof)
	s.publicHealth.Store(s.Config.Health.Public)
}

// certificates lists the certificates the server depends on: our
// federation certificates in their slots, and the public listener's TLS
// certificate file.
func (s *Server) certificates(ctx context.Context) ([]metrics.Certificate, error) {
	var out []metrics.Certificate
	var errs []error
	ring, err := s.Trust.Certificates(ctx)
	if err != nil {
		errs = append(errs, fmt.Errorf("federation certificates: %w", err))
	} else {
		for _, slot := range certs.Slots {
			if c := ring.Get(slot); c != nil {
				out = append(out, metrics.Certificate{Use: "federation", Slot: string(slot), NotAfter: c.Cert.NotAfter})
			}
		}
	}
	if f := s.Config.TLS.CertFile; f != "" {
		na, err := certificateFileExpiry(s.Config.Path(f))
		if err != nil {
			errs = append(errs, fmt.Errorf("tls.cert_file: %w", err))
		} else {
			out = append(out, metrics.Certificate{Use: "tls", NotAfter: na})
		}
	}
	return out, errors.Join(errs...)
}

// certificateFileExpiry is when the first certificate in a PEM file
// expires.
func certificateFileExpiry(path string) (time.Time, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return time.Time{}, err
	}
	for {
		var b *pem.Block
		b, data = pem.Decode(data)
		if b == nil {
			return time.Time{}, fmt.Errorf("%s holds no certificate", path)
		}
		if b.Type == "CERTIFICATE" {
			c, err := x509.ParseCertificate(b.Bytes)
			if err != nil {
				return time.Time{}, fmt.Errorf("%s: %w", path, err)
			}
			return c.NotAfter, nil
		}
	}
}

// Check is one part of the server's readiness.
type Check struct {
	Name   string `json:"name"`
	OK     bool   `json:"ok"`
	Detail string `json:"detail"`
}

// Readiness is what /readyz answers.
type Readiness struct {
	Ready  bool    `json:"ready"`
	Checks []Check `json:"checks,omitempty"`
}

// Ready checks whether the server can answer partners now: it is not
// shutting down, its access policy is current (within
// store.max_policy_age), its calendars are loaded (and not every one has
// failed), its store answers, and the certificates it depends on are
// valid.
func (s *Server) Ready(ctx context.Context) Readiness {
	now := s.now()
	var r Readiness
	add := func(name string, ok bool, format string, args ...any) {
		r.Checks = append(r.Checks, Check{Name: name, OK: ok, Detail: fmt.Sprintf(format, args...)})
	}
	if s.draining.Load() {
		add("shutdown", false, "shutting down: finishing the requests under way")
	}
	at, change := s.Policy.Confirmed()
	if s.Policy.Current() {
		add("policy", true, "change %d, confirmed %s ago", change, now.Sub(at).Round(time.Millisecond))
	} else {
		add("policy", false, "change %d, last confirmed %s ago, beyond store.max_policy_age %s: partners are refused until a reload lands",
			change, now.Sub(at).Round(time.Second), s.Policy.MaxAge())
	}
	// Calendars load in the background: not ready until every one has
	// been tried.
	st := s.Directory.Status()
	var failed []string
	for _, c := range st {
		if c.Err != nil {
			failed = append(failed, c.Mailbox)
		}
	}
	switch loaded, total := s.Directory.Progress(); {
	case loaded < total:
		add("calendars", false, "loading: %d of %d loaded", loaded, total)
	case len(st) > 0 && len(failed) == len(st):
		add("calendars", false, "no calendar of the %d could be read", len(st))
	case len(failed) > 0:
		add("calendars", true, "%d of %d loaded; unavailable: %v", len(st)-len(failed), len(st), failed)
	default:
		add("calendars", true, "%d of %d loaded", len(st), len(st))
	}
	pctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	if err := s.DB.Ping(pctx); err != nil {
		add("store", false, "%v", err)
	} else {
		add("store", true, "%s answers", s.DB.Driver())
	}
	cs, err := s.certificates(ctx)
	certOK, detail := true, ""
	for _, c := range cs {
		if c.Slot == string(certs.Next) {
			continue // staged, not in use
		}
		name := c.Use
		if c.Slot != "" {
			name += " " + c.Slot
		}
		if !now.Before(c.NotAfter) {
			certOK = false
			detail += fmt.Sprintf("%s certificate expired at %s; ", name, c.NotAfter.UTC().Format(time.RFC3339))
		} else {
			detail += fmt.Sprintf("%s valid until %s; ", name, c.NotAfter.UTC().Format(time.RFC3339))
		}
	}
	if err != nil {
		certOK = false
		detail += err.Error()
	}
	if detail == "" {
		detail = "none in use"
	}
	add("certificates", certOK, "%s", trimSep(detail))
	r.Ready = true
	for _, c := range r.Checks {
		r.Ready = r.Ready && c.OK
	}
	return r
}

func trimSep(s string) string {
	for len(s) > 0 && (s[len(s)-1] == ' ' || s[len(s)-1] == ';') {
		s = s[:len(s)-1]
	}
	return s
}

// Drain marks the server as shutting down: /readyz answers 503 from now
// on, so that load balancers send no new requests while those under way
// finish.
func (s *Server) Drain() { s.draining.Store(true) }

// healthz answers that the process is up.
func healthz(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	io.WriteString(w, "ok\n")
}

// readyz answers Ready as JSON: 200 when ready, 503 when not.
func (s *Server) readyz(w http.ResponseWriter, r *http.Request) {
	rd := s.Ready(r.Context())
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	if !rd.Ready {
		w.WriteHeader(http.StatusServiceUnavailable)
	}
	json.NewEncoder(w).Encode(rd)
}

// healthRoutes are /healthz and /readyz for the public listener, served
// while health.public is on (SIGHUP may change it); /readyz there answers
// its verdict without the checks.
func (s *Server) healthRoutes() []Route {
	on := func(h http.HandlerFunc) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if !s.publicHealth.Load() {
				http.NotFound(w, r)
				return
			}
			h(w, r)
		})
	}
	// Outsiders get the verdict only: the checks name mailboxes,
	// certificates and the store.
	public := func(w http.ResponseWriter, r *http.Request) {
		rd := s.Ready(r.Context())
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "no-store")
		if !rd.Ready {
			w.WriteHeader(http.StatusServiceUnavailable)
		}
		json.NewEncoder(w).Encode(Readiness{Ready: rd.Ready})
	}
	return []Route{{"/healthz", on(healthz)}, {"/readyz", on(public)}}
}

// AdminHandler is what the admin listener serves: /healthz, /readyz,
// /metrics (no token: keep the listener on loopback, or behind a proxy),
// Go's profiler under /debug/pprof/ while admin.pprof is on, and
// everything else from api, the admin API (nil: off).
func (s *Server) AdminHandler(api http.Handler) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", healthz)
	mux.HandleFunc("GET /readyz", s.readyz)
	mux.Handle("GET /metrics", s.Metrics.Handler())
	prof := http.NewServeMux()
	prof.HandleFunc("/debug/pprof/", pprof.Index)
	prof.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	prof.HandleFunc("/debug/pprof/profile", pprof.Profile)
	prof.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	prof.HandleFunc("/debug/pprof/trace", pprof.Trace)
	mux.Handle("/debug/pprof/", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !s.pprof.Load() {
			adminOff(w, "the profiler is off: set admin.pprof: true (and send SIGHUP) to turn it on")
			return
		}
		prof.ServeHTTP(w, r)
	}))
	if api == nil {
		api = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			adminOff(w, "the admin API is off: set admin.token_file to turn it on")
		})
	}
	mux.Handle("/", api)
	return mux
}

func adminOff(w http.ResponseWriter, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusNotFound)
	json.NewEncoder(w).Encode(map[string]string{"error": msg, "code": "not_found"})
}

// AccessLog returns the information-governance access log's entries q
// selects (the store's).
func (s *Server) AccessLog(ctx context.Context, q orgrel.AccessQuery) ([]orgrel.AccessEntry, error) {
	return s.DB.AccessLog(ctx, q)
}
