package caldav

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/calfed/calfed/calendar"
)

// clock is a settable time for the server under test.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func testServer(t *testing.T, base string, edit func(*Config)) (*Server, *clock) {
	t.Helper()
	u, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	clk := &clock{t: time.Date(2026, 3, 24, 8, 0, 0, 0, time.UTC)}
	cfg := Config{Name: "dav", URL: u, SyncInterval: time.Minute, MaxStaleness: 10 * time.Minute, Timeout: 30 * time.Second, Now: clk.now}
	if edit != nil {
		edit(&cfg)
	}
	return NewServer(cfg), clk
}

func mailbox(t *testing.T, s *Server, address, path string) *Source {
	t.Helper()
	u, err := url.Parse(s.cfg.URL.String() + strings.TrimPrefix(path, "/"))
	if err != nil {
		t.Fatal(err)
	}
	return s.Mailbox(address, u)
}

// names returns the URLs' paths of what Read returns.
func names(t *testing.T, src *Source) []string {
	t.Helper()
	files, err := src.Read(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, f := range files {
		u, _ := url.Parse(f.Name)
		out = append(out, u.Path)
	}
	return out
}

func stamp(t *testing.T, src *Source) string {
	t.Helper()
	st, err := src.Stamp(context.Background())
	if err != nil {
		t.Fatalf("Stamp: %v", err)
	}
	return st
}

// The first sync takes everything; later ones only what changed, found
// with sync-collection or, where the server has none, ctag and ETags;
// the stamp changes exactly when the content does.
func TestSyncChanges(t *testing.T) {
	for _, noSync := range []bool{false, true} {
		name := "sync-collection"
		if noSync {
			name = "ctag+etag"
		}
		t.Run(name, func(t *testing.T) {
			f := newFakeDAV(t)
			f.noSync = noSync
			f.calendar("/alice/work/", "Work")
			f.calendar("/alice/personal/", "Personal")
			f.put("/alice/work/a.ics", event("a", "20260324T100000Z"))
			f.put("/alice/work/b.ics", event("b", "20260324T110000Z"))
			srv, _ := testServer(t, f.srv.URL+"/", nil)
			src := mailbox(t, srv, "alice@contoso.example", "/alice/")
			ctx := context.Background()
			if err := src.Sync(ctx); err != nil {
				t.Fatal(err)
			}
			if got := strings.Join(names(t, src), " "); got != "/alice/work/a.ics /alice/work/b.ics" {
				t.Fatalf("first sync: %s", got)
			}
			first := stamp(t, src)
			gets := f.count("REPORT calendar-multiget")

			// Nothing changed: one PROPFIND, no fetch, the same stamp.
			if err := src.Sync(ctx); err != nil {
				t.Fatal(err)
			}
			if st := stamp(t, src); st != first || f.count("REPORT calendar-multiget") != gets {
				t.Fatalf("unchanged: stamp %q (was %q), multigets %d (were %d)", st, first, f.count("REPORT calendar-multiget"), gets)
			}

			f.put("/alice/personal/c.ics", event("c", "20260324T120000Z"))
			f.put("/alice/work/a.ics", event("a", "20260324T130000Z"))
			f.del("/alice/work/b.ics")
			if err := src.Sync(ctx); err != nil {
				t.Fatal(err)
			}
			if got := strings.Join(names(t, src), " "); got != "/alice/personal/c.ics /alice/work/a.ics" {
				t.Fatalf("after changes: %s", got)
			}
			if stamp(t, src) == first {
				t.Fatal("the stamp did not change with the content")
			}
			files, _ := src.Read(ctx)
			if !strings.Contains(string(files[1].Data), "20260324T130000Z") {
				t.Fatalf("a.ics not fetched again: %s", files[1].Data)
			}
			if got := f.count("REPORT calendar-multiget"); got != gets+2 {
				t.Errorf("multigets for two changed calendars: %d, want %d", got-gets, 2)
			}
			st := src.Status()
			if len(st.Calendars) != 2 || st.Calendars[0].Sync != name || st.Error != "" || st.LastSync.IsZero() {
				t.Errorf("Status = %+v", st)
			}
		})
	}
}

// A sync token the server no longer knows (RFC 6578 §3.2) starts the
// calendar over, keeping only the objects still there.
func TestSyncInvalidToken(t *testing.T) {
	f := newFakeDAV(t)
	f.calendar("/alice/work/", "Work")
	f.put("/alice/work/a.ics", event("a", "20260324T100000Z"))
	f.put("/alice/work/b.ics", event("b", "20260324T110000Z"))
	srv, _ := testServer(t, f.srv.URL+"/", nil)
	src := mailbox(t, srv, "alice@contoso.example", "/alice/")
	if err := src.Sync(context.Background()); err != nil {
		t.Fatal(err)
	}
	src.colls["/alice/work/"].token = "expired"
	f.del("/alice/work/b.ics")
	if err := src.Sync(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(names(t, src), " "); got != "/alice/work/a.ics" {
		t.Fatalf("after an invalid token: %s", got)
	}
}

// Calendars marked transparent and calendars without events are not
// counted, unless configured; calendars names some by name.
func TestCalendarsCounted(t *testing.T) {
	f := newFakeDAV(t)
	f.calendar("/alice/work/", "Work")
	f.calendar("/alice/holidays/", "Holidays").transparent = true
	f.calendar("/alice/tasks/", "Tasks").tasksOnly = true
	f.put("/alice/work/a.ics", event("a", "20260324T100000Z"))
	f.put("/alice/holidays/h.ics", event("h", "20260324T110000Z"))
	f.put("/alice/tasks/t.ics", event("t", "20260324T120000Z"))
	for _, tc := range []struct {
		name string
		edit func(*Config)
		want string
	}{
		{"default", nil, "/alice/work/a.ics"},
		{"include_transparent", func(c *Config) { c.IncludeTransparent = true }, "/alice/holidays/h.ics /alice/work/a.ics"},
		{"calendars by name", func(c *Config) { c.Calendars = []string{"Holidays"} }, "/alice/holidays/h.ics"},
		{"calendars by segment", func(c *Config) { c.Calendars = []string{"work", "holidays"} }, "/alice/holidays/h.ics /alice/work/a.ics"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv, _ := testServer(t, f.srv.URL+"/", tc.edit)
			src := mailbox(t, srv, "alice@contoso.example", "/alice/")
			if err := src.Sync(context.Background()); err != nil {
				t.Fatal(err)
			}
			if got := strings.Join(names(t, src), " "); got != tc.want {
				t.Errorf("counted %s, want %s", got, tc.want)
			}
		})
	}
	// A URL naming one calendar counts that calendar alone.
	srv, _ := testServer(t, f.srv.URL+"/", nil)
	src := mailbox(t, srv, "alice@contoso.example", "/alice/work/")
	if err := src.Sync(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(names(t, src), " "); got != "/alice/work/a.ics" {
		t.Errorf("one calendar: %s", got)
	}
	// A home with no calendar that counts fails rather than showing free.
	srv, _ = testServer(t, f.srv.URL+"/", func(c *Config) { c.Calendars = []string{"nothing"} })
	if err := mailbox(t, srv, "alice@contoso.example", "/alice/").Sync(context.Background()); err == nil {
		t.Error("a home with no counted calendar synced")
	}
}

// While syncs fail, the last good copy is served up to MaxStaleness;
// then Stamp fails with an error wrapping calendar.ErrUnavailable that
// names the server; a good sync recovers.
func TestStaleness(t *testing.T) {
	f := newFakeDAV(t)
	f.calendar("/alice/work/", "Work")
	f.put("/alice/work/a.ics", event("a", "20260324T100000Z"))
	srv, clk := testServer(t, f.srv.URL+"/", nil)
	src := mailbox(t, srv, "alice@contoso.example", "/alice/")
	if _, err := src.Stamp(context.Background()); !errors.Is(err, calendar.ErrUnavailable) {
		t.Fatalf("before the first sync: Stamp error %v, want ErrUnavailable", err)
	}
	srv.Round(context.Background(), true)
	good := stamp(t, src)

	f.mu.Lock()
	f.auth = "Basic nobody"
	f.mu.Unlock()
	clk.add(5 * time.Minute)
	srv.Round(context.Background(), true)
	if st := stamp(t, src); st != good {
		t.Fatalf("failing within the bound: stamp %q, want the last good %q", st, good)
	}
	if st := src.Status(); !strings.Contains(st.Error, "HTTP 401") {
		t.Fatalf("Status().Error = %q", st.Error)
	}
	clk.add(6 * time.Minute)
	_, err := src.Stamp(context.Background())
	var stale *StaleError
	if !errors.Is(err, calendar.ErrUnavailable) || !errors.As(err, &stale) || stale.Server != "dav" || !strings.Contains(err.Error(), "HTTP 401") {
		t.Fatalf("past the bound: Stamp error %v", err)
	}
	var he *HTTPError
	if !errors.As(err, &he) || he.Status != http.StatusUnauthorized {
		t.Fatalf("past the bound: the cause is not the server's 401: %v", err)
	}
	f.mu.Lock()
	f.auth = ""
	f.mu.Unlock()
	clk.add(time.Hour) // past any backoff
	srv.Round(context.Background(), false)
	if st := stamp(t, src); st != good {
		t.Fatalf("recovered with the same content: stamp %q, want %q", st, good)
	}
}

// A server that does not answer ends its round early: the mailboxes it
// did not reach fail with the same reason, and the next round waits
// longer (backoff), within MaxBackoff.
func TestRoundStopsWhenServerDown(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	base := "http://" + l.Addr().String() + "/"
	l.Close() // nothing listens: connections are refused
	var logs strings.Builder
	srv, _ := testServer(t, base, func(c *Config) {
		c.Concurrency, c.MaxBackoff = 2, 4*time.Minute
		c.Logger = slog.New(slog.NewTextHandler(&logs, nil))
	})
	var srcs []*Source
	for i := range 50 {
		srcs = append(srcs, mailbox(t, srv, "u"+string(rune('a'+i%26))+string(rune('a'+i/26))+"@contoso.example", "/u/"))
	}
	wait := srv.Round(context.Background(), true)
	if n := srv.Requests(); n >= 50 {
		t.Errorf("a round against a dead server sent %d requests for 50 mailboxes", n)
	}
	for _, s := range srcs {
		if st := s.Status(); st.Error == "" || st.LastAttempt.IsZero() {
			t.Fatalf("%s: Status = %+v, want the outage as its error", s.address, st)
		}
	}
	if wait < 30*time.Second || wait > time.Minute {
		t.Errorf("first wait %v, want within [interval/2, interval]", wait)
	}
	// One line for the outage, not one for each of the 50 mailboxes.
	if n, m := strings.Count(logs.String(), "caldav server not answering"), strings.Count(logs.String(), "caldav sync failed"); n != 1 || m >= 50 {
		t.Errorf("the outage logged %d server lines and %d mailbox lines:\n%s", n, m, logs.String())
	}
	for range 5 {
		wait = srv.Round(context.Background(), true)
	}
	if wait < 2*time.Minute || wait > 4*time.Minute {
		t.Errorf("wait after six failed rounds %v, want within [max_backoff/2, max_backoff]", wait)
	}
}

// One server hanging does not hold up another's mailboxes.
func TestServersIndependent(t *testing.T) {
	release := make(chan struct{})
	hang := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { <-release }))
	defer hang.Close()
	defer close(release)
	f := newFakeDAV(t)
	f.calendar("/bob/cal/", "Cal")
	f.put("/bob/cal/a.ics", event("a", "20260324T100000Z"))
	slow, _ := testServer(t, hang.URL+"/", func(c *Config) { c.Timeout = time.Hour })
	fast, _ := testServer(t, f.srv.URL+"/", nil)
	mailbox(t, slow, "alice@contoso.example", "/alice/")
	bob := mailbox(t, fast, "bob@contoso.example", "/bob/")
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { slow.Round(ctx, true); close(done) }()
	fast.Round(context.Background(), true)
	if got := strings.Join(names(t, bob), " "); got != "/bob/cal/a.ics" {
		t.Errorf("bob on the answering server: %s", got)
	}
	cancel()
	<-done
}

