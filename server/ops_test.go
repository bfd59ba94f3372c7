package server

import (
	"bufio"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"log/slog"
	"math/big"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/calfed/calfed/calendar"
	"github.com/calfed/calfed/config"
	"github.com/calfed/calfed/internal/demo"
	"github.com/calfed/calfed/orgrel"
)

const demoSecret = "demo-secret-for-tests-0123"

// opsServer is the demo, started, with its public endpoints and admin
// listener on loopback; stop ends it and waits until its access log is
// written.
type opsServer struct {
	s             *Server
	public, admin *httptest.Server
	stop          func()
}

func startOps(t *testing.T) *opsServer {
	t.Helper()
	t.Setenv(demo.SecretEnv, demoSecret)
	d, err := demo.New("2026-03-23")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	s, err := Open(t.Context(), d.Config, Options{Demo: d})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	ctx, cancel := context.WithCancel(t.Context())
	done := s.Start(ctx)
	mux := http.NewServeMux()
	for _, rt := range s.Routes() {
		mux.Handle(rt.Path, rt.Handler)
	}
	o := &opsServer{s: s, public: httptest.NewServer(Public(mux, nil)), admin: httptest.NewServer(s.AdminHandler(nil))}
	o.stop = func() {
		o.public.Close()
		o.admin.Close()
		cancel()
		<-done
	}
	t.Cleanup(func() { o.stop() })
	return o
}

// gua is a GetUserAvailability request for the mailboxes in the demo's
// week, DetailedMerged.
func gua(mailboxes ...string) string {
	var b strings.Builder
	for _, m := range mailboxes {
		fmt.Fprintf(&b, `<t:MailboxData><t:Email><t:Address>%s</t:Address></t:Email><t:AttendeeType>Required</t:AttendeeType></t:MailboxData>`, m)
	}
	return `<?xml version="1.0" encoding="utf-8"?>
<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/" xmlns:t="http://schemas.microsoft.com/exchange/services/2006/types">
<soap:Header><t:RequestServerVersion Version="Exchange2013"/></soap:Header>
<soap:Body><GetUserAvailabilityRequest xmlns="http://schemas.microsoft.com/exchange/services/2006/messages">
<t:TimeZone><t:Bias>0</t:Bias><t:StandardTime><t:Bias>0</t:Bias><t:Time>02:00:00</t:Time><t:DayOrder>5</t:DayOrder><t:Month>10</t:Month><t:DayOfWeek>Sunday</t:DayOfWeek></t:StandardTime><t:DaylightTime><t:Bias>-60</t:Bias><t:Time>01:00:00</t:Time><t:DayOrder>5</t:DayOrder><t:Month>3</t:Month><t:DayOfWeek>Sunday</t:DayOfWeek></t:DaylightTime></t:TimeZone>
<MailboxDataArray>` + b.String() + `</MailboxDataArray>
<t:FreeBusyViewOptions><t:TimeWindow><t:StartTime>2026-03-23T00:00:00</t:StartTime><t:EndTime>2026-03-24T00:00:00</t:EndTime></t:TimeWindow>
<t:MergedFreeBusyIntervalInMinutes>30</t:MergedFreeBusyIntervalInMinutes><t:RequestedView>DetailedMerged</t:RequestedView></t:FreeBusyViewOptions>
</GetUserAvailabilityRequest></soap:Body></soap:Envelope>`
}

func (o *opsServer) post(t *testing.T, path, user, secret, body string) int {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, o.public.URL+path, strings.NewReader(body))
	req.Header.Set("Content-Type", "text/xml; charset=utf-8")
	if user != "" {
		req.SetBasicAuth(user, secret)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}

// scrape reads the admin listener's /metrics into "name{labels}" → value.
func scrape(t *testing.T, url string) map[string]string {
	t.Helper()
	resp, err := http.Get(url + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /metrics = %s", resp.Status)
	}
	out := map[string]string{}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		out[line[:i]] = line[i+1:]
	}
	return out
}

