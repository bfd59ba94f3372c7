package conformance

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// availability is a small server: Basic svc/secret, an answer naming the
// mailbox asked for and the server's own URL, as Autodiscover answers do.
func availability(busy string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodGet {
			w.Header().Set("X-SOAP-Enabled", "True")
			return
		}
		if u, p, ok := r.BasicAuth(); !ok || u != "svc" || p != "secret" {
			w.Header().Set("WWW-Authenticate", `Basic realm="x"`)
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		var req struct {
			Mailbox string `xml:"Body>Ask>Mailbox"`
		}
		xml.NewDecoder(r.Body).Decode(&req)
		w.Header().Set("Content-Type", "text/xml; charset=utf-8")
		fmt.Fprintf(w, `<Envelope><Header><ServerVersionInfo Build="%d"/></Header><Body><Answer><Mailbox>%s</Mailbox><Url>http://%s/EWS/Exchange.asmx</Url><FreeBusyView><CalendarEventArray><CalendarEvent><StartTime>2026-03-23T10:00:00</StartTime><BusyType>%s</BusyType></CalendarEvent></CalendarEventArray></FreeBusyView></Answer></Body></Envelope>`,
			time.Now().UnixNano(), req.Mailbox, r.Host, busy)
	})
}

func ask(mailbox string) string {
	return `<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Header><wsse:Security xmlns:wsse="http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd"><EncryptedData/></wsse:Security></s:Header><s:Body><Ask><Mailbox>` + mailbox + `</Mailbox></Ask></s:Body></s:Envelope>`
}