// Hrefs and redirects that point at another host are refused: the
// credentials go only to the configured server.
func TestForeignHrefsRefused(t *testing.T) {
	var foreign int
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { foreign++ }))
	defer other.Close()
	evil := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.URL.Path == "/.well-known/caldav":
			http.Redirect(w, r, other.URL+"/dav/", http.StatusMovedPermanently)
		case r.URL.Path == "/redirect/":
			http.Redirect(w, r, other.URL+"/alice/", http.StatusTemporaryRedirect)
		default:
			w.WriteHeader(http.StatusMultiStatus)
			w.Write([]byte(`<d:multistatus xmlns:d="DAV:" xmlns:c="urn:ietf:params:xml:ns:caldav"><d:response><d:href>/alice/</d:href><d:propstat><d:prop>` +
				`<c:calendar-home-set><d:href>` + other.URL + `/alice/</d:href></c:calendar-home-set></d:prop><d:status>HTTP/1.1 200 OK</d:status></d:propstat></d:response></d:multistatus>`))
		}
	}))
	defer evil.Close()
	pw := filepath.Join(t.TempDir(), "pw")
	os.WriteFile(pw, []byte("secret\n"), 0o600)
	srv, _ := testServer(t, evil.URL+"/", func(c *Config) { c.Credentials = Credentials{Username: "calfed", PasswordFile: pw} })
	for _, path := range []string{"/alice/", "/redirect/", ""} {
		var src *Source
		if path == "" {
			src = srv.Mailbox("carol@contoso.example", nil)
		} else {
			src = mailbox(t, srv, "alice@contoso.example", path)
		}
		if err := src.Sync(context.Background()); err == nil {
			t.Errorf("%q: synced through another host", path)
		}
	}
	if foreign != 0 {
		t.Errorf("the other host was sent %d requests", foreign)
	}
}

