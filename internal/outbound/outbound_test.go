package outbound

import (
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
)

// forwardProxy is a plain HTTP forward proxy: it records the absolute URL
// each request names and answers it from target.
type forwardProxy struct {
	mu   sync.Mutex
	seen []string
}

func (p *forwardProxy) handler(target http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p.mu.Lock()
		p.seen = append(p.seen, r.URL.String())
		p.mu.Unlock()
		target.ServeHTTP(w, r)
	})
}

func TestProxyAndBypass(t *testing.T) {
	fp := &forwardProxy{}
	proxy := httptest.NewServer(fp.handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "via proxy "+r.Host)
	})))
	defer proxy.Close()
	c, err := New(Config{Proxy: proxy.URL, NoProxy: []string{"direct.example", ".sub.example", "10.0.0.0/8"}})
	if err != nil {
		t.Fatal(err)
	}
	hc := c.HTTP(0)
	resp, err := hc.Get("http://partner.example/EWS/Exchange.asmx")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(body) != "via proxy partner.example" {
		t.Errorf("GET through the proxy = %q", body)
	}
	if len(fp.seen) != 1 || fp.seen[0] != "http://partner.example/EWS/Exchange.asmx" {
		t.Errorf("the proxy saw %q", fp.seen)
	}
	f := c.Config().ProxyFunc()
	for _, tc := range []struct {
		url     string
		proxied bool
	}{
		{"https://partner.example/x", true},
		{"https://direct.example/x", false},
		{"https://mail.direct.example/x", false},
		{"https://sub.example/x", true},
		{"https://a.sub.example/x", false},
		{"https://10.1.2.3/x", false},
		{"https://11.1.2.3/x", true},
		{"http://127.0.0.1:8080/x", false},
	} {
		u, _ := url.Parse(tc.url)
		got, err := f(u)
		if err != nil {
			t.Fatal(err)
		}
		if (got != nil) != tc.proxied {
			t.Errorf("proxy for %s = %v, want proxied %v", tc.url, got, tc.proxied)
		}
	}
}

func TestEnvironment(t *testing.T) {
	t.Setenv("HTTPS_PROXY", "http://envproxy.internal:3128")
	t.Setenv("NO_PROXY", "skip.example")
	f := Config{NoProxy: []string{"also.example"}}.ProxyFunc()
	for _, tc := range []struct {
		url, want string
	}{
		{"https://partner.example/", "http://envproxy.internal:3128"},
		{"https://skip.example/", ""},
		{"https://also.example/", ""},
	} {
		u, _ := url.Parse(tc.url)
		got, _ := f(u)
		s := ""
		if got != nil {
			s = got.String()
		}
		if s != tc.want {
			t.Errorf("proxy for %s = %q, want %q", tc.url, s, tc.want)
		}
	}
}

func TestCheck(t *testing.T) {
	for _, tc := range []struct {
		cfg   Config
		field string
	}{
		{Config{Proxy: "proxy.internal:3128"}, "outbound.proxy"},
		{Config{Proxy: "ftp://proxy.internal"}, "outbound.proxy"},
		{Config{Proxy: "http://proxy.internal/path"}, "outbound.proxy"},
		{Config{NoProxy: []string{"10.0.0.0/33"}}, "outbound.no_proxy[0]"},
		{Config{NoProxy: []string{"a.example", "a.example, b.example"}}, "outbound.no_proxy[1]"},
		{Config{NoProxy: []string{"https://a.example"}}, "outbound.no_proxy[0]"},
		{Config{NoProxy: []string{""}}, "outbound.no_proxy[0]"},
	} {
		err := tc.cfg.Check()
		if !errors.Is(err, ErrConfig) || !strings.Contains(err.Error(), tc.field) {
			t.Errorf("Check(%+v) = %v, want an error naming %s", tc.cfg, err, tc.field)
		}
	}
	if err := (Config{Proxy: "http://u:p@proxy.internal:3128", NoProxy: []string{"*"}}).Check(); err != nil {
		t.Errorf("Check of a good config = %v", err)
	}
	if s := (Config{Proxy: "http://u:secret@proxy.internal:3128"}).String(); strings.Contains(s, "secret") {
		t.Errorf("String shows the password: %s", s)
	}
}
