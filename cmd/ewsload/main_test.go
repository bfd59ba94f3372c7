package main

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
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
