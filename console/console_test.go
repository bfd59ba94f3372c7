package console

import (
	"context"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/calfed/calfed/admin"
	"github.com/calfed/calfed/certs"
	"github.com/calfed/calfed/dnsproof"
	"github.com/calfed/calfed/doctor"
	"github.com/calfed/calfed/internal/dnstest"
	"github.com/calfed/calfed/orgrel"
	"github.com/calfed/calfed/store"
	"github.com/calfed/calfed/trust"
)

const testToken = "console-test-token-0123456789abcdef"

// fixture is a console over a fresh store with one relationship,
// mounted as the admin listener mounts it, and a browser-like client
// with a cookie jar that does not follow redirects.
func fixture(t *testing.T, activity ...Activity) (*httptest.Server, *http.Client, admin.API) {
	t.Helper()
	dir := t.TempDir()
	db, err := store.Open(context.Background(), store.Config{Driver: "sqlite", DSN: filepath.Join(dir, "calfed.db")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	zone := dnstest.Start(t)
	tr := trust.NewService(trust.Config{Store: db, Keys: certs.Dir(filepath.Join(dir, "keys")), Resolver: &dnsproof.DNS{Servers: []string{zone.Addr}, Timeout: 300 * time.Millisecond}})
	api := admin.NewService(db, tr, nil)
	if _, err := api.NewRelationship(context.Background(), "test", orgrel.Relationship{Name: "Northshire NHS Trust", Domains: []string{"northshire.example"},
		Enabled: true, FreeBusyAccessEnabled: true, FreeBusyAccessLevel: orgrel.AvailabilityOnly}); err != nil {
		t.Fatal(err)
	}
	opt := Options{API: api, Checker: &doctor.Checker{Records: db, Trust: tr}, Trust: tr, Token: testToken, Activity: AccessLog{API: api}}
	if len(activity) > 0 {
		opt.Activity = activity[0]
	}
	h, err := New(opt)
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	for _, rt := range h.Routes() {
		mux.Handle(rt.Method+" "+rt.Path, rt.Handler)
	}
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	jar, _ := cookiejar.New(nil)
	return srv, &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}, api
}

var csrfField = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// get fetches a page and returns its status, body and CSRF token.
func get(t *testing.T, c *http.Client, u string) (int, string, string) {
	t.Helper()
	resp, err := c.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var b strings.Builder
	buf := make([]byte, 32<<10)
	for {
		n, err := resp.Body.Read(buf)
		b.Write(buf[:n])
		if err != nil {
			break
		}
	}
	csrf := ""
	if m := csrfField.FindStringSubmatch(b.String()); m != nil {
		csrf = m[1]
	}
	return resp.StatusCode, b.String(), csrf
}

func post(t *testing.T, c *http.Client, u string, form url.Values, header ...string) *http.Response {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, u, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp
}

func signIn(t *testing.T, srv *httptest.Server, c *http.Client) string {
	t.Helper()
	_, _, csrf := get(t, c, srv.URL+"/console/login")
	resp := post(t, c, srv.URL+"/console/login", url.Values{"csrf": {csrf}, "name": {"Jo Engineer"}, "token": {testToken}, "next": {"/console/partners/x"}})
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/console/partners/x" {
		t.Fatalf("sign-in: %d to %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	var session *http.Cookie
	for _, ck := range resp.Cookies() {
		if ck.Name == sessionCookie {
			session = ck
		}
	}
	if session == nil || !session.HttpOnly || session.SameSite != http.SameSiteStrictMode || session.Secure || session.Path != "/console" || strings.Contains(session.Value, testToken) {
		t.Fatalf("session cookie %+v: want HttpOnly, SameSite=Strict, not Secure over plain HTTP, not the token", session)
	}
	_, body, csrf := get(t, c, srv.URL+"/console/")
	if !strings.Contains(body, "Northshire NHS Trust") || csrf == "" {
		t.Fatalf("partners page after sign-in:\n%s", body)
	}
	return csrf
}

func TestSignIn(t *testing.T) {
	srv, c, _ := fixture(t)
	// Not signed in: pages send to the login form, POSTs are refused.
	if resp, _ := c.Get(srv.URL + "/console/"); resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(resp.Header.Get("Location"), "/console/login") {
		t.Errorf("GET /console/ without a session: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	if resp := post(t, c, srv.URL+"/console/partners/Northshire%20NHS%20Trust/change", url.Values{"change": {"disable"}, "confirm": {"yes"}}); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("POST without a session: %d", resp.StatusCode)
	}
	// A wrong token, a login without its form's CSRF token.
	_, _, csrf := get(t, c, srv.URL+"/console/login")
	if resp := post(t, c, srv.URL+"/console/login", url.Values{"csrf": {csrf}, "name": {"x"}, "token": {"wrong"}}); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("a wrong token: %d", resp.StatusCode)
	}
	if resp := post(t, c, srv.URL+"/console/login", url.Values{"csrf": {"forged"}, "name": {"x"}, "token": {testToken}}); resp.StatusCode != http.StatusForbidden {
		t.Errorf("a login without the form's CSRF token: %d", resp.StatusCode)
	}
	signIn(t, srv, c)
	// The bearer token works without a session, as for the admin API.
	req, _ := http.NewRequest(http.MethodGet, srv.URL+"/console/", nil)
	req.Header.Set("Authorization", "Bearer "+testToken)
	if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != http.StatusOK {
		t.Errorf("bearer: %v %v", resp, err)
	}
	req.Header.Set("Authorization", "Bearer nope")
	if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("a wrong bearer token: %v %v", resp, err)
	}
}

// Where the login form sends the browser afterwards stays on the
// console.
func TestSafeNext(t *testing.T) {
	for in, want := range map[string]string{
		"/console/partners/A": "/console/partners/A", "https://evil.example/": "/console/", "//evil.example/console/": "/console/",
		"/console/\r\nSet-Cookie: x": "/console/", "": "/console/", "/v1/orgrels": "/console/",
	} {
		if got := safeNext(in); got != want {
			t.Errorf("safeNext(%q) = %q, want %q", in, got, want)
		}
	}
}

// A change is asked for, confirmed, made through the admin service at
// the version confirmed and audited under the name signed in; a form
// without the session's CSRF token, or from another origin, changes
// nothing.
func TestConfirmedChange(t *testing.T) {
	srv, c, api := fixture(t)
	csrf := signIn(t, srv, c)
	u := srv.URL + "/console/partners/Northshire%20NHS%20Trust/change"
	enabled := func() bool {
		rel, err := api.Relationship(context.Background(), "Northshire NHS Trust")
		if err != nil {
			t.Fatal(err)
		}
		return rel.Enabled
	}
	for name, tt := range map[string]struct {
		form   url.Values
		header []string
	}{
		"no CSRF token":    {url.Values{"change": {"disable"}, "confirm": {"yes"}, "version": {"1"}}, nil},
		"wrong CSRF token": {url.Values{"csrf": {"x" + csrf}, "change": {"disable"}, "confirm": {"yes"}, "version": {"1"}}, nil},
		"another origin":   {url.Values{"csrf": {csrf}, "change": {"disable"}, "confirm": {"yes"}, "version": {"1"}}, []string{"Origin", "https://evil.example"}},
	} {
		if resp := post(t, c, u, tt.form, tt.header...); resp.StatusCode != http.StatusForbidden || !enabled() {
			t.Errorf("%s: %d, enabled %v", name, resp.StatusCode, enabled())
		}
	}
	// Asking changes nothing; the page asks with the version read.
	req, _ := http.NewRequest(http.MethodPost, u, strings.NewReader(url.Values{"csrf": {csrf}, "change": {"disable"}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	buf := make([]byte, 32<<10)
	n, _ := resp.Body.Read(buf)
	b.Write(buf[:n])
	resp.Body.Close()
	version := regexp.MustCompile(`name="version" value="(\d+)"`).FindStringSubmatch(b.String())
	if resp.StatusCode != http.StatusOK || !enabled() || version == nil || !strings.Contains(b.String(), "sees nothing of our calendars") {
		t.Fatalf("asking: %d, enabled %v:\n%s", resp.StatusCode, enabled(), b.String())
	}
	// Someone else changes it meanwhile: the confirmation is refused.
	if _, err := admin.Modify(context.Background(), api, "other", "orgrel.set", "Northshire NHS Trust", func(r *orgrel.Relationship) error {
		r.FreeBusyAccessLevel = orgrel.LimitedDetails
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if resp := post(t, c, u, url.Values{"csrf": {csrf}, "change": {"disable"}, "confirm": {"yes"}, "version": {version[1]}}); resp.StatusCode != http.StatusConflict || !enabled() {
		t.Errorf("a stale confirmation: %d, enabled %v", resp.StatusCode, enabled())
	}
	rel, _ := api.Relationship(context.Background(), "Northshire NHS Trust")
	resp = post(t, c, u, url.Values{"csrf": {csrf}, "change": {"disable"}, "confirm": {"yes"}, "version": {strconvI(rel.Version)}})
	if resp.StatusCode != http.StatusSeeOther || enabled() {
		t.Fatalf("confirmed: %d, enabled %v", resp.StatusCode, enabled())
	}
	entries, _ := api.Audit(context.Background(), time.Time{}, 0)
	last := entries[len(entries)-1]
	if last.Action != "orgrel.disable" || last.Actor != "Jo Engineer via console" || last.Object != "orgrel/Northshire NHS Trust" {
		t.Errorf("audit: %+v", last)
	}
	_, body, _ := get(t, c, srv.URL+"/console/partners/Northshire%20NHS%20Trust")
	if !strings.Contains(body, "Jo Engineer via console") || !strings.Contains(body, "Enable Northshire NHS Trust") {
		t.Errorf("the partner's page after disabling:\n%s", body)
	}
}

func strconvI(v int64) string { return strconv.FormatInt(v, 10) }

// Failed sign-ins are bounded: after ten in a minute even the right
// token waits until the minute is over.
func TestSignInThrottled(t *testing.T) {
	srv, c, _ := fixture(t)
	login := func(token string) int {
		_, _, csrf := get(t, c, srv.URL+"/console/login")
		return post(t, c, srv.URL+"/console/login", url.Values{"csrf": {csrf}, "name": {"x"}, "token": {token}}).StatusCode
	}
	for i := 0; i < 10; i++ {
		if code := login("wrong"); code != http.StatusUnauthorized {
			t.Fatalf("failure %d: %d", i, code)
		}
	}
	if code := login(testToken); code != http.StatusTooManyRequests {
		t.Errorf("the right token after ten failures: %d, want 429", code)
	}
}

// A level change, confirmed, is audited as calfed orgrel set's; a level
// that is none is refused with its reason.
func TestLevelChange(t *testing.T) {
	srv, c, api := fixture(t)
	csrf := signIn(t, srv, c)
	u := srv.URL + "/console/partners/Northshire%20NHS%20Trust/change"
	if resp := post(t, c, u, url.Values{"csrf": {csrf}, "change": {"level"}, "level": {"Everything"}}); resp.StatusCode != http.StatusBadRequest {
		t.Errorf("level Everything: %d", resp.StatusCode)
	}
	rel, _ := api.Relationship(context.Background(), "Northshire NHS Trust")
	resp := post(t, c, u, url.Values{"csrf": {csrf}, "change": {"level"}, "level": {"LimitedDetails"}, "confirm": {"yes"}, "version": {strconv.FormatInt(rel.Version, 10)}})
	rel, _ = api.Relationship(context.Background(), "Northshire NHS Trust")
	entries, _ := api.Audit(context.Background(), time.Time{}, 0)
	if last := entries[len(entries)-1]; resp.StatusCode != http.StatusSeeOther || rel.FreeBusyAccessLevel != orgrel.LimitedDetails || last.Action != "orgrel.set" || last.Actor != "Jo Engineer via console" {
		t.Errorf("level change: %d, level %s, audit %+v", resp.StatusCode, rel.FreeBusyAccessLevel, last)
	}
}

type fakeActivity map[string]PartnerActivity

func (f fakeActivity) PartnerActivity(ctx context.Context, name string) (PartnerActivity, error) {
	return f[name], nil
}

// The partners' requests are in the list and on the partner's page, from
// the access log, also when there are none.
func TestActivityShown(t *testing.T) {
	ok, bad := time.Date(2026, 11, 30, 9, 15, 0, 0, time.UTC), time.Date(2026, 11, 30, 10, 5, 0, 0, time.UTC)
	srv, c, _ := fixture(t, fakeActivity{"Northshire NHS Trust": {Recorded: true, LastSuccess: &ok, LastFailure: &bad, FailureReason: "federation: token expired",
		Requests: 42, Refused: 3, Source: "From the access log.", Recent: []Request{{At: bad, Operation: "GetUserAvailability", Caller: "bob@northshire.example", Outcome: "failed: federation: token expired"}}}})
	signIn(t, srv, c)
	_, list, _ := get(t, c, srv.URL+"/console/")
	_, page, _ := get(t, c, srv.URL+"/console/partners/Northshire%20NHS%20Trust")
	for _, want := range []string{"2026-11-30 09:15 UTC", "2026-11-30 10:05 UTC", "federation: token expired", "42 (3 refused)"} {
		if !strings.Contains(list, want) {
			t.Errorf("the partners list lacks %q", want)
		}
	}
	for _, want := range []string{"42 requests, 3 refused", "The partner's latest requests", "bob@northshire.example", "GetUserAvailability"} {
		if !strings.Contains(page, want) {
			t.Errorf("the partner's page lacks %q", want)
		}
	}

	srv, c, _ = fixture(t)
	signIn(t, srv, c)
	_, list, _ = get(t, c, srv.URL+"/console/")
	_, page, _ = get(t, c, srv.URL+"/console/partners/Northshire%20NHS%20Trust")
	if !strings.Contains(list, "0 (0 refused)") || !strings.Contains(page, "0 requests, 0 refused") || !strings.Contains(page, "From the access log") {
		t.Errorf("a partner without requests is not shown as such from the access log:\n%s\n%s", list, page)
	}
}
