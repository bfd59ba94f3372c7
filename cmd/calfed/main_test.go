package main

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/calfed/calfed/calendar"
	demopkg "github.com/calfed/calfed/internal/demo"
	"github.com/calfed/calfed/server"
)

func TestDemoLoadsCompletely(t *testing.T) {
	for _, week := range []string{"", "2026-03-23", "2026-10-19", "2027-01-04"} {
		demo, err := demopkg.New(week)
		if err != nil {
			t.Fatalf("demo.New(%q): %v", week, err)
		}
		demo.Close()
		b, err := demo.Config.Build()
		if err != nil {
			t.Fatalf("demo config invalid: %v", err)
		}
		dir, err := calendar.NewDirectory(t.Context(), b.Entries, calendar.DirectoryOptions{Now: func() time.Time { return demo.Week }})
		if err != nil {
			t.Fatal(err)
		}
		n, instances, failed := dir.Stats()
		if n != 10 || failed != 0 || instances == 0 {
			t.Fatalf("week %q: %d mailboxes, %d instances, %d failed", week, n, instances, failed)
		}
	}
	for _, bad := range []string{"2026-03-24", "next week"} {
		if _, err := demopkg.New(bad); err == nil {
			t.Errorf("demo.New(%q) succeeded", bad)
		}
	}
}

func TestConfigTestReportsEveryProblem(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "a.ics"), []byte("BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n"), 0o644)
	cfg := `
mailboxes:
  - address: alice@example.org
    calendar: a.ics
    time_zone: Mars/Olympus
    external_sharing: Everything
  - address: ALICE@example.org
    calendar: missing.ics
    kind: robot
    working_hours: {start: "18:00", end: "09:00"}
  - address: not-an-address
store:
  driver: mysql
admin:
  token_file: missing.token
`
	path := filepath.Join(dir, "calfed.yaml")
	os.WriteFile(path, []byte(cfg), 0o644)
	var out, errb bytes.Buffer
	if code := run(t.Context(), []string{"config", "test", "-config", path}, &out, &errb); code != exitFailed {
		t.Fatalf("exit %d, want %d\n%s%s", code, exitFailed, out.String(), errb.String())
	}
	for _, want := range []string{"time_zone", "external_sharing", "also used by mailboxes[0]", "missing.ics", "kind", "working_hours", "not-an-address", "calendar: required", "store.driver", "admin.token_file"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("config test output lacks %q:\n%s", want, out.String())
		}
	}
	os.WriteFile(path, []byte("mailboxes:\n  - address: a@example.org\n    calendar: a.ics\n    colour: blue\n"), 0o644)
	out.Reset()
	if code := run(t.Context(), []string{"config", "test", "-config", path}, &out, &errb); code != exitFailed || !strings.Contains(out.String(), "colour") {
		t.Errorf("unknown field: exit %d\n%s", code, out.String())
	}
	os.WriteFile(path, []byte("mailboxes:\n  - address: a@example.org\n    calendar: a.ics\n"), 0o644)
	out.Reset()
	if code := run(t.Context(), []string{"config", "test", "-config", path}, &out, &errb); code != exitOK {
		t.Errorf("valid config: exit %d\n%s", code, out.String())
	}
	// A file with the deprecated allow_token_reuse still works, with a
	// warning.
	os.WriteFile(path, []byte("federation:\n  allow_token_reuse: true\nmailboxes:\n  - address: a@example.org\n    calendar: a.ics\n"), 0o644)
	out.Reset()
	if code := run(t.Context(), []string{"config", "test", "-config", path}, &out, &errb); code != exitOK || !strings.Contains(out.String(), "warning: federation.allow_token_reuse is deprecated") {
		t.Errorf("deprecated allow_token_reuse: exit %d\n%s", code, out.String())
	}
}

func TestCommandTable(t *testing.T) {
	var out, errb bytes.Buffer
	if code := run(t.Context(), []string{"version"}, &out, &errb); code != exitOK || !strings.HasPrefix(out.String(), "calfed ") {
		t.Errorf("version: %d %q", code, out.String())
	}
	if code := run(t.Context(), []string{"frobnicate"}, &out, &errb); code != exitFailed || !strings.Contains(errb.String(), "unknown command") {
		t.Errorf("unknown command: %d %q", code, errb.String())
	}
}

