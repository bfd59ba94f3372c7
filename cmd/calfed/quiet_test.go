package main

import (
	"bytes"
	"context"
	"crypto/tls"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/calfed/calfed/server"
)

// syncBuffer is a log destination the servers' goroutines share.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

// take returns the lines written since the last call.
func (s *syncBuffer) take() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := strings.TrimSpace(s.b.String())
	s.b.Reset()
	if out == "" {
		return nil
	}
	return strings.Split(out, "\n")
}

func count(lines []string, s string) int {
	n := 0
	for _, l := range lines {
		if strings.Contains(l, s) {
			n++
		}
	}
	return n
}

type testClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *testClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *testClock) Add(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

// A sender repeating refusals gets one log line per kind and interval,
// then a count: bad tokens, bad passwords.
func TestRefusalsDoNotFloodTheLog(t *testing.T) {
	var out syncBuffer
	clock := &testClock{now: time.Now()}
	quiet := server.Quiet(slog.New(slog.NewTextHandler(&out, nil)), clock.Now)
	srv, _ := demoParts(t, server.Options{PublicLog: slog.New(quiet)})
	post := func(path, body, user string) {
		t.Helper()
		req, _ := http.NewRequest("POST", srv.URL+path, strings.NewReader(body))
		req.Header.Set("Content-Type", "text/xml; charset=utf-8")
		if user != "" {
			req.SetBasicAuth(user, "wrong-secret")
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
	env := func(security string) string {
		return `<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/" xmlns:o="http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd"><s:Header>` +
			security + `</s:Header><s:Body><x/></s:Body></s:Envelope>`
	}
	junk := `<o:Security><xenc:EncryptedData xmlns:xenc="http://www.w3.org/2001/04/xmlenc#"><junk/></xenc:EncryptedData></o:Security>`
	for range 40 {
		post("/EWS/Exchange.asmx/WSSecurity", env(junk), "")
		post("/EWS/Exchange.asmx/WSSecurity", env(""), "")
	}
	for i := range 12 {
		post("/EWS/Exchange.asmx", env(""), "svc-"+string(rune('a'+i%3)))
	}
	lines := out.take()
	if n := count(lines, "delegation token refused"); n != 2 {
		t.Errorf("%d lines of refused tokens for two causes, want 2:\n%s", n, strings.Join(lines, "\n"))
	}
	if n := count(lines, "authentication failed"); n != 1 {
		t.Errorf("%d lines of failed sign-ins, want 1:\n%s", n, strings.Join(lines, "\n"))
	}
	clock.Add(10 * time.Second)
	quiet.Flush(context.Background())
	lines = out.take()
	for want, n := range map[string]int{
		`msg="delegation token refused … and 39 more in the last 10s" cause=`:                                                 2,
		`msg="delegation token refused … and 39 more in the last 10s" cause="federation: no delegation token in the request"`: 1,
		`msg="authentication failed … and `:                                                                                   1,
	} {
		if count(lines, want) != n {
			t.Errorf("not %d lines %s in\n%s", n, want, strings.Join(lines, "\n"))
		}
	}
}

// Failed TLS handshakes are one kind, whoever fails them.
func TestHandshakeFailuresDoNotFloodTheLog(t *testing.T) {
	var out syncBuffer
	clock := &testClock{now: time.Now()}
	quiet := server.Quiet(slog.New(slog.NewTextHandler(&out, nil)), clock.Now)
	srv := httptest.NewUnstartedServer(http.NotFoundHandler())
	srv.Config = server.NewHTTPServer(http.NotFoundHandler(), slog.New(quiet))
	srv.StartTLS()
	defer srv.Close()
	for range 25 {
		c, err := net.Dial("tcp", srv.Listener.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		c.Write([]byte{0x15, 0x03, 0x01, 0x00, 0x02, 0x02, 0x28}) // a fatal handshake_failure alert
		io.Copy(io.Discard, c)                                    // the server closes after logging
		c.Close()
	}
	if _, err := tls.Dial("tcp", srv.Listener.Addr().String(), &tls.Config{InsecureSkipVerify: true}); err != nil {
		t.Fatalf("a good handshake: %v", err)
	}
	lines := out.take()
	if n := count(lines, "TLS handshake failed"); n != 1 || !strings.Contains(lines[0], "remote=127.0.0.1:") {
		t.Fatalf("%d lines, want 1:\n%s", n, strings.Join(lines, "\n"))
	}
	clock.Add(10 * time.Second)
	quiet.Flush(context.Background())
	if lines := out.take(); count(lines, `msg="TLS handshake failed … and 24 more in the last 10s"`) != 1 {
		t.Errorf("count:\n%s", strings.Join(lines, "\n"))
	}
}

// Without public_url, a forged Host header appears in no Autodiscover
// answer the server gives: the URLs name the address the request arrived
// at (the demo's loopback listener).
func TestForgedHostNotEchoed(t *testing.T) {
	srv := demoServer(t)
	get := func(method, path, body, host string) string {
		t.Helper()
		req, _ := http.NewRequest(method, srv.URL+path, strings.NewReader(body))
		req.Host = host
		req.SetBasicAuth("svc-trust", "router-test-secret")
		req.Header.Set("Content-Type", "text/xml; charset=utf-8")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return string(b)
	}
	pox := `<Autodiscover xmlns="http://schemas.microsoft.com/exchange/autodiscover/outlook/requestschema/2006"><Request><EMailAddress>alice@contoso.example</EMailAddress><AcceptableResponseSchema>http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a</AcceptableResponseSchema></Request></Autodiscover>`
	ours := srv.URL + "/EWS/Exchange.asmx"
	for _, host := range []string{"evil.example", "evil.example:" + strings.Split(srv.Listener.Addr().String(), ":")[1], strings.TrimPrefix(srv.URL, "http://")} {
		for name, body := range map[string]string{
			"POX":  get("POST", "/autodiscover/autodiscover.xml", pox, host),
			"JSON": get("GET", "/autodiscover/autodiscover.json/v1.0/alice@contoso.example?Protocol=EWS", "", host),
		} {
			if strings.Contains(body, "evil") || !strings.Contains(body, ours) {
				t.Errorf("Host %s, %s: want %s and no forged host in\n%s", host, name, ours, body)
			}
		}
	}
}