// Credential files: private to their owner, one line; read at each sync.
func TestCredentials(t *testing.T) {
	dir := t.TempDir()
	write := func(name, data string, mode os.FileMode) string {
		p := filepath.Join(dir, name)
		os.WriteFile(p, []byte(data), mode)
		os.Chmod(p, mode)
		return p
	}
	for _, tc := range []struct {
		name string
		c    Credentials
		want string // the header; empty for an error
	}{
		{"basic", Credentials{Username: "calfed", PasswordFile: write("pw", "s3cret\n", 0o600)}, "Basic Y2FsZmVkOnMzY3JldA=="},
		{"bearer", Credentials{BearerTokenFile: write("tok", "abc.def\n", 0o600)}, "Bearer abc.def"},
		{"readable by others", Credentials{Username: "calfed", PasswordFile: write("open", "s3cret\n", 0o644)}, ""},
		{"two lines", Credentials{BearerTokenFile: write("two", "a\nb\n", 0o600)}, ""},
		{"empty", Credentials{BearerTokenFile: write("empty", "\n", 0o600)}, ""},
		{"missing", Credentials{BearerTokenFile: filepath.Join(dir, "nope")}, ""},
	} {
		got, err := tc.c.header()
		if got != tc.want || (tc.want == "") != (err != nil) || (err != nil && !errors.Is(err, ErrCredentials)) {
			t.Errorf("%s: header() = %q, %v; want %q", tc.name, got, err, tc.want)
		}
	}
}