// The public router: paths in any case reach EWS, which demands Basic
// credentials of a configured service account.
func TestRouterAuthentication(t *testing.T) {
	srv := demoServer(t)
	body := `<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body><GetServerTimeZones xmlns="http://schemas.microsoft.com/exchange/services/2006/messages"><Ids><Id xmlns="http://schemas.microsoft.com/exchange/services/2006/types">UTC</Id></Ids></GetServerTimeZones></s:Body></s:Envelope>`
	tests := []struct {
		path, user, secret string
		status             int
	}{
		{"/EWS/Exchange.asmx", "", "", http.StatusUnauthorized},
		{"/EWS/Exchange.asmx", "svc-partner", "wrong", http.StatusUnauthorized},
		{"/EWS/Exchange.asmx", "nobody", "router-test-secret", http.StatusUnauthorized},
		{"/EWS/Exchange.asmx", "svc-partner", "router-test-secret", http.StatusOK},
		{"/ews/EXCHANGE.ASMX", "SVC-Trust", "router-test-secret", http.StatusOK},
		{"/elsewhere", "svc-partner", "router-test-secret", http.StatusNotFound},
		{"/v1/orgrels", "svc-partner", "router-test-secret", http.StatusNotFound}, // the admin API is never public
	}
	for _, tt := range tests {
		req, _ := http.NewRequest(http.MethodPost, srv.URL+tt.path, strings.NewReader(body))
		if tt.user != "" {
			req.SetBasicAuth(tt.user, tt.secret)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != tt.status {
			t.Errorf("%s as %q: %d, want %d", tt.path, tt.user, resp.StatusCode, tt.status)
		}
		if tt.status == http.StatusUnauthorized && resp.Header.Get("WWW-Authenticate") != `Basic realm="calfed"` {
			t.Errorf("%s as %q: WWW-Authenticate %q", tt.path, tt.user, resp.Header.Get("WWW-Authenticate"))
		}
	}
}

// The administrative commands against a local configuration's store: the
// happy path, their exit codes and their error messages.
func TestAdminCommandsLocally(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "a.ics"), []byte("BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n"), 0o644)
	cfg := filepath.Join(dir, "calfed.yaml")
	os.WriteFile(cfg, []byte("mailboxes:\n  - address: alice@contoso.example\n    calendar: a.ics\n    groups: [staff]\n"), 0o644)
	t.Setenv("CALFED_CONFIG", cfg)
	t.Setenv("CALFED_ADMIN_URL", "")
	cli := cliFor(t)
	cli(exitOK, "orgrel", "new", "Partner", "-domains", "partner.example,Partner2.example", "-free-busy", "-partner-code", "RX1", "-approved", "2026-11-01")
	if out := cli(exitOK, "orgrel", "list"); !strings.Contains(out, "partner.example,partner2.example") || !strings.Contains(out, "AvailabilityOnly") {
		t.Errorf("list:\n%s", out)
	}
	cli(exitOK, "orgrel", "set", "partner", "-level", "LimitedDetails", "-scope", "staff")
	if out := cli(exitOK, "orgrel", "show", "PARTNER", "-o", "json"); !strings.Contains(out, `"free_busy_access_level": "LimitedDetails"`) || !strings.Contains(out, `"version": 2`) {
		t.Errorf("show:\n%s", out)
	}
	cli(exitOK, "orgrel", "set", "partner", "-mail-tips")
	if out := cli(exitOK, "orgrel", "show", "partner"); !strings.Contains(strings.Join(strings.Fields(out), " "), "MailTipsAccessEnabled: true MailTipsAccessLevel: Limited") {
		t.Errorf("show after -mail-tips (Limited by default):\n%s", out)
	}
	cli(exitOK, "orgrel", "set", "partner", "-mail-tips-level", "All")
	if out := cli(exitOK, "orgrel", "list"); !strings.Contains(out, "MAILTIPS") || !strings.Contains(out, "All") {
		t.Errorf("list after -mail-tips-level All:\n%s", out)
	}
	if out := cli(exitOK, "orgrel", "powershell", "partner"); !strings.Contains(out, "-MailTipsAccessEnabled $true -MailTipsAccessLevel All") {
		t.Errorf("powershell with MailTips:\n%s", out)
	}
	cli(exitOK, "orgrel", "disable", "Partner")
	if out := cli(exitOK, "audit", "-since", "1h"); strings.Count(out, "orgrel/Partner") != 5 || !strings.Contains(out, "enabled: true -> false") {
		t.Errorf("audit:\n%s", out)
	}
	if out := cli(exitOK, "account", "new", "svc", "-relationship", "partner"); !strings.Contains(out, "secret: ") {
		t.Errorf("account new:\n%s", out)
	}
	cli(exitOK, "mailbox", "share", "alice@contoso.example", "-level", "LimitedDetails")
	if out := cli(exitOK, "orgrel", "powershell", "partner"); !strings.Contains(out, "Get-FederationInformation -DomainName contoso.example | New-OrganizationRelationship") ||
		!strings.Contains(out, "-FreeBusyAccessLevel None") || !strings.Contains(out, "BOTH sides") || strings.Contains(out, "MailTipsAccessLevel") {
		t.Errorf("powershell (disabled relationship shares nothing):\n%s", out)
	}
	export := cli(exitOK, "orgrel", "export")
	os.WriteFile(filepath.Join(dir, "rels.yaml"), []byte(export), 0o600)
	if out := cli(exitOK, "orgrel", "apply", "-f", filepath.Join(dir, "rels.yaml")); !strings.Contains(out, "nothing to change") {
		t.Errorf("applying an export changes something:\n%s", out)
	}
	if !strings.Contains(export, "mail_tips_access_enabled: true") || !strings.Contains(export, "mail_tips_access_level: All") {
		t.Errorf("export without the MailTips settings:\n%s", export)
	}
	os.WriteFile(filepath.Join(dir, "mt.yaml"), []byte(strings.Replace(export, "mail_tips_access_level: All", "mail_tips_access_level: None", 1)), 0o600)
	if out := cli(exitOK, "orgrel", "apply", "-f", filepath.Join(dir, "mt.yaml"), "-dry-run"); !strings.Contains(out, `mail_tips_access_level: "All" -> "None"`) {
		t.Errorf("apply -dry-run of a MailTips change:\n%s", out)
	}
	cli(exitFailed, "orgrel", "set", "partner", "-mail-tips-level", "LimitedDetails") // a free/busy level

	cli(exitError, "trust", "show")                                          // none yet
	cli(exitFailed, "trust", "set", "-account-namespace", "contoso.example") // no token issuer
	cli(exitFailed, "trust", "set", "-account-namespace", "contoso.example", "-domains", "europe.contoso.example",
		"-token-issuer-uri", "urn:federation:MicrosoftOnline", "-token-issuer-endpoint", "https://login.microsoftonline.com/extSTS.srf") // no proofs
	cli(exitOK, "trust", "set", "-account-namespace", "contoso.example", "-domains", "europe.contoso.example", "-skip-proof",
		"-token-issuer-uri", "urn:federation:MicrosoftOnline", "-token-issuer-endpoint", "https://login.microsoftonline.com/extSTS.srf")
	cli(exitOK, "trust", "set", "-disclose-all-domains")
	if out := cli(exitOK, "trust", "show"); !strings.Contains(out, "FYDIBOHF25SPDLT.contoso.example") || !strings.Contains(out, "contoso.example, europe.contoso.example") ||
		!strings.Contains(out, "DiscloseAllDomains:  true") {
		t.Errorf("trust show:\n%s", out)
	}

	cli(exitFailed, "orgrel", "new", "X")                                            // -domains missing
	cli(exitFailed, "orgrel", "new", "X", "-domains", "not a domain")                // invalid value
	cli(exitFailed, "orgrel", "new", "X", "-domains", "x.example", "-level", "Lots") // invalid level
	cli(exitFailed, "orgrel", "new", "X", "-domains", "x.example", "-scope", "nobody")
	cli(exitFailed, "orgrel", "show") // NAME missing
	cli(exitFailed, "orgrel", "list", "-o", "xml")
	cli(exitError, "orgrel", "new", "Other", "-domains", "partner.example") // domain taken
	cli(exitError, "orgrel", "show", "nobody")
	cli(exitError, "mailbox", "share", "bob@contoso.example", "-level", "None") // not in the directory
	cli(exitError, "orgrel", "list", "-config", filepath.Join(dir, "missing.yaml"))
	cli(exitFailed, "orgrel", "list", "-server", "http://127.0.0.1:1") // no token
}

