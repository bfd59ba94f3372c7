package conformance

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The recording proxy passes exchanges on with the client's host, and
// records each with a plain body though the client accepts gzip.
func TestRecorderProxy(t *testing.T) {
	var host string
	upstream := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		host = r.Host
		availability("Busy").ServeHTTP(w, r)
	}))
	defer upstream.Close()
	u, _ := url.Parse(upstream.URL)
	corpus := t.TempDir()
	proxy := httptest.NewServer((&Recorder{Dir: corpus, Source: "test"}).Proxy(u))
	defer proxy.Close()

	req, _ := http.NewRequest("POST", proxy.URL+"/EWS/Exchange.asmx", strings.NewReader(ask("alice@contoso.example")))
	req.Host = "mail.contoso.example"
	req.SetBasicAuth("svc", "secret")
	req.Header.Set("Content-Type", "text/xml; charset=utf-8")
	req.Header.Set("Accept-Encoding", "gzip")
	resp, err := http.DefaultTransport.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || host != "mail.contoso.example" {
		t.Errorf("upstream saw host %q; answered %d", host, resp.StatusCode)
	}
	cases, err := Load(corpus)
	if err != nil || len(cases) != 1 {
		t.Fatalf("recorded %d cases, %v", len(cases), err)
	}
	if c := cases[0]; c.Request.Path != "/EWS/Exchange.asmx" || !strings.Contains(string(c.ResponseBody), "<") {
		t.Errorf("recorded case: %s %q", c.Request.Path, c.ResponseBody)
	}
}

func TestWriteJUnitFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "junit.xml")
	results := []Result{{Case: "a", Outcome: Equal}, {Case: "b", Outcome: Differ}}
	if err := WriteJUnitFile(path, "suite", results); err != nil {
		t.Fatal(err)
	}
	if data, _ := os.ReadFile(path); !strings.Contains(string(data), `failures="1"`) || !strings.Contains(string(data), `name="suite"`) {
		t.Errorf("report:\n%s", data)
	}
	if err := WriteJUnitFile(filepath.Join(t.TempDir(), "missing", "junit.xml"), "suite", results); err == nil {
		t.Error("WriteJUnitFile into a missing directory succeeded")
	}
}