// drive sends a few exchanges through url.
func drive(t *testing.T, url string) {
	t.Helper()
	for _, m := range []string{"alice@contoso.example", "bob@contoso.example"} {
		req, _ := http.NewRequest("POST", url+"/EWS/Exchange.asmx", strings.NewReader(strings.Replace(ask(m), `<EncryptedData/>`, "", 1)))
		req.SetBasicAuth("svc", "secret")
		req.Header.Set("Content-Type", "text/xml; charset=utf-8")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	for _, req := range []*http.Request{
		must(http.NewRequest("GET", url+"/autodiscover/autodiscover.xml", nil)),
		must(http.NewRequest("POST", url+"/EWS/Exchange.asmx", strings.NewReader(strings.Replace(ask("carol@contoso.example"), `<EncryptedData/>`, "", 1)))), // no credentials
	} {
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
}

func must(r *http.Request, err error) *http.Request {
	if err != nil {
		panic(err)
	}
	return r
}

func TestRecordThenReplay(t *testing.T) {
	corpus := t.TempDir()
	rec := &Recorder{Dir: corpus, Source: "test recorder"}
	lower := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { // as calfed's router does
		r.URL.Path = strings.ToLower(r.URL.Path)
		availability("Busy").ServeHTTP(w, r)
	})
	recorded := httptest.NewServer(rec.Wrap(lower))
	drive(t, recorded.URL)
	recorded.Close()

	cases, err := Load(corpus)
	if err != nil || len(cases) != 4 {
		t.Fatalf("Load = %d cases, %v; want 4", len(cases), err)
	}
	for _, c := range cases {
		if err := CheckSecrets(c); err != nil {
			t.Errorf("%s: %v", c.Name, err)
		}
		if st, err := os.Stat(filepath.Join(c.Dir, "response.body")); err == nil && st.Mode().Perm() != 0o600 {
			t.Errorf("%s: answer written with mode %v; it holds calendars", c.Name, st.Mode().Perm())
		}
		if c.Request.Method == "POST" && c.Request.Path != "/EWS/Exchange.asmx" {
			t.Errorf("%s: recorded path %q, sent /EWS/Exchange.asmx", c.Name, c.Request.Path)
		}
		if c.Request.Auth == AuthBasic && c.Request.User != "svc" {
			t.Errorf("%s: recorded user %q", c.Name, c.Request.User)
		}
	}

	// Another server, same behaviour, another port: equal.
	same := httptest.NewServer(availability("Busy"))
	defer same.Close()
	results := Replay(context.Background(), Target{URL: same.URL, Password: "secret"}, cases, 3, nil)
	if s := Summarize(results); s.Equal != 4 {
		t.Fatalf("replay against the same behaviour: %+v\n%s", s, table(results))
	}

	// A server that answers Tentative: the two free/busy cases differ,
	// at the BusyType.
	other := httptest.NewServer(availability("Tentative"))
	defer other.Close()
	results = Replay(context.Background(), Target{URL: other.URL, Password: "secret"}, cases, 1, nil)
	if s := Summarize(results); s.Differ != 2 || s.Equal != 2 {
		t.Fatalf("replay against a changed server: %+v\n%s", s, table(results))
	}
	for _, r := range results {
		if r.Outcome == Differ && (len(r.Differences) != 1 || r.Differences[0].Path != "Envelope/Body/Answer/FreeBusyView/CalendarEventArray/CalendarEvent[1]/BusyType") {
			t.Errorf("%s: %v", r.Case, r.Differences)
		}
	}
	var junit struct {
		Tests    int `xml:"tests,attr"`
		Failures int `xml:"failures,attr"`
		Cases    []struct {
			Name    string    `xml:"name,attr"`
			Failure *struct{} `xml:"failure"`
		} `xml:"testcase"`
	}
	var buf bytes.Buffer
	if err := WriteJUnit(&buf, "t", results); err != nil || xml.Unmarshal(buf.Bytes(), &junit) != nil || junit.Tests != 4 || junit.Failures != 2 {
		t.Errorf("JUnit: %+v %v\n%s", junit, err, buf.String())
	}
	buf.Reset()
	var js struct{ Summary Summary }
	if err := WriteJSON(&buf, results); err != nil || json.Unmarshal(buf.Bytes(), &js) != nil || js.Summary.Differ != 2 {
		t.Errorf("JSON: %+v %v", js, err)
	}

	// Without the password the Basic cases cannot run.
	results = Replay(context.Background(), Target{URL: same.URL}, cases, 1, nil)
	if s := Summarize(results); s.Errors != 2 {
		t.Errorf("no password: %+v", s)
	}
}

// Replaying the corpus through a recorder gives back the same corpus.
func TestReplayThroughARecorderIsLossless(t *testing.T) {
	first := t.TempDir()
	srv := httptest.NewServer((&Recorder{Dir: first}).Wrap(availability("Busy")))
	drive(t, srv.URL)
	srv.Close()
	cases, err := Load(first)
	if err != nil {
		t.Fatal(err)
	}
	second := t.TempDir()
	again := httptest.NewServer((&Recorder{Dir: second}).Wrap(availability("Busy")))
	defer again.Close()
	if s := Summarize(Replay(context.Background(), Target{URL: again.URL, Password: "secret"}, cases, 1, nil)); s.Equal != len(cases) {
		t.Fatalf("replay: %+v", s)
	}
	copies, err := Load(second)
	if err != nil || len(copies) != len(cases) {
		t.Fatalf("recorded copies: %d, %v", len(copies), err)
	}
	byRequest := map[string]*Case{}
	for _, c := range copies {
		byRequest[c.Request.Method+c.Request.Path+string(c.RequestBody)] = c
	}
	for _, c := range cases {
		cp := byRequest[c.Request.Method+c.Request.Path+string(c.RequestBody)]
		if cp == nil {
			t.Errorf("%s: no recorded copy of its request", c.Name)
			continue
		}
		if cp.Request.Auth != c.Request.Auth || cp.Request.User != c.Request.User || fmt.Sprint(cp.Request.Headers) != fmt.Sprint(c.Request.Headers) || cp.Compare != c.Compare {
			t.Errorf("%s: request recorded as %+v, was %+v", c.Name, cp.Request, c.Request)
		}
		diffs, err := Compare(c.ForTarget(again.URL), cp.Response.Status, header(cp.Response.Headers), cp.ResponseBody)
		if err != nil || len(diffs) != 0 {
			t.Errorf("%s: the copy's answer differs: %v %v", c.Name, diffs, err)
		}
	}
}

func header(m map[string]string) http.Header {
	h := http.Header{}
	for k, v := range m {
		h.Set(k, v)
	}
	return h
}

func table(results []Result) string {
	var b bytes.Buffer
	WriteTable(&b, results)
	return b.String()
}

func TestSecretsAreRedactedAndRefused(t *testing.T) {
	base := func() *Case {
		return &Case{Name: "x", Request: Request{Method: "POST", Path: "/EWS/Exchange.asmx", Headers: map[string]string{"Content-Type": "text/xml"}},
			Response: Response{Status: 200}, RequestBody: []byte(ask("a@b.example")), ResponseBody: []byte("<ok/>")}
	}
	c := base()
	c.Request.Headers["Authorization"] = "Basic c3ZjOnNlY3JldA=="
	if err := Save(t.TempDir(), c); err == nil || !strings.Contains(err.Error(), "Authorization") {
		t.Errorf("a case with an Authorization header was saved: %v", err)
	}
	if err := Redact(c); err != nil {
		t.Fatal(err)
	}
	if c.Request.Auth != AuthBasic || c.Request.Headers["Authorization"] != "" || bytes.Contains(c.RequestBody, []byte("Security")) {
		t.Errorf("after Redact: %+v %s", c.Request, c.RequestBody)
	}
	if err := Save(t.TempDir(), c); err != nil {
		t.Errorf("the redacted case: %v", err)
	}

	for name, edit := range map[string]func(*Case){
		"security header":  func(c *Case) {},
		"password element": func(c *Case) { c.RequestBody = []byte(`<a><b:Password xmlns:b="urn:x">hunter2</b:Password></a>`) },
		"basic in a body":  func(c *Case) { c.RequestBody = []byte("GET / HTTP/1.1\r\nAuthorization: Basic c3ZjOnNlY3JldA==\r\n") },
		"token in answer":  func(c *Case) { c.ResponseBody = []byte(`<a><EncryptedData/></a>`); c.RequestBody = nil },
		"cookie answered":  func(c *Case) { c.RequestBody = nil; c.Response.Headers = map[string]string{"Set-Cookie": "s=1"} },
	} {
		c := base()
		edit(c)
		if err := Save(t.TempDir(), c); err == nil || !strings.Contains(err.Error(), "secret") {
			t.Errorf("%s: saved (%v)", name, err)
		}
	}
	// A federated request keeps no token, only how to make a new one.
	c = base()
	if err := Redact(c); err != nil || c.Request.Auth != AuthToken {
		t.Errorf("token request: auth %q, %v", c.Request.Auth, err)
	}
}