// cliFor runs calfed commands in-process, failing t on an unexpected
// exit code; it returns what the command printed.
func cliFor(t *testing.T) func(want int, args ...string) string {
	return func(want int, args ...string) string {
		t.Helper()
		var out, errb bytes.Buffer
		if code := run(t.Context(), args, &out, &errb); code != want {
			t.Fatalf("calfed %s: exit %d, want %d\n%s%s", strings.Join(args, " "), code, want, out.String(), errb.String())
		}
		return out.String() + errb.String()
	}
}

// demoServer serves the demo's public router on loopback, with the demo
// secret "router-test-secret".
func demoServer(t *testing.T) *httptest.Server {
	srv, _ := demoParts(t, server.Options{})
	return srv
}

// demoParts assembles the demo's server as calfed serve does, with opt
// besides the demo, and serves its public router on loopback.
func demoParts(t testing.TB, opt server.Options) (*httptest.Server, *server.Server) {
	t.Helper()
	t.Setenv(demopkg.SecretEnv, "router-test-secret")
	demo, err := demopkg.New("2026-03-23")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { demo.Close() })
	opt.Demo = demo
	s, err := server.Open(t.Context(), demo.Config, opt)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	srv := httptest.NewServer(newRouter(s, nil))
	t.Cleanup(srv.Close)
	return srv, s
}