// After known traffic, the metrics count it by partner, operation,
// outcome and refusal reason, and the access log holds one record per
// partner request naming the relationship, the account, each mailbox and
// the view granted.
func TestMetricsAndAccessLogAfterTraffic(t *testing.T) {
	o := startOps(t)
	// Trust sees LimitedDetails of staff who opted in (Alice), nothing of
	// Grace (opted out) or the boardroom (not staff): partial.
	if code := o.post(t, "/EWS/Exchange.asmx", "svc-trust", demoSecret, gua("alice@contoso.example", "grace@contoso.example", "boardroom@contoso.example")); code != 200 {
		t.Fatalf("svc-trust GetUserAvailability = %d", code)
	}
	// Partner sees availability only, of everyone but Grace: ok, twice.
	for range 2 {
		if code := o.post(t, "/EWS/Exchange.asmx", "svc-partner", demoSecret, gua("Bob@Contoso.example")); code != 200 {
			t.Fatalf("svc-partner GetUserAvailability = %d", code)
		}
	}
	// Autodiscover for Grace, whom Partner's relationship covers.
	if code := o.post(t, "/autodiscover/autodiscover.xml", "svc-partner", demoSecret, `<Autodiscover xmlns="http://schemas.microsoft.com/exchange/autodiscover/outlook/requestschema/2006"><Request><EMailAddress>grace@contoso.example</EMailAddress><AcceptableResponseSchema>http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a</AcceptableResponseSchema></Request></Autodiscover>`); code != 200 {
		t.Fatalf("svc-partner Autodiscover = %d", code)
	}
	// MailTips for Alice and someone not ours, as Trust (level All).
	if code := o.post(t, "/EWS/Exchange.asmx", "svc-trust", demoSecret, `<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/" xmlns:t="http://schemas.microsoft.com/exchange/services/2006/types"><soap:Header><t:RequestServerVersion Version="Exchange2010"/></soap:Header><soap:Body><GetMailTips xmlns="http://schemas.microsoft.com/exchange/services/2006/messages"><SendingAs><t:EmailAddress>x@trust.example</t:EmailAddress></SendingAs><Recipients><t:Mailbox><t:EmailAddress>alice@contoso.example</t:EmailAddress></t:Mailbox><t:Mailbox><t:EmailAddress>nobody@contoso.example</t:EmailAddress></t:Mailbox></Recipients><MailTipsRequested>All</MailTipsRequested></GetMailTips></soap:Body></soap:Envelope>`); code != 200 {
		t.Fatalf("svc-trust GetMailTips = %d", code)
	}
	// A request EWS refuses with a fault: no mailboxes.
	if code := o.post(t, "/EWS/Exchange.asmx", "svc-partner", demoSecret, gua()); code != 500 {
		t.Fatalf("svc-partner GetUserAvailability of nobody = %d, want a fault", code)
	}
	// Refusals: a wrong secret, no credentials, a token endpoint without a token.
	if code := o.post(t, "/EWS/Exchange.asmx", "svc-partner", "wrong-secret-000000", gua("bob@contoso.example")); code != 401 {
		t.Errorf("a wrong secret = %d, want 401", code)
	}
	if code := o.post(t, "/EWS/Exchange.asmx", "", "", gua("bob@contoso.example")); code != 401 {
		t.Errorf("no credentials = %d, want 401", code)
	}
	o.post(t, "/EWS/Exchange.asmx/WSSecurity", "", "", gua("bob@contoso.example"))

	// A TLS certificate file, read at each scrape.
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "tls.crt"), expiredPEM(t), 0o644)
	o.s.Config.Dir, o.s.Config.TLS.CertFile = dir, "tls.crt"
	expiry, err := certificateFileExpiry(filepath.Join(dir, "tls.crt"))
	if err != nil {
		t.Fatal(err)
	}

	// A domain proof checked.
	if err := o.s.DB.RecordDomainCheck(t.Context(), orgrel.DomainCheck{Domain: "contoso.example", Kind: orgrel.DomainOurs, Status: "pass",
		Checked: time.Unix(1796000000, 0)}); err != nil {
		t.Fatal(err)
	}
	// A change to the relationships, put in force by the running server.
	_, before := o.s.Policy.Confirmed()
	if _, err := o.s.DB.CreateRelationship(t.Context(), "test", orgrel.Relationship{Name: "Westshire", Domains: []string{"westshire.example"}}); err != nil {
		t.Fatal(err)
	}
	_, change := o.s.Policy.Confirmed()
	for deadline := time.Now().Add(30 * time.Second); change == before && time.Now().Before(deadline); _, change = o.s.Policy.Confirmed() {
		time.Sleep(10 * time.Millisecond) // polling the policy, not timing anything
	}
	if change == before {
		t.Fatal("the running server never applied the change")
	}

	m := scrape(t, o.admin.URL)
	for series, want := range map[string]string{
		`calfed_partner_requests_total{operation="GetUserAvailability",outcome="partial",partner="Trust"}`:  "1",
		`calfed_partner_requests_total{operation="GetUserAvailability",outcome="ok",partner="Partner"}`:     "2",
		`calfed_partner_requests_total{operation="Autodiscover",outcome="ok",partner="Partner"}`:            "1",
		`calfed_partner_requests_total{operation="GetUserAvailability",outcome="failed",partner="Partner"}`: "1",
		`calfed_partner_requests_total{operation="GetMailTips",outcome="partial",partner="Trust"}`:          "1",
		`calfed_partner_request_duration_seconds_count{operation="GetUserAvailability",outcome="ok"}`:       "2",
		`calfed_partner_request_duration_seconds_count{operation="GetUserAvailability",outcome="partial"}`:  "1",
		`calfed_refusals_total{kind="login",reason="invalid"}`:                                              "1",
		`calfed_refusals_total{kind="login",reason="no_credentials"}`:                                       "1",
		`calfed_refusals_total{kind="token",reason="federation: no delegation token in the request"}`:       "1",
		`calfed_calendar_reload_failures_total{mailbox="alice@contoso.example"}`:                            "0",
		`calfed_calendar_available{mailbox="alice@contoso.example"}`:                                        "1",
		`calfed_certificate_expiry_timestamp_seconds{slot="",use="tls"}`:                                    fmt.Sprint(expiry.Unix()),
		`calfed_metrics_source_up{source="certificates"}`:                                                   "1",
		`calfed_policy_change`:                   fmt.Sprint(change),
		`calfed_policy_change_lag_seconds_count`: "1",
		`calfed_domain_proof_status{domain="contoso.example",kind="ours",status="pass"}`:      "1",
		`calfed_domain_proof_checked_timestamp_seconds{domain="contoso.example",kind="ours"}`: "1796000000",
		`calfed_metrics_source_up{source="domain_proofs"}`:                                    "1",
		`calfed_policy_age_seconds`: "",
		`calfed_calendar_reload_age_seconds{mailbox="alice@contoso.example"}`: "",
	} {
		got, ok := m[series]
		switch {
		case !ok:
			t.Errorf("metrics lack %s", series)
		case want != "" && !sameNumber(got, want):
			t.Errorf("%s = %s, want %s", series, got, want)
		}
	}
	if t.Failed() {
		for k, v := range m {
			if strings.HasPrefix(k, "calfed_refusals") {
				t.Logf("%s %s", k, v)
			}
		}
	}

	o.stop() // the access log's records are written as the server stops
	all, err := o.s.DB.AccessLog(t.Context(), orgrel.AccessQuery{})
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != 6 {
		t.Fatalf("access log = %d entries, want 6 (the refused requests are no partner's)", len(all))
	}
	if f := all[5]; f.Outcome != orgrel.AccessFailed || f.Status != 500 || !strings.HasPrefix(f.Reason, "ErrorMailboxDataArrayEmpty: ") {
		t.Errorf("the faulted request's entry = %+v; want failed with its EWS code", f)
	}
	if mt := all[4]; mt.Operation != "GetMailTips" || fmt.Sprint(mt.Mailbox) != "[{alice@contoso.example MailTipsAll OK} {nobody@contoso.example None NotFound}]" {
		t.Errorf("GetMailTips entry = %+v", mt)
	}
	if ad := all[3]; ad.Operation != "Autodiscover" || fmt.Sprint(ad.Mailbox) != "[{grace@contoso.example Settings OK}]" {
		t.Errorf("Autodiscover entry = %+v", ad)
	}
	e := all[0]
	want := []orgrel.MailboxAccess{
		{Address: "alice@contoso.example", View: "DetailedMerged", Outcome: "OK"},
		{Address: "boardroom@contoso.example", View: "None", Outcome: "NoAccess"},
		{Address: "grace@contoso.example", View: "None", Outcome: "NoAccess"},
	}
	if e.Relationship != "Trust" || e.Domain != "trust.example" || e.Account != "svc-trust" || e.Operation != "GetUserAvailability" ||
		e.Outcome != orgrel.AccessPartial || e.Status != 200 || e.Server != o.s.Policy.ID() || fmt.Sprint(e.Mailbox) != fmt.Sprint(want) {
		t.Errorf("first entry = %+v\nwant Trust/svc-trust partial with %v", e, want)
	}
	if bob, _ := o.s.DB.AccessLog(t.Context(), orgrel.AccessQuery{Mailbox: "bob@contoso.example"}); len(bob) != 2 ||
		bob[0].Mailbox[0].View != "FreeBusyMerged" || bob[0].Relationship != "Partner" || bob[0].Outcome != orgrel.AccessOK {
		t.Errorf("bob's entries = %+v; want two of Partner's, FreeBusyMerged", bob)
	}
}

