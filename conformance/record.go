package conformance

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"net/http/httputil"
	"net/url"
	"path"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/beevik/etree"
	"github.com/calfed/calfed/internal/outbound"
)

// Recorder writes every exchange through it into a corpus directory as a
// case, its secrets redacted, so live traffic becomes regression cases.
type Recorder struct {
	Dir    string
	Source string // recorded into each case, e.g. "recorded by calfed serve"
	Log    *slog.Logger
	Now    func() time.Time

	mu  sync.Mutex
	seq int
}

// requestHeaders and responseHeaders are the headers a recorded case
// keeps; the rest are transport detail.
var (
	requestHeaders  = map[string]bool{"Content-Type": true, "Soapaction": true, "Accept": true, "X-Anchormailbox": true}
	responseHeaders = map[string]bool{"Content-Type": true, "Location": true, "Www-Authenticate": true, "X-Soap-Enabled": true, "X-Wssecurity-Enabled": true, "X-Oauth-Enabled": true}
)

// Wrap records what next serves.
func (rec *Recorder) Wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(io.LimitReader(r.Body, maxBody+1))
		r.Body = io.NopCloser(io.MultiReader(bytes.NewReader(body), r.Body))
		if err != nil || len(body) > maxBody {
			next.ServeHTTP(w, r) // too large to keep: served, not recorded
			rec.log().Warn("exchange not recorded: request body unreadable or too large", "path", r.URL.Path)
			return
		}
		// The handler gets its own copy of the request: routers rewrite
		// paths in place, and the case keeps what the client sent.
		sent := r.Clone(r.Context())
		cw := &capture{ResponseWriter: w, status: http.StatusOK}
		slot := &tokenSlot{}
		next.ServeHTTP(cw, r.WithContext(context.WithValue(r.Context(), slotKey{}, slot)))
		rec.save(sent, body, cw, slot.claims)
	})
}

// Proxy is a recording proxy to upstream: it records every exchange it
// passes on. The upstream sees the host the client asked for, and answers
// plainly, so that cases hold readable bodies: Exchange, like calfed,
// compresses for clients that accept gzip.
func (rec *Recorder) Proxy(upstream *url.URL) http.Handler {
	proxy := &httputil.ReverseProxy{Rewrite: func(pr *httputil.ProxyRequest) {
		pr.SetURL(upstream)
		pr.Out.Host = pr.In.Host
		pr.SetXForwarded()
		pr.Out.Header.Del("Accept-Encoding")
	}, Transport: outbound.Default().HTTP(0).Transport}
	proxy.ErrorLog = slog.NewLogLogger(rec.log().Handler(), slog.LevelWarn)
	return rec.Wrap(proxy)
}

func (rec *Recorder) log() *slog.Logger {
	if rec.Log == nil {
		return slog.New(slog.DiscardHandler)
	}
	return rec.Log
}

type slotKey struct{}

// tokenSlot is where the server notes a delegation token's claims for the
// recorder around it.
type tokenSlot struct{ claims *TokenClaims }

// NoteToken tells a recorder wrapping this request what the request's
// delegation token said, so its case can mint a new one on replay. The
// server calls it once the token is validated; without a recorder it does
// nothing.
func NoteToken(ctx context.Context, c TokenClaims) {
	if s, ok := ctx.Value(slotKey{}).(*tokenSlot); ok {
		s.claims = &c
	}
}

func (rec *Recorder) save(r *http.Request, body []byte, cw *capture, claims *TokenClaims) {
	now := time.Now
	if rec.Now != nil {
		now = rec.Now
	}
	at := now().UTC()
	rec.mu.Lock()
	rec.seq++
	seq := rec.seq
	rec.mu.Unlock()
	c := &Case{
		Name:     fmt.Sprintf("%s-%04d-%s", at.Format("20060102T150405"), seq, operation(r.URL.Path, body)),
		Source:   rec.Source,
		Captured: at.Truncate(time.Second),
		Origin:   origin(r),
		Request: Request{
			Method:  r.Method,
			Path:    r.URL.RequestURI(),
			Headers: headerMap(r.Header, func(k string) bool { return requestHeaders[k] }),
		},
		Response: Response{
			Status:  cw.status,
			Headers: headerMap(cw.Header(), func(k string) bool { return responseHeaders[k] }),
		},
		RequestBody:  body,
		ResponseBody: cw.body.Bytes(),
	}
	if len(c.RequestBody) == 0 {
		c.RequestBody = nil
	}
	if user, _, ok := r.BasicAuth(); ok {
		c.Request.Auth, c.Request.User = AuthBasic, user
	}
	if err := finish(c, claims); err != nil {
		rec.log().Warn("exchange not recorded", "case", c.Name, "err", err)
		return
	}
	name := c.Name
	err := Save(rec.Dir, c)
	for i := 2; errors.Is(err, fs.ErrExist) && i < 100; i++ { // another recorder's case of the same second
		c.Name = fmt.Sprintf("%s-%d", name, i)
		err = Save(rec.Dir, c)
	}
	if err != nil {
		rec.log().Warn("exchange not recorded", "case", c.Name, "err", err)
		return
	}
	rec.log().Debug("exchange recorded", "case", c.Name)
}

// origin is the scheme and host the request was served at.
func origin(r *http.Request) string {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}

var unsafeName = regexp.MustCompile(`[^A-Za-z0-9.-]+`)

// operation names a case: the SOAP operation, else the path's last part.
func operation(p string, body []byte) string {
	if looksXML(body) {
		doc := etree.NewDocument()
		if doc.ReadFromBytes(body) == nil && doc.Root() != nil {
			for _, e := range doc.Root().ChildElements() {
				if e.Tag == "Body" && len(e.ChildElements()) > 0 {
					return unsafeName.ReplaceAllString(e.ChildElements()[0].Tag, "_")
				}
			}
			return unsafeName.ReplaceAllString(doc.Root().Tag, "_")
		}
	}
	base := strings.ToLower(path.Base(p))
	if base == "/" || base == "." {
		base = "root"
	}
	return unsafeName.ReplaceAllString(base, "_")
}

// capture keeps a copy of what is written.
type capture struct {
	http.ResponseWriter
	status int
	wrote  bool
	body   bytes.Buffer
}

func (c *capture) WriteHeader(status int) {
	if !c.wrote {
		c.status, c.wrote = status, true
	}
	c.ResponseWriter.WriteHeader(status)
}

func (c *capture) Write(b []byte) (int, error) {
	c.wrote = true
	if c.body.Len() < maxBody {
		c.body.Write(b)
	}
	return c.ResponseWriter.Write(b)
}
