package doctor

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// What answers a message without a token at a /WSSecurity path: the
// server's own refusals pass, whatever stands in front of it fails with
// what it answered.
func TestProbe(t *testing.T) {
	for _, tt := range []struct {
		name    string
		handler http.HandlerFunc
		want    Status
		error   string
	}{
		{"EWS fault", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/xml; charset=utf-8")
			w.WriteHeader(500)
			w.Write([]byte(`<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body><s:Fault><faultcode>s:Client</faultcode></s:Fault></s:Body></s:Envelope>`))
		}, Pass, ""},
		{"Autodiscover 401", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(401) }, Pass, ""},
		{"HTML sign-in page", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/html")
			w.Write([]byte("<!DOCTYPE html><html><head><title>Sign in</title></head></html>"))
		}, Fail, `answered an HTML page titled "Sign in" (HTTP 200, Content-Type text/html)`},
		{"HTML without a type", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/octet-stream")
			w.WriteHeader(401)
			w.Write([]byte("  <html><body>no</body></html>"))
		}, Fail, "answered an HTML page (HTTP 401"},
		{"redirect", func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, "https://login.example/adfs", http.StatusFound)
		}, Fail, "redirected (HTTP 302) to https://login.example/adfs"},
		{"proxy", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Proxy-Authenticate", "Negotiate")
			w.WriteHeader(407)
		}, Fail, "a proxy asks for its own credentials (HTTP 407, Negotiate)"},
		{"200 XML that is no fault", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/xml")
			w.Write([]byte(`<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body/></s:Envelope>`))
		}, Fail, "answered HTTP 200"},
		{"401 with a text body", func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(401)
			w.Write([]byte("denied"))
		}, Pass, ""},
		{"Windows sign-in", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Add("WWW-Authenticate", "Negotiate")
			w.Header().Add("WWW-Authenticate", "NTLM")
			w.WriteHeader(401)
		}, Fail, "asks for Windows sign-in (HTTP 401, WWW-Authenticate Negotiate, NTLM)"},
		{"403", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(403) }, Fail, "answered HTTP 403"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewServer(tt.handler)
			defer srv.Close()
			s := newSteps("probe")
			(&Checker{}).probe(context.Background(), s, StepEWSWSSecurity, srv.URL+"/EWS/Exchange.asmx/WSSecurity")
			got, _ := s.r.Step(StepEWSWSSecurity)
			if got.Status != tt.want || !strings.Contains(got.Error, tt.error) {
				t.Errorf("probe = %+v, want %s with %q", got, tt.want, tt.error)
			}
			if tt.want == Fail && (s.r.Passed || !strings.Contains(got.Fix, "without pre-authentication")) {
				t.Errorf("a failed probe: passed %v, fix %q", s.r.Passed, got.Fix)
			}
		})
	}
}

// The TLS checks: a certificate chained to a trusted root and naming the
// host passes; one for another name, one from an unknown authority, and
// a server that speaks only TLS 1.1 fail, each saying so.
func TestCheckTLS(t *testing.T) {
	srv := httptest.NewTLSServer(http.NotFoundHandler()) // a certificate for 127.0.0.1 and example.com
	defer srv.Close()
	roots := x509.NewCertPool()
	roots.AddCert(srv.Certificate())
	run := func(c *Checker, url string) (Result, Result) {
		s := newSteps("tls")
		c.checkTLS(context.Background(), s, "EWS", url)
		v, _ := s.r.Step(StepTLSVersion + " (EWS)")
		cert, _ := s.r.Step(StepTLSCertificate + " (EWS)")
		return v, cert
	}
	v, cert := run(&Checker{Roots: roots}, srv.URL)
	if v.Status != Pass || !strings.Contains(v.Detail, "TLS 1.3") || cert.Status != Pass || !strings.Contains(cert.Detail, "127.0.0.1") {
		t.Errorf("a good server: %+v %+v", v, cert)
	}
	if _, cert := run(&Checker{}, srv.URL); cert.Status != Fail || !strings.Contains(cert.Error, "certificate signed by unknown authority") || !strings.Contains(cert.Fix, "public certification authority") {
		t.Errorf("an unknown authority: %+v", cert)
	}
	// The same server by a name its certificate does not have.
	wrong := strings.Replace(srv.URL, "127.0.0.1", "localhost", 1)
	if _, cert := run(&Checker{Roots: roots}, wrong); cert.Status != Fail || !strings.Contains(cert.Error, "certificate is valid for") || !strings.Contains(cert.Fix, "include localhost") {
		t.Errorf("a wrong name: %+v", cert)
	}
	if v, cert := run(&Checker{Roots: roots}, "http://127.0.0.1/"); v.Status != Fail || cert.Status != Fail || !strings.Contains(v.Error, "is not an https:// URL") {
		t.Errorf("plain HTTP: %+v %+v", v, cert)
	}

	old := httptest.NewUnstartedServer(http.NotFoundHandler())
	old.TLS = &tls.Config{MaxVersion: tls.VersionTLS11, MinVersion: tls.VersionTLS10}
	old.StartTLS()
	defer old.Close()
	roots.AddCert(old.Certificate())
	if v, _ := run(&Checker{Roots: roots}, old.URL); v.Status != Fail || !strings.Contains(v.Error, "negotiated TLS 1.1") {
		t.Errorf("TLS 1.1 only: %+v", v)
	}
}

func TestReportTable(t *testing.T) {
	s := newSteps("doctor b.example")
	s.pass("one", "fine")
	s.fail("two", errTest("broken\nacross lines"), "mend it")
	s.skip("three", "needs two")
	var b strings.Builder
	s.r.WriteTable(&b)
	want := "RESULT\tSTEP\tDETAIL\nPASS\tone\tfine\nFAIL\ttwo\tbroken across lines\n\t\tfix: mend it\nSKIP\tthree\tneeds two\ndoctor b.example: 1 of 3 steps failed\n"
	if b.String() != want || s.r.Passed {
		t.Errorf("WriteTable =\n%s\nwant\n%s", b.String(), want)
	}
}

type errTest string

func (e errTest) Error() string { return string(e) }