// /healthz answers while the process is up; /readyz lists its checks and
// answers 503 once the server drains.
func TestHealth(t *testing.T) {
	o := startOps(t)
	get := func(path string) (int, string) {
		resp, err := http.Get(o.admin.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if code, body := get("/healthz"); code != 200 || body != "ok\n" {
		t.Errorf("/healthz = %d %q", code, body)
	}
	// Calendars load behind the listeners: ready once they have.
	select {
	case <-o.s.Directory.Loaded():
	case <-time.After(time.Minute):
		t.Fatal("the calendars did not load within a minute")
	}
	code, body := get("/readyz")
	var rd Readiness
	if err := json.Unmarshal([]byte(body), &rd); err != nil || code != 200 || !rd.Ready {
		t.Fatalf("/readyz = %d %s (%v)", code, body, err)
	}
	names := ""
	for _, c := range rd.Checks {
		names += c.Name + " "
	}
	if names != "policy calendars store certificates " {
		t.Errorf("/readyz checks = %q", names)
	}
	// Not on the public listener unless health.public.
	if resp, err := http.Get(o.public.URL + "/readyz"); err != nil || resp.StatusCode != 404 {
		t.Errorf("public /readyz without health.public = %v, %v; want 404", resp.StatusCode, err)
	}
	o.s.publicHealth.Store(true)
	if resp, err := http.Get(o.public.URL + "/Healthz"); err != nil || resp.StatusCode != 200 {
		t.Errorf("public /healthz with health.public = %v, %v; want 200", resp.StatusCode, err)
	}
	// Outsiders get the verdict, not the checks.
	if resp, err := http.Get(o.public.URL + "/readyz"); err != nil || resp.StatusCode != 200 {
		t.Errorf("public /readyz with health.public = %v, %v; want 200", resp.StatusCode, err)
	} else {
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if string(b) != `{"ready":true}`+"\n" {
			t.Errorf("public /readyz = %s; want the verdict alone", b)
		}
	}
	// The profiler is off unless admin.pprof.
	if code, _ := get("/debug/pprof/"); code != 404 {
		t.Errorf("/debug/pprof/ off = %d, want 404", code)
	}
	o.s.pprof.Store(true)
	if code, body := get("/debug/pprof/cmdline"); code != 200 || body == "" {
		t.Errorf("/debug/pprof/cmdline on = %d %q", code, body)
	}
	o.s.Drain()
	code, body = get("/readyz")
	if code != 503 || !strings.Contains(body, `"name":"shutdown","ok":false`) {
		t.Errorf("/readyz while draining = %d %s", code, body)
	}
	if code, _ := get("/healthz"); code != 200 {
		t.Errorf("/healthz while draining = %d, want 200: the process is up", code)
	}
}

// Readiness fails with a store that does not answer, a policy too old,
// or an expired certificate in use.
func TestReadyFailures(t *testing.T) {
	o := startOps(t)
	o.s.DB.Close()
	rd := o.s.Ready(t.Context())
	if rd.Ready {
		t.Fatalf("ready with the store closed: %+v", rd)
	}
	for _, c := range rd.Checks {
		if c.Name == "store" && c.OK {
			t.Errorf("store check = %+v with the store closed", c)
		}
	}
	// An expired TLS certificate file.
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "tls.crt"), expiredPEM(t), 0o644)
	o.s.Config.Dir = dir
	o.s.Config.TLS.CertFile = "tls.crt"
	cs, _ := o.s.certificates(t.Context())
	var found bool
	for _, c := range cs {
		if c.Use == "tls" {
			found = !c.NotAfter.After(time.Now())
		}
	}
	if !found {
		t.Errorf("certificates() = %+v; want the expired TLS certificate", cs)
	}
	rd = o.s.Ready(t.Context())
	for _, c := range rd.Checks {
		if c.Name == "certificates" && (c.OK || !strings.Contains(c.Detail, "tls certificate expired")) {
			t.Errorf("certificates check = %+v with an expired TLS certificate", c)
		}
	}
}