// calfed fedinfo against our own server prints what Get-FederationInformation would.
func TestFedinfoAgainstOwnServer(t *testing.T) {
	srv := demoServer(t)
	url := srv.URL + "/Autodiscover/Autodiscover.svc"
	var out, errb bytes.Buffer
	if code := run(t.Context(), []string{"fedinfo", "contoso.example", "-url", url, "-o", "json"}, &out, &errb); code != exitOK {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	var info struct {
		DomainNames           []string `json:"domain_names"`
		TargetApplicationURI  string   `json:"target_application_uri"`
		TokenIssuerURIs       []string `json:"token_issuer_uris"`
		TargetAutodiscoverEPR string   `json:"target_autodiscover_epr"`
	}
	if err := json.Unmarshal(out.Bytes(), &info); err != nil {
		t.Fatal(err)
	}
	if strings.Join(info.DomainNames, ",") != "contoso.example" || info.TargetApplicationURI != "FYDIBOHF25SPDLT.contoso.example" ||
		strings.Join(info.TokenIssuerURIs, ",") != "urn:federation:MicrosoftOnline" || info.TargetAutodiscoverEPR != url+"/WSSecurity" {
		t.Errorf("fedinfo = %+v", info)
	}
	out.Reset()
	errb.Reset()
	if code := run(t.Context(), []string{"fedinfo", "fabrikam.example", "-url", url}, &out, &errb); code != exitFailed || !strings.Contains(errb.String(), "not federated") {
		t.Errorf("a domain not ours: exit %d %s", code, errb.String())
	}
}

// Every public endpoint answers with Exchange's HTTP conventions: a
// request-id, the requester's client-request-id, gzip when accepted.
func TestRouterExchangeHTTPConventions(t *testing.T) {
	srv := demoServer(t)
	tz := `<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body><GetServerTimeZones xmlns="http://schemas.microsoft.com/exchange/services/2006/messages"><Ids><Id xmlns="http://schemas.microsoft.com/exchange/services/2006/types">UTC</Id></Ids></GetServerTimeZones></s:Body></s:Envelope>`
	fed := `<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body><GetFederationInformationRequestMessage xmlns="http://schemas.microsoft.com/exchange/2010/Autodiscover"><Request><Domain>contoso.example</Domain></Request></GetFederationInformationRequestMessage></s:Body></s:Envelope>`
	tests := []struct {
		method, path, body string
		basic              bool
		status             int
		gzip               bool
	}{
		{http.MethodPost, "/EWS/Exchange.asmx", tz, true, http.StatusOK, true},
		{http.MethodPost, "/EWS/Exchange.asmx", tz, false, http.StatusUnauthorized, false},
		{http.MethodPost, "/EWS/Exchange.asmx/WSSecurity", tz, false, http.StatusInternalServerError, true},
		{http.MethodPost, "/autodiscover/autodiscover.svc", fed, false, http.StatusOK, true},
		{http.MethodGet, "/autodiscover/autodiscover.xml", "", false, http.StatusOK, false},
		{http.MethodGet, "/autodiscover/autodiscover.json/v1.0/alice@contoso.example?Protocol=EWS", "", false, http.StatusOK, true},
		{http.MethodGet, "/elsewhere", "", false, http.StatusNotFound, true},
	}
	ids := map[string]bool{}
	for _, tt := range tests {
		req, _ := http.NewRequest(tt.method, srv.URL+tt.path, strings.NewReader(tt.body))
		req.Header.Set("Content-Type", "text/xml; charset=utf-8")
		req.Header.Set("Accept-Encoding", "gzip")
		req.Header.Set("client-request-id", "0f6a5b3c-1d2e-4f50-8a7b-9c0d1e2f3a4b")
		if tt.basic {
			req.SetBasicAuth("svc-partner", "router-test-secret")
		}
		resp, err := http.DefaultTransport.RoundTrip(req) // not decompressed for us
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		id := resp.Header.Get("request-id")
		if resp.StatusCode != tt.status || len(id) != 36 || ids[id] || resp.Header.Get("client-request-id") != "0f6a5b3c-1d2e-4f50-8a7b-9c0d1e2f3a4b" {
			t.Errorf("%s %s: %d, request-id %q, client-request-id %q", tt.method, tt.path, resp.StatusCode, id, resp.Header.Get("client-request-id"))
		}
		ids[id] = true
		if gz := resp.Header.Get("Content-Encoding") == "gzip"; gz != tt.gzip {
			t.Errorf("%s %s: gzip %v, want %v", tt.method, tt.path, gz, tt.gzip)
		} else if gz {
			zr, err := gzip.NewReader(bytes.NewReader(body))
			if err != nil {
				t.Fatalf("%s %s: %v", tt.method, tt.path, err)
			}
			if plain, err := io.ReadAll(zr); err != nil || len(plain) == 0 {
				t.Errorf("%s %s: %v, %d bytes", tt.method, tt.path, err, len(plain))
			}
		}
	}
}

// The legacy DNs Autodiscover hands out (POX LegacyDN, GetUserSettings
// UserDN) name the mailbox again when sent to GetUserAvailability with
// RoutingType EX or as X500 addresses. docs/protocol.md §1.2.
func TestLegacyDNsRoundTrip(t *testing.T) {
	srv := demoServer(t)
	post := func(path, body string) string {
		t.Helper()
		req, _ := http.NewRequest(http.MethodPost, srv.URL+path, strings.NewReader(body))
		req.Header.Set("Content-Type", "text/xml; charset=utf-8")
		req.SetBasicAuth("svc-partner", "router-test-secret")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return string(b)
	}
	between := func(s, from, to string) string {
		_, rest, _ := strings.Cut(s, from)
		v, _, _ := strings.Cut(rest, to)
		return v
	}
	pox := post("/autodiscover/autodiscover.xml", `<Autodiscover xmlns="http://schemas.microsoft.com/exchange/autodiscover/outlook/requestschema/2006"><Request><EMailAddress>bob@contoso.example</EMailAddress><AcceptableResponseSchema>http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a</AcceptableResponseSchema></Request></Autodiscover>`)
	dn := between(pox, "<LegacyDN>", "</LegacyDN>")
	gus := post("/autodiscover/autodiscover.svc", `<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body><GetUserSettingsRequestMessage xmlns="http://schemas.microsoft.com/exchange/2010/Autodiscover"><Request><Users><User><Mailbox>bob@contoso.example</Mailbox></User></Users><RequestedSettings><Setting>UserDN</Setting></RequestedSettings></Request></GetUserSettingsRequestMessage></s:Body></s:Envelope>`)
	userDN := between(gus, "<Value>", "</Value>")
	if dn == "" || userDN != dn {
		t.Fatalf("LegacyDN %q, UserDN %q\n%s\n%s", dn, userDN, pox, gus)
	}
	mailbox := func(addr, rt string) string {
		return `<t:MailboxData><t:Email><t:Address>` + addr + `</t:Address><t:RoutingType>` + rt + `</t:RoutingType></t:Email><t:AttendeeType>Required</t:AttendeeType></t:MailboxData>`
	}
	gua := `<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/" xmlns:t="http://schemas.microsoft.com/exchange/services/2006/types" xmlns:m="http://schemas.microsoft.com/exchange/services/2006/messages"><s:Body><m:GetUserAvailabilityRequest><m:MailboxDataArray>` +
		mailbox("bob@contoso.example", "SMTP") + mailbox(dn, "EX") + mailbox("X500:"+dn, "SMTP") +
		`</m:MailboxDataArray><t:FreeBusyViewOptions><t:TimeWindow><t:StartTime>2026-03-23T00:00:00Z</t:StartTime><t:EndTime>2026-03-30T00:00:00Z</t:EndTime></t:TimeWindow><t:MergedFreeBusyIntervalInMinutes>60</t:MergedFreeBusyIntervalInMinutes><t:RequestedView>FreeBusyMerged</t:RequestedView></t:FreeBusyViewOptions></m:GetUserAvailabilityRequest></s:Body></s:Envelope>`
	out := post("/EWS/Exchange.asmx", gua)
	if n := strings.Count(out, "<ResponseCode>NoError</ResponseCode>"); n != 3 {
		t.Fatalf("%d of 3 mailboxes answered\n%s", n, out)
	}
	answers := strings.Split(between(out, "<FreeBusyResponseArray>", "</FreeBusyResponseArray>"), "</FreeBusyResponse>")
	if len(answers) != 4 || answers[0] != answers[1] || answers[1] != answers[2] {
		t.Errorf("the DN addresses answer differently from the SMTP address\n%s", out)
	}
}

// Guessing a service account's secret is throttled across every endpoint
// that takes Basic credentials: after five wrong secrets even the right one
// is refused, at once, with Retry-After.
func TestRouterThrottlesGuessing(t *testing.T) {
	srv := demoServer(t)
	do := func(path, secret string) *http.Response {
		req, _ := http.NewRequest(http.MethodPost, srv.URL+path, strings.NewReader("<x/>"))
		req.SetBasicAuth("svc-partner", secret)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp
	}
	for i := range 5 {
		if resp := do("/EWS/Exchange.asmx", fmt.Sprint("guess-", i)); resp.StatusCode != http.StatusUnauthorized {
			t.Fatalf("guess %d: %d", i, resp.StatusCode)
		}
	}
	for _, path := range []string{"/EWS/Exchange.asmx", "/autodiscover/autodiscover.xml", "/autodiscover/autodiscover.svc"} {
		resp := do(path, "router-test-secret")
		if resp.StatusCode != http.StatusUnauthorized || resp.Header.Get("Retry-After") == "" || resp.Header.Get("WWW-Authenticate") != `Basic realm="calfed"` {
			t.Errorf("%s with the right secret after guessing: %d, headers %v; want 401 with Retry-After", path, resp.StatusCode, resp.Header)
		}
	}
}
