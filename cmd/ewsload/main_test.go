package main

import (
	"bytes"
	"crypto/x509"
	"encoding/pem"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/calfed/calfed/certs"
	"github.com/calfed/calfed/federation"
	"github.com/calfed/calfed/internal/identity"
	"github.com/calfed/calfed/sts"
)

func TestRefusesNonLoopbackTargets(t *testing.T) {
	for _, u := range []string{"http://10.0.0.1/EWS/Exchange.asmx", "http://192.168.1.1:8080/", "https://203.0.113.9/"} {
		if err := checkLoopback(u); err == nil {
			t.Errorf("checkLoopback(%s) accepted a remote target", u)
		}
	}
	for _, u := range []string{"http://127.0.0.1:8080/EWS/Exchange.asmx", "http://[::1]:8080/", "http://localhost:1/"} {
		if err := checkLoopback(u); err != nil {
			t.Errorf("checkLoopback(%s) = %v", u, err)
		}
	}
}

func TestLoadCountsAndStops(t *testing.T) {
	var got int
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if u, p, _ := r.BasicAuth(); u != "u" || p != "s" || !strings.Contains(r.Header.Get("Content-Type"), "text/xml") {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		got++
		w.Write([]byte("<ok/>"))
	}))
	defer srv.Close()
	var out, errb bytes.Buffer
	code := run([]string{"-url", srv.URL, "-user", "u", "-secret", "s", "-requests", "50", "-c", "1", "-warmup", "1ms", "-duration", "10s"}, &out, &errb)
	if code != 0 || !strings.Contains(out.String(), "requests   50 ") || !strings.Contains(out.String(), "failed     0") {
		t.Fatalf("exit %d\n%s%s", code, out.String(), errb.String())
	}
	out.Reset()
	if code := run([]string{"-url", srv.URL, "-user", "u", "-secret", "wrong", "-requests", "5", "-warmup", "1ms"}, &out, &errb); code != 1 {
		t.Errorf("wrong secret: exit %d", code)
	}
}

// With -token-sts every request carries a token of its own, valid for the
// organisation it names, and no Basic credentials.
func TestLoadWithFreshTokens(t *testing.T) {
	dir := t.TempDir()
	ours, err := certs.Generate("Federation contoso", time.Now().Add(-time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	pemData, _ := ours.EncodePEM()
	block, _ := pem.Decode(pemData) // the certificate alone, as calfed trust certificate export writes it
	os.WriteFile(filepath.Join(dir, "contoso.pem"), pem.EncodeToMemory(block), 0o644)
	stsConfig := filepath.Join(dir, "sts.yaml")
	os.WriteFile(stsConfig, []byte("organizations:\n  - {name: contoso, application_uri: FYDIBOHF25SPDLT.contoso.example, domains: [contoso.example], certificate: contoso.pem}\n"), 0o644)
	cfg, _, err := sts.LoadConfig(stsConfig)
	if err != nil {
		t.Fatal(err)
	}
	signer, _, err := sts.Signers(t.Context(), cfg.Keys())
	if err != nil {
		t.Fatal(err)
	}
	v := &federation.Validator{Trust: func() *federation.Trust {
		return &federation.Trust{Keys: keys{ours}, Issuers: []*x509.Certificate{signer.Cert}, ApplicationURI: "FYDIBOHF25SPDLT.contoso.example"}
	}}
	var mu sync.Mutex
	ids := map[string]bool{}
	h := (&federation.Guard{Validator: v, Offer: federation.OfferAutodiscover, Refuse: federation.RefuseAutodiscover}).Wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, _ := identity.FromContext(r.Context())
		mu.Lock()
		ids[c.TokenID] = true
		mu.Unlock()
		if _, _, ok := r.BasicAuth(); ok || c.Email != "someone@partner.example" {
			w.WriteHeader(http.StatusBadRequest)
		}
	}))
	srv := httptest.NewServer(h)
	defer srv.Close()
	var out, errb bytes.Buffer
	code := run([]string{"-url", srv.URL + "/autodiscover/autodiscover.svc/WSSecurity", "-token-sts", stsConfig, "-requests", "20", "-c", "2", "-warmup", "1ms", "-duration", "30s", "-pid", strconv.Itoa(os.Getpid())}, &out, &errb)
	if code != 0 || !strings.Contains(out.String(), "requests   20 ") || !strings.Contains(out.String(), "a fresh MSExchange.Autodiscover token each") || !strings.Contains(out.String(), "server RSS before") {
		t.Fatalf("exit %d\n%s%s", code, out.String(), errb.String())
	}
	if len(ids) < 20 {
		t.Errorf("%d distinct tokens for at least 20 requests", len(ids))
	}
	if code := run([]string{"-url", srv.URL + "/autodiscover/autodiscover.svc/WSSecurity", "-token-sts", stsConfig, "-token-org", "fabrikam"}, &out, &errb); code != 2 || !strings.Contains(errb.String(), `no organisation "fabrikam"`) {
		t.Errorf("an unknown organisation: exit %d %s", code, errb.String())
	}
}

type keys []*certs.Certificate

func (k keys) ForKeyIdentifier(ski []byte) (*certs.Certificate, bool) {
	for _, c := range k {
		if bytes.Equal(c.SKI(), ski) {
			return c, true
		}
	}
	return nil, false
}

// With -floor the same load runs against the server and against an echo
// server answering with the server's bytes, and both are reported.
func TestLoadAgainstTheEchoFloor(t *testing.T) {
	var got int
	var mu sync.Mutex
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if u, p, _ := r.BasicAuth(); u != "u" || p != "s" {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		mu.Lock()
		got++
		mu.Unlock()
		w.Header().Set("Content-Type", "text/xml; charset=utf-8")
		w.Write([]byte("<answer>" + strings.Repeat("x", 5000) + "</answer>"))
	}))
	defer srv.Close()
	var out, errb bytes.Buffer
	// The server under test is this process: -pid samples it.
	code := run([]string{"-url", srv.URL, "-user", "u", "-secret", "s", "-requests", "40", "-c", "2", "-warmup", "1ms", "-duration", "10s", "-floor",
		"-pid", strconv.Itoa(os.Getpid())}, &out, &errb)
	if code != 0 {
		t.Fatalf("exit %d\n%s%s", code, out.String(), errb.String())
	}
	for _, want := range []string{"server " + srv.URL + " (load average ", "echo floor http://127.0.0.1:", "5017-byte answer", "floor/server throughput",
		"µs a request"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
	// The floor is a process of its own, sampled as the server is.
	if strings.Count(out.String(), "server RSS before") != 2 {
		t.Errorf("want the floor's process sampled too:\n%s", out.String())
	}
	if strings.Count(out.String(), "requests   40 ") != 2 {
		t.Errorf("want 40 requests to each:\n%s", out.String())
	}
	mu.Lock()
	defer mu.Unlock()
	if got < 41 {
		t.Errorf("the server answered %d requests, want the first, the warm-up and the 40 measured", got)
	}
}