// Reload applies the live settings and names the others, and refuses an
// invalid file without changing anything.
func TestReload(t *testing.T) {
	o := startOps(t)
	o.s.level = new(slog.LevelVar)
	next := *o.s.Config
	next.Log.Level = "debug"
	next.AccessLog.Retention = config.Duration(48 * time.Hour)
	next.Admin.Pprof = true
	next.Limits.MaxMailboxes = 7
	next.ServerName = "FB02"
	applied, restart, err := o.s.Reload(t.Context(), &next)
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(applied) != "[admin.pprof log.level access_log.retention]" || fmt.Sprint(restart) != "[server_name limits.max_mailboxes]" {
		t.Errorf("Reload = applied %v, restart %v", applied, restart)
	}
	if o.s.Access.Retention() != 48*time.Hour || !o.s.pprof.Load() || o.s.level.Level() != slog.LevelDebug {
		t.Errorf("after Reload: retention %v, pprof %v, level %v", o.s.Access.Retention(), o.s.pprof.Load(), o.s.level.Level())
	}
	bad := next
	bad.Log.Format = "xml"
	bad.Admin.Pprof = false
	if _, _, err := o.s.Reload(t.Context(), &bad); err == nil || !strings.Contains(err.Error(), "log.format") {
		t.Errorf("Reload(invalid) = %v; want log.format named", err)
	}
	if !o.s.pprof.Load() {
		t.Error("an invalid configuration changed admin.pprof")
	}
}

