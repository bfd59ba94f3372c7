package exchhttp

import (
	"compress/gzip"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

var guid = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)

const body = `<?xml version="1.0" encoding="utf-8"?><s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body/></s:Envelope>`

func handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/xml", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/xml; charset=utf-8")
		w.Header().Set("Content-Length", strconv.Itoa(len(body)))
		w.WriteHeader(http.StatusOK)
		io.WriteString(w, body)
	})
	mux.HandleFunc("/401", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", "0")
		w.WriteHeader(http.StatusUnauthorized)
	})
	mux.HandleFunc("/fault", func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusInternalServerError)
		io.WriteString(w, body)
	})
	return Wrap(mux)
}

func do(t *testing.T, method, path string, headers ...string) *http.Response {
	t.Helper()
	req := httptest.NewRequest(method, path, nil)
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Add(headers[i], headers[i+1])
	}
	rec := httptest.NewRecorder()
	handler().ServeHTTP(rec, req)
	return rec.Result()
}

func read(t *testing.T, resp *http.Response) string {
	t.Helper()
	var r io.Reader = resp.Body
	if resp.Header.Get("Content-Encoding") == "gzip" {
		zr, err := gzip.NewReader(resp.Body)
		if err != nil {
			t.Fatal(err)
		}
		r = zr
	}
	b, err := io.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// Every answer carries a fresh request-id GUID; client-request-id comes
// back as sent.
func TestRequestIDs(t *testing.T) {
	seen := map[string]bool{}
	for _, path := range []string{"/xml", "/401", "/fault", "/nothing-here"} {
		resp := do(t, http.MethodPost, path, "client-request-id", "a2c4e6f8-0000-4000-8000-123456789abc")
		id := resp.Header.Get("request-id")
		if !guid.MatchString(id) || seen[id] {
			t.Errorf("%s: request-id %q, want a new GUID", path, id)
		}
		seen[id] = true
		if got := resp.Header.Get("client-request-id"); got != "a2c4e6f8-0000-4000-8000-123456789abc" {
			t.Errorf("%s: client-request-id = %q", path, got)
		}
	}
	if resp := do(t, http.MethodPost, "/xml"); resp.Header.Get("client-request-id") != "" {
		t.Errorf("client-request-id %q without one in the request", resp.Header.Get("client-request-id"))
	}
	if resp := do(t, http.MethodPost, "/xml", "client-request-id", "bad\x01value"); resp.Header.Get("client-request-id") != "" {
		t.Errorf("an unprintable client-request-id is echoed")
	}
}

func TestGzip(t *testing.T) {
	tests := []struct {
		name, method, path, accept string
		gzip                       bool
		status                     int
		body                       string
	}{
		{"asked", http.MethodPost, "/xml", "gzip, deflate", true, 200, body},
		{"Exchange's requester", http.MethodPost, "/xml", "gzip", true, 200, body},
		{"a fault", http.MethodPost, "/fault", "gzip", true, 500, body},
		{"not asked", http.MethodPost, "/xml", "", false, 200, body},
		{"refused", http.MethodPost, "/xml", "gzip;q=0, identity", false, 200, body},
		{"any", http.MethodPost, "/xml", "*", true, 200, body},
		{"any but gzip", http.MethodPost, "/xml", "*, gzip;q=0", false, 200, body},
		{"no body", http.MethodPost, "/401", "gzip", false, 401, ""},
		{"HEAD", http.MethodHead, "/xml", "gzip", false, 200, body},
	}
	for _, tt := range tests {
		resp := do(t, tt.method, tt.path, "Accept-Encoding", tt.accept)
		if got := resp.Header.Get("Content-Encoding") == "gzip"; got != tt.gzip || resp.StatusCode != tt.status {
			t.Errorf("%s: gzip %v, status %d; want %v, %d", tt.name, got, resp.StatusCode, tt.gzip, tt.status)
		}
		if got := read(t, resp); got != tt.body && tt.method != http.MethodHead {
			t.Errorf("%s: body %q", tt.name, got)
		}
		if tt.gzip && resp.Header.Get("Content-Length") != "" {
			t.Errorf("%s: Content-Length %s on a compressed answer", tt.name, resp.Header.Get("Content-Length"))
		}
		if tt.gzip && !strings.Contains(strings.Join(resp.Header.Values("Vary"), ","), "Accept-Encoding") {
			t.Errorf("%s: no Vary: Accept-Encoding", tt.name)
		}
	}
}

func BenchmarkGzipAnswer(b *testing.B) {
	h := handler()
	b.ReportAllocs()
	for b.Loop() {
		req := httptest.NewRequest(http.MethodPost, "/xml", nil)
		req.Header.Set("Accept-Encoding", "gzip")
		h.ServeHTTP(httptest.NewRecorder(), req)
	}
}