// An answer beyond MaxResponseBytes is refused, not read whole.
func TestAnswerTooLarge(t *testing.T) {
	big := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusMultiStatus)
		w.Write([]byte(`<d:multistatus xmlns:d="DAV:">` + strings.Repeat("<d:response/>", 1000) + `</d:multistatus>`))
	}))
	defer big.Close()
	srv, _ := testServer(t, big.URL+"/", func(c *Config) { c.MaxResponseBytes = 1000 })
	if err := mailbox(t, srv, "alice@contoso.example", "/alice/").Sync(context.Background()); !errors.Is(err, ErrTooLarge) {
		t.Errorf("Sync = %v, want ErrTooLarge", err)
	}
}

// Objects are kept as the server sent them, so that the calendar package
// repairs and reports them as it does files, naming each by its URL.
func TestLenientReading(t *testing.T) {
	f := newFakeDAV(t)
	f.calendar("/alice/work/", "Work")
	f.put("/alice/work/good.ics", event("good", "20260324T100000Z"))
	f.put("/alice/work/bad.ics", "BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nUID:bad\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n")
	srv, _ := testServer(t, f.srv.URL+"/", nil)
	src := mailbox(t, srv, "alice@contoso.example", "/alice/")
	if err := src.Sync(context.Background()); err != nil {
		t.Fatal(err)
	}
	r := calendar.Check(context.Background(), src, calendar.Options{})
	if r.Err != "" || r.Instances != 1 || len(r.Problems) != 1 || !strings.HasSuffix(r.Problems[0].File, "/alice/work/bad.ics") || !r.Problems[0].Skipped {
		t.Errorf("Check = %+v", r)
	}
}

