package console

import (
	"bytes"
	"context"
	"embed"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"time"

	"github.com/calfed/calfed/admin"
	"github.com/calfed/calfed/certs"
	"github.com/calfed/calfed/doctor"
	"github.com/calfed/calfed/orgrel"
	"github.com/calfed/calfed/store"
	"github.com/calfed/calfed/trust"
	"github.com/calfed/calfed/wsfed"
)

//go:embed templates/*.html static/*
var assets embed.FS

// Options configure a Handler. API, Checker and Token are required.
type Options struct {
	API     admin.API       // the admin service the command line uses
	Checker *doctor.Checker // orgrel test and doctor
	// Trust is our federation trust, for its certificates' and
	// metadata's freshness.
	Trust *trust.Service
	// Activity is the partners' requests; nil: the console says there is
	// no record of them.
	Activity Activity
	Token    string // the admin token
	// SessionTTL is how long a sign-in lasts; default 8 hours.
	SessionTTL time.Duration
	// CheckTimeout bounds an orgrel test or a readiness check run from a
	// page; default 60 seconds.
	CheckTimeout time.Duration
	Now          func() time.Time // default time.Now
	Logger       *slog.Logger     // nil discards
}

// Handler serves the console under /console/.
type Handler struct {
	opt      Options
	tmpl     map[string]*template.Template
	sessions *sessions
	limiter  *limiter
	log      *slog.Logger
}

// Route is one endpoint of the console, as admin.Route.
type Route = admin.Route

// New returns a Handler.
func New(opt Options) (*Handler, error) {
	if opt.API == nil || opt.Checker == nil || opt.Token == "" {
		return nil, errors.New("console: API, Checker and Token are required")
	}
	if opt.SessionTTL <= 0 {
		opt.SessionTTL = 8 * time.Hour
	}
	if opt.CheckTimeout <= 0 {
		opt.CheckTimeout = 60 * time.Second
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	h := &Handler{opt: opt, log: opt.Logger, tmpl: map[string]*template.Template{},
		sessions: &sessions{m: map[string]*session{}, ttl: opt.SessionTTL, now: opt.Now},
		limiter:  &limiter{max: 10, now: opt.Now}}
	if h.log == nil {
		h.log = slog.New(slog.DiscardHandler)
	}
	funcs := template.FuncMap{"when": when, "upper": strings.ToUpper, "join": strings.Join,
		"partnerURL": func(name string) template.URL { return template.URL("/console/partners/" + url.PathEscape(name)) }}
	for _, name := range []string{"login", "partners", "partner", "confirm", "domains", "error"} {
		t, err := template.New("layout.html").Funcs(funcs).ParseFS(assets, "templates/layout.html", "templates/report.html", "templates/"+name+".html")
		if err != nil {
			return nil, fmt.Errorf("console: template %s: %w", name, err)
		}
		h.tmpl[name] = t
	}
	return h, nil
}

// Routes lists the console's endpoints, for the admin listener's router.
func (h *Handler) Routes() []Route {
	static, _ := fs.Sub(assets, "static")
	files := http.StripPrefix("/console/static/", http.FileServer(http.FS(static)))
	return []Route{
		{Method: "GET", Path: "/console", Handler: http.RedirectHandler("/console/", http.StatusMovedPermanently)},
		{Method: "GET", Path: "/console/static/{file}", Handler: headers(files)},
		{Method: "GET", Path: "/console/login", Handler: headers(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			h.loginPage(w, r, "", http.StatusOK)
		}))},
		{Method: "POST", Path: "/console/login", Handler: headers(http.HandlerFunc(h.login))},
		{Method: "POST", Path: "/console/logout", Handler: h.auth(h.logout)},
		{Method: "GET", Path: "/console/", Handler: h.auth(h.partners)},
		{Method: "GET", Path: "/console/partners/{name}", Handler: h.auth(h.partner)},
		{Method: "POST", Path: "/console/partners/{name}/test", Handler: h.auth(h.test)},
		{Method: "POST", Path: "/console/partners/{name}/change", Handler: h.auth(h.change)},
		{Method: "GET", Path: "/console/domains", Handler: h.auth(h.domains)},
		{Method: "POST", Path: "/console/domains/check", Handler: h.auth(h.checkDomain)},
	}
}

// headers sets what every console answer carries: no caching of pages
// that show the federation's state, no framing, a content security policy
// that allows the console's own stylesheet and nothing else.
func headers(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-store")
		w.Header().Set("X-Frame-Options", "DENY")
		w.Header().Set("X-Content-Type-Options", "nosniff")
		w.Header().Set("Referrer-Policy", "same-origin") // "no-referrer" would make browsers send Origin: null with the forms
		w.Header().Set("Content-Security-Policy", "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
		next.ServeHTTP(w, r)
	})
}

