package console

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"
)

// Cookie names.
const (
	sessionCookie = "calfed_console"
	loginCookie   = "calfed_console_login" // the CSRF token of the login form, before there is a session
)

// session is one signed-in browser.
type session struct {
	actor   string // who signed in, for the audit log
	csrf    string
	expires time.Time
	flash   string // what the next page says was done
}

// sessions are the signed-in browsers, by session ID, in memory: a
// restart signs everyone out.
type sessions struct {
	mu  sync.Mutex
	m   map[string]*session
	ttl time.Duration
	now func() time.Time
}

func (s *sessions) start(actor string) (id string, sess *session) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	for k, v := range s.m { // forget expired sessions as new ones come
		if now.After(v.expires) {
			delete(s.m, k)
		}
	}
	id = randomToken()
	sess = &session{actor: actor, csrf: randomToken(), expires: now.Add(s.ttl)}
	s.m[id] = sess
	return id, sess
}

func (s *sessions) get(id string) (*session, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	sess, ok := s.m[id]
	if !ok || s.now().After(sess.expires) {
		delete(s.m, id)
		return nil, false
	}
	return sess, true
}

func (s *sessions) end(id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.m, id)
}

func randomToken() string {
	b := make([]byte, 32)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// equal compares secrets in constant time.
func equal(a, b string) bool {
	ha, hb := sha256.Sum256([]byte(a)), sha256.Sum256([]byte(b))
	return subtle.ConstantTimeCompare(ha[:], hb[:]) == 1 && a != ""
}

// caller is who makes a request: a session, or a holder of the admin
// token in an Authorization header (scripts, which need no CSRF token).
type caller struct {
	actor   string
	csrf    string // empty for a bearer caller
	bearer  bool
	session *session // nil for a bearer caller
}

// authenticate finds the request's caller.
func (h *Handler) authenticate(r *http.Request) (caller, bool) {
	if auth := r.Header.Get("Authorization"); auth != "" {
		token, ok := strings.CutPrefix(auth, "Bearer ")
		if ok && equal(token, h.opt.Token) {
			actor := strings.TrimSpace(r.Header.Get("X-Calfed-Actor"))
			if actor == "" {
				actor = "unknown"
			}
			return caller{actor: actor + " via console", bearer: true}, true
		}
		return caller{}, false
	}
	c, err := r.Cookie(sessionCookie)
	if err != nil {
		return caller{}, false
	}
	sess, ok := h.sessions.get(c.Value)
	if !ok {
		return caller{}, false
	}
	return caller{actor: sess.actor + " via console", csrf: sess.csrf, session: sess}, true
}

// checkPost refuses a POST that does not come from our own form: its
// Origin, when sent, must be this host, and a session's form must carry
// the session's CSRF token.
func checkPost(r *http.Request, c caller) bool {
	if o := r.Header.Get("Origin"); o != "" {
		u, err := url.Parse(o)
		if err != nil || u.Host != r.Host {
			return false
		}
	}
	return c.bearer || equal(r.PostFormValue("csrf"), c.csrf)
}

func (h *Handler) setCookie(w http.ResponseWriter, r *http.Request, name, value string, maxAge int) {
	http.SetCookie(w, &http.Cookie{Name: name, Value: value, Path: "/console", MaxAge: maxAge,
		HttpOnly: true, Secure: r.TLS != nil, SameSite: http.SameSiteStrictMode})
}

// loginPage shows the login form, with a fresh CSRF token in a cookie
// and the form.
func (h *Handler) loginPage(w http.ResponseWriter, r *http.Request, problem string, status int) {
	csrf := randomToken()
	h.setCookie(w, r, loginCookie, csrf, 600)
	h.render(w, status, "login", page{Title: "Sign in", CSRF: csrf, Problem: problem, Next: safeNext(r.FormValue("next"))})
}

// login checks the admin token and starts a session.
func (h *Handler) login(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 16<<10)
	c, err := r.Cookie(loginCookie)
	if err != nil || !equal(r.PostFormValue("csrf"), c.Value) || !checkPost(r, caller{bearer: true}) {
		h.loginPage(w, r, "The sign-in form expired: sign in again.", http.StatusForbidden)
		return
	}
	name := strings.TrimSpace(r.PostFormValue("name"))
	if !h.limiter.allow() {
		h.log.Warn("console sign-in throttled", "remote", r.RemoteAddr)
		h.loginPage(w, r, "Too many failed sign-ins: wait a minute and try again.", http.StatusTooManyRequests)
		return
	}
	if !equal(r.PostFormValue("token"), h.opt.Token) {
		h.limiter.fail()
		h.log.Warn("console sign-in refused", "remote", r.RemoteAddr, "name", name)
		h.loginPage(w, r, "That is not the admin token (admin.token_file).", http.StatusUnauthorized)
		return
	}
	if name == "" {
		h.loginPage(w, r, "Give your name: the audit log records who made each change.", http.StatusBadRequest)
		return
	}
	id, _ := h.sessions.start(name)
	h.setCookie(w, r, sessionCookie, id, int(h.sessions.ttl/time.Second))
	h.setCookie(w, r, loginCookie, "", -1)
	h.log.Info("console sign-in", "remote", r.RemoteAddr, "name", name)
	http.Redirect(w, r, safeNext(r.PostFormValue("next")), http.StatusSeeOther)
}

func (h *Handler) logout(w http.ResponseWriter, r *http.Request, c caller) {
	if ck, err := r.Cookie(sessionCookie); err == nil {
		h.sessions.end(ck.Value)
	}
	h.setCookie(w, r, sessionCookie, "", -1)
	http.Redirect(w, r, "/console/login", http.StatusSeeOther)
}

// safeNext keeps a redirect after sign-in on the console.
func safeNext(next string) string {
	if !strings.HasPrefix(next, "/console/") || strings.HasPrefix(next, "//") || strings.ContainsAny(next, "\\\r\n") {
		return "/console/"
	}
	return next
}

// limiter bounds failed sign-ins: after max failures within a minute,
// sign-ins wait until the minute is over.
type limiter struct {
	mu       sync.Mutex
	failures []time.Time
	max      int
	now      func() time.Time
}

func (l *limiter) prune() {
	cut := l.now().Add(-time.Minute)
	i := 0
	for i < len(l.failures) && l.failures[i].Before(cut) {
		i++
	}
	l.failures = l.failures[i:]
}

func (l *limiter) allow() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.prune()
	return len(l.failures) < l.max
}

func (l *limiter) fail() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.failures = append(l.failures, l.now())
}

// setFlash keeps what the next page is to say was done.
func (h *Handler) setFlash(c caller, msg string) {
	if c.session == nil {
		return
	}
	h.sessions.mu.Lock()
	c.session.flash = msg
	h.sessions.mu.Unlock()
}

// takeFlash returns what was done, once.
func (h *Handler) takeFlash(c caller) string {
	if c.session == nil {
		return ""
	}
	h.sessions.mu.Lock()
	defer h.sessions.mu.Unlock()
	msg := c.session.flash
	c.session.flash = ""
	return msg
}