// Discovery without a URL: the well-known URI's redirect, the account's
// principal, its calendar home (go-webdav's client).
func TestDiscovery(t *testing.T) {
	f := newFakeDAV(t)
	f.calendar("/calendars/svc/main/", "Main")
	f.put("/calendars/svc/main/a.ics", event("a", "20260324T100000Z"))
	mux := http.NewServeMux()
	mux.HandleFunc("/.well-known/caldav", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/dav/", http.StatusMovedPermanently)
	})
	principal := func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusMultiStatus)
		w.Write([]byte(`<d:multistatus xmlns:d="DAV:"><d:response><d:href>/dav/</d:href><d:propstat><d:prop><d:current-user-principal><d:href>/principals/svc/</d:href></d:current-user-principal></d:prop><d:status>HTTP/1.1 200 OK</d:status></d:propstat></d:response></d:multistatus>`))
	}
	mux.HandleFunc("/dav/", principal)
	mux.HandleFunc("/dav", principal) // go-webdav asks for the context path without its slash
	mux.HandleFunc("/principals/svc/", func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusMultiStatus)
		w.Write([]byte(`<d:multistatus xmlns:d="DAV:" xmlns:c="urn:ietf:params:xml:ns:caldav"><d:response><d:href>/principals/svc/</d:href><d:propstat><d:prop><c:calendar-home-set><d:href>/calendars/svc/</d:href></c:calendar-home-set></d:prop><d:status>HTTP/1.1 200 OK</d:status></d:propstat></d:response></d:multistatus>`))
	})
	mux.Handle("/calendars/", f)
	s := httptest.NewServer(mux)
	defer s.Close()
	srv, _ := testServer(t, s.URL+"/", nil)
	src := srv.Mailbox("svc@contoso.example", nil)
	if err := src.Sync(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(names(t, src), " "); got != "/calendars/svc/main/a.ics" {
		t.Errorf("discovered: %s", got)
	}
}

// Check syncs the mailbox now and reports its calendars, counted or not,
// beside what the calendar package found; a failed sync is its Err.
func TestCheck(t *testing.T) {
	f := newFakeDAV(t)
	f.calendar("/alice/work/", "Work")
	f.calendar("/alice/holidays/", "Holidays").transparent = true
	f.put("/alice/work/a.ics", event("a", "20260324T100000Z"))
	srv, _ := testServer(t, f.srv.URL+"/", nil)
	r := Check(context.Background(), mailbox(t, srv, "alice@contoso.example", "/alice/"), calendar.Options{})
	var out strings.Builder
	r.WriteText(&out)
	for _, want := range []string{
		"server: dav (" + f.srv.URL + "/)",
		"calendar " + f.srv.URL + "/alice/holidays/ (Holidays): not counted: transparent (schedule-calendar-transp)",
		"calendar " + f.srv.URL + "/alice/work/ (Work): 1 objects, changes found by sync-collection",
		"caldav dav " + f.srv.URL + "/alice/: 1 instances served, 0 problems",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("Check's text does not say %q:\n%s", want, out.String())
		}
	}
	r = Check(context.Background(), mailbox(t, srv, "nobody@contoso.example", "/nobody/"), calendar.Options{})
	if !strings.Contains(r.Err, "HTTP 404") {
		t.Errorf("Check of a missing home: Err %q", r.Err)
	}
}

// Credentials that cannot be read fail every mailbox of the server, each
// naming the file, and the server logs it once.
func TestRoundUnreadableCredentials(t *testing.T) {
	f := newFakeDAV(t)
	var logs strings.Builder
	srv, _ := testServer(t, f.srv.URL+"/", func(c *Config) {
		c.Credentials = Credentials{Username: "calfed", PasswordFile: filepath.Join(t.TempDir(), "missing")}
		c.Logger = slog.New(slog.NewTextHandler(&logs, nil))
	})
	a, b := mailbox(t, srv, "a@contoso.example", "/a/"), mailbox(t, srv, "b@contoso.example", "/b/")
	srv.Round(context.Background(), true)
	for _, src := range []*Source{a, b} {
		if _, err := src.Stamp(context.Background()); !errors.Is(err, ErrCredentials) || !errors.Is(err, calendar.ErrUnavailable) {
			t.Errorf("%s: Stamp error %v, want ErrCredentials and ErrUnavailable", src.address, err)
		}
	}
	if n := strings.Count(logs.String(), "its credentials cannot be read"); n != 1 || f.count("PROPFIND") != 0 {
		t.Errorf("logged %d times, %d requests sent:\n%s", n, f.count("PROPFIND"), logs.String())
	}
}