// auth lets signed-in callers through; others go to the login form (a
// GET) or are refused (a POST). POSTs must come from the console's own
// forms.
func (h *Handler) auth(f func(w http.ResponseWriter, r *http.Request, c caller)) http.Handler {
	return headers(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, ok := h.authenticate(r)
		if !ok {
			if r.Method == http.MethodGet && r.Header.Get("Authorization") == "" {
				http.Redirect(w, r, "/console/login?next="+templateEscape(r.URL.Path), http.StatusSeeOther)
				return
			}
			h.fail(w, c, http.StatusUnauthorized, "Sign in first.")
			return
		}
		if r.Method == http.MethodPost {
			r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
			if !checkPost(r, c) {
				h.log.Warn("console form refused: not from the console's own form", "remote", r.RemoteAddr, "path", r.URL.Path)
				h.fail(w, c, http.StatusForbidden, "This form is not from this console (or it expired): reload the page and try again.")
				return
			}
		}
		f(w, r, c)
	}))
}

func templateEscape(s string) string {
	return strings.ReplaceAll(template.URLQueryEscaper(s), "%2f", "/")
}

// page is what every template gets.
type page struct {
	Title   string
	CSRF    string
	Actor   string
	Problem string // shown in an alert at the top
	Notice  string // shown as a status at the top
	Next    string
	Data    any
}

func (h *Handler) render(w http.ResponseWriter, status int, name string, p page) {
	var b bytes.Buffer
	if err := h.tmpl[name].Execute(&b, p); err != nil {
		h.log.Error("console page not rendered", "page", name, "err", err)
		http.Error(w, "the page could not be rendered", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	w.Write(b.Bytes())
}

func (h *Handler) fail(w http.ResponseWriter, c caller, status int, msg string) {
	h.render(w, status, "error", page{Title: "Not done", CSRF: c.csrf, Actor: c.actor, Problem: msg})
}

// failErr shows err as the admin API would name it.
func (h *Handler) failErr(w http.ResponseWriter, c caller, err error) {
	status := http.StatusInternalServerError
	switch {
	case errors.Is(err, store.ErrNotFound):
		status = http.StatusNotFound
	case errors.Is(err, store.ErrConflict):
		status = http.StatusConflict
		err = fmt.Errorf("%w: someone changed it since you read it; look again and repeat", err)
	case errors.Is(err, store.ErrInvalid):
		status = http.StatusBadRequest
	}
	h.fail(w, c, status, err.Error())
}

// when shows a time for people, or "never".
func when(t any) string {
	switch v := t.(type) {
	case time.Time:
		if v.IsZero() {
			return "never"
		}
		return v.UTC().Format("2006-01-02 15:04 UTC")
	case *time.Time:
		if v == nil {
			return "never"
		}
		return when(*v)
	}
	return fmt.Sprint(t)
}

// partnerRow is one partner in the list.
type partnerRow struct {
	Rel      orgrel.Relationship
	Proofs   []trust.PartnerProof
	Activity *PartnerActivity
	Problem  string // the activity could not be read
}

type freshness struct {
	Certificate        string // our current federation certificate: thumbprint, expiry
	CertificateExpires *time.Time
	Metadata           *time.Time // the issuer's metadata, last read
	IssuerExpires      *time.Time // the first of the issuer's signing certificates to expire
}

func (h *Handler) partners(w http.ResponseWriter, r *http.Request, c caller) {
	ctx := r.Context()
	rels, err := h.opt.API.Relationships(ctx)
	if err != nil {
		h.failErr(w, c, err)
		return
	}
	checks, err := h.opt.API.DomainChecks(ctx)
	if err != nil {
		h.failErr(w, c, err)
		return
	}
	sort.Slice(rels, func(i, j int) bool { return strings.ToLower(rels[i].Name) < strings.ToLower(rels[j].Name) })
	var rows []partnerRow
	for _, rel := range rels {
		row := partnerRow{Rel: rel, Proofs: trust.PartnerProofs(rel, checks)}
		row.Activity, row.Problem = h.activity(ctx, rel.Name)
		rows = append(rows, row)
	}
	h.render(w, http.StatusOK, "partners", page{Title: "Partners", CSRF: c.csrf, Actor: c.actor, Notice: h.takeFlash(c),
		Data: struct {
			Rows  []partnerRow
			Fresh freshness
		}{rows, h.freshness(ctx)}})
}

func (h *Handler) activity(ctx context.Context, name string) (*PartnerActivity, string) {
	if h.opt.Activity == nil {
		return nil, ""
	}
	a, err := h.opt.Activity.PartnerActivity(ctx, name)
	if err != nil {
		return nil, "activity not readable: " + err.Error()
	}
	return &a, ""
}

func (h *Handler) freshness(ctx context.Context) freshness {
	var f freshness
	if t, err := h.opt.API.Trust(ctx); err == nil {
		f.Metadata = t.MetadataRefreshed
		if issuers, err := wsfed.DecodeCertificates(t.TokenIssuerCertificates); err == nil {
			for _, c := range issuers {
				if f.IssuerExpires == nil || c.NotAfter.Before(*f.IssuerExpires) {
					exp := c.NotAfter
					f.IssuerExpires = &exp
				}
			}
		}
	}
	if h.opt.Trust != nil {
		if ring, err := h.opt.Trust.Certificates(ctx); err == nil {
			if cur := ring.Get(certs.Current); cur != nil {
				exp := cur.Cert.NotAfter
				f.Certificate, f.CertificateExpires = cur.Thumbprint(), &exp
			}
		}
	}
	return f
}
