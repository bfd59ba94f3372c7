// Package exchhttp gives calfed's public HTTP answers the conventions of
// Exchange's: a request-id header on every answer, the requester's
// client-request-id echoed, and gzip content encoding for requesters that
// accept it (Exchange's own requester does). docs/protocol.md §1.1.
package exchhttp

import (
	"compress/gzip"
	"crypto/rand"
	"encoding/hex"
	"net/http"
	"strconv"
	"strings"
	"sync"
)

// Wrap returns next with Exchange's response conventions applied to every
// answer.
func Wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("request-id", NewGUID())
		if id := r.Header.Get("client-request-id"); id != "" && len(id) <= 128 && printable(id) {
			h.Set("client-request-id", id)
		}
		if r.Method == http.MethodHead || !AcceptsGzip(r.Header.Values("Accept-Encoding")) {
			next.ServeHTTP(w, r)
			return
		}
		h.Add("Vary", "Accept-Encoding")
		gw := &gzipWriter{ResponseWriter: w, status: http.StatusOK}
		defer gw.finish()
		next.ServeHTTP(gw, r)
	})
}

// NewGUID returns a random (version 4) GUID in Exchange's lower-case,
// hyphenated form.
func NewGUID() string {
	var b [16]byte
	rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	// 8-4-4-4-12 hexadecimal digits, written into one buffer: every
	// answer gets one.
	var s [36]byte
	hex.Encode(s[0:8], b[0:4])
	hex.Encode(s[9:13], b[4:6])
	hex.Encode(s[14:18], b[6:8])
	hex.Encode(s[19:23], b[8:10])
	hex.Encode(s[24:36], b[10:16])
	s[8], s[13], s[18], s[23] = '-', '-', '-', '-'
	return string(s[:])
}

// printable reports whether s holds only visible ASCII and spaces, what a
// header may carry back.
func printable(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] > 0x7e {
			return false
		}
	}
	return true
}

// AcceptsGzip reports whether Accept-Encoding values allow gzip: named
// (or *) with a quality above zero. RFC 9110 §12.5.3.
func AcceptsGzip(values []string) bool {
	star, gz := false, false
	starQ, gzQ := 0.0, 0.0
	for _, v := range values {
		for _, part := range strings.Split(v, ",") {
			name, params, _ := strings.Cut(strings.TrimSpace(part), ";")
			q := 1.0
			for _, p := range strings.Split(params, ";") {
				k, val, ok := strings.Cut(strings.TrimSpace(p), "=")
				if ok && strings.EqualFold(strings.TrimSpace(k), "q") {
					if f, err := strconv.ParseFloat(strings.TrimSpace(val), 64); err == nil {
						q = f
					}
				}
			}
			switch strings.ToLower(strings.TrimSpace(name)) {
			case "gzip", "x-gzip":
				gz, gzQ = true, q
			case "*":
				star, starQ = true, q
			}
		}
	}
	if gz {
		return gzQ > 0
	}
	return star && starQ > 0
}

var gzipWriters = sync.Pool{New: func() any { return gzip.NewWriter(nil) }}

// gzipWriter compresses the body once there is one: the status is held
// back until the first byte, so an answer without a body (a 401, a 302)
// goes out unchanged, and a handler that set its own Content-Encoding is
// left alone.
type gzipWriter struct {
	http.ResponseWriter
	status      int
	wroteHeader bool // the status went out
	gz          *gzip.Writer
}

func (g *gzipWriter) WriteHeader(status int) {
	if g.wroteHeader {
		return
	}
	if status >= 100 && status < 200 {
		g.ResponseWriter.WriteHeader(status)
		return
	}
	g.status = status
}

func (g *gzipWriter) start(compress bool) {
	g.wroteHeader = true
	h := g.ResponseWriter.Header()
	if compress && h.Get("Content-Encoding") == "" && g.status != http.StatusNoContent && g.status != http.StatusNotModified {
		h.Set("Content-Encoding", "gzip")
		h.Del("Content-Length")
		g.gz = gzipWriters.Get().(*gzip.Writer)
		g.gz.Reset(g.ResponseWriter)
	}
	g.ResponseWriter.WriteHeader(g.status)
}

func (g *gzipWriter) Write(b []byte) (int, error) {
	if !g.wroteHeader {
		if len(b) == 0 {
			return 0, nil
		}
		g.start(true)
	}
	if g.gz != nil {
		return g.gz.Write(b)
	}
	return g.ResponseWriter.Write(b)
}

// Flush sends what is compressed so far.
func (g *gzipWriter) Flush() {
	if g.gz != nil {
		g.gz.Flush()
	}
	if f, ok := g.ResponseWriter.(http.Flusher); ok && g.wroteHeader {
		f.Flush()
	}
}

// Unwrap gives http.ResponseController the underlying writer.
func (g *gzipWriter) Unwrap() http.ResponseWriter { return g.ResponseWriter }

func (g *gzipWriter) finish() {
	if !g.wroteHeader {
		g.start(false)
	}
	if g.gz != nil {
		g.gz.Close()
		g.gz.Reset(nil)
		gzipWriters.Put(g.gz)
		g.gz = nil
	}
}