// expiredPEM is a self-signed certificate that expired an hour ago.
func expiredPEM(t *testing.T) []byte {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "mail.contoso.example"},
		NotBefore: time.Now().Add(-48 * time.Hour), NotAfter: time.Now().Add(-time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
}

// sameNumber compares two figures of the exposition format as numbers.
func sameNumber(a, b string) bool {
	x, errx := strconv.ParseFloat(a, 64)
	y, erry := strconv.ParseFloat(b, 64)
	return errx == nil && erry == nil && x == y
}

// heldSource is a calendar whose read waits until release is closed.
type heldSource struct{ release chan struct{} }

func (h heldSource) String() string { return "held" }
func (h heldSource) Stamp(ctx context.Context) (string, error) {
	select {
	case <-h.release:
		return "1", nil
	case <-ctx.Done():
		return "", ctx.Err()
	}
}
func (h heldSource) Read(context.Context) ([]calendar.File, error) {
	return []calendar.File{{Name: "held.ics", Data: []byte("BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n")}}, nil
}

// While calendars load in the background, /readyz says how far loading
// is and is not ready; once every one is loaded it is.
func TestReadyWhileCalendarsLoad(t *testing.T) {
	o := startOps(t)
	held := heldSource{release: make(chan struct{})}
	d, err := calendar.NewDirectory(t.Context(), []calendar.Entry{{Mailbox: calendar.Mailbox{Address: "held@contoso.example"}, Source: held}},
		calendar.DirectoryOptions{Background: true})
	if err != nil {
		t.Fatal(err)
	}
	o.s.Directory = d
	check := func() Check {
		for _, c := range o.s.Ready(t.Context()).Checks {
			if c.Name == "calendars" {
				return c
			}
		}
		t.Fatal("no calendars check")
		return Check{}
	}
	if c := check(); c.OK || c.Detail != "loading: 0 of 1 loaded" {
		t.Errorf("while loading: %+v", c)
	}
	close(held.release)
	<-d.Loaded()
	if c := check(); !c.OK || c.Detail != "1 of 1 loaded" {
		t.Errorf("once loaded: %+v", c)
	}
}
