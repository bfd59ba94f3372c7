package server

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"
	"testing"
	"time"

	"github.com/calfed/calfed/calendar"
	"github.com/calfed/calfed/config"
	"github.com/calfed/calfed/internal/demo"
	"github.com/calfed/calfed/orgrel"
)

// The demo opens seeded: its relationships are in the store and the
// policy, its calendars are read, and its token turns the admin API on.
func TestOpenDemo(t *testing.T) {
	t.Setenv(demo.AdminTokenEnv, strings.Repeat("t", 40))
	d, err := demo.New("2026-03-23")
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	s, err := Open(t.Context(), d.Config, Options{Demo: d})
	if err != nil {
		t.Fatalf("Open() = %v", err)
	}
	defer s.Close()
	if rels, err := s.DB.Relationships(t.Context()); err != nil || len(rels) == 0 {
		t.Errorf("seeded relationships = %d, %v", len(rels), err)
	}
	if _, ok := s.Policy.Relationship("partner.example"); !ok {
		t.Error("the policy does not know the demo's partner.example")
	}
	if n, _, failed := s.Directory.Stats(); n == 0 || failed != 0 {
		t.Errorf("directory: %d mailboxes, %d failed", n, failed)
	}
	h, err := s.Admin()
	if err != nil || h == nil {
		t.Fatalf("Admin() = %v, %v; want the demo's admin API", h, err)
	}
	for _, rt := range s.Routes() {
		if rt.Path != strings.ToLower(rt.Path) {
			t.Errorf("route %q is not lower case; the router lower-cases request paths", rt.Path)
		}
		if strings.HasPrefix(rt.Path, "/v1/") {
			t.Errorf("route %q: the admin API is never public", rt.Path)
		}
	}
}

// A configuration file: problems are listed under one heading and nothing
// is opened; the admin API is off without a token file, on with one, and
// refused when others can read it.
func TestOpenConfiguration(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "a.ics"), []byte("BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n"), 0o644)
	load := func(yaml string) *config.Config {
		t.Helper()
		path := filepath.Join(dir, "calfed.yaml")
		os.WriteFile(path, []byte(yaml), 0o644)
		c, err := config.Load(path)
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	const mailbox = "mailboxes:\n  - address: alice@contoso.example\n    calendar: a.ics\n"

	_, err := Open(t.Context(), load("mailboxes:\n  - address: not-an-address\n    calendar: b.ics\n"), Options{})
	if err == nil || !strings.HasPrefix(err.Error(), "invalid configuration:\n  ") || strings.Count(err.Error(), "\n  ") < 2 {
		t.Errorf("Open(invalid) = %v; want every problem on its own line under the heading", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "data")); !os.IsNotExist(err) {
		t.Errorf("an invalid configuration's store was made: %v", err)
	}

	s, err := Open(t.Context(), load(mailbox), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if h, err := s.Admin(); h != nil || err != nil {
		t.Errorf("Admin() without a token file = %v, %v; want it off", h, err)
	}
	s.Close()

	os.WriteFile(filepath.Join(dir, "admin.token"), []byte(strings.Repeat("t", 40)), 0o600)
	s, err = Open(t.Context(), load(mailbox+"admin: {token_file: admin.token}\n"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if h, err := s.Admin(); h == nil || err != nil {
		t.Errorf("Admin() with a token file = %v, %v", h, err)
	}
	// The file is read as the API starts: one made readable meanwhile is
	// refused.
	os.Chmod(filepath.Join(dir, "admin.token"), 0o644)
	if h, err := s.Admin(); h != nil || err == nil || !strings.Contains(err.Error(), "readable by others") {
		t.Errorf("Admin() with a readable token file = %v, %v", h, err)
	}
}

// limits.memory_limit_bytes becomes the process's soft memory limit
// before the calendars load.
func TestOpenMemoryLimit(t *testing.T) {
	prev := debug.SetMemoryLimit(-1)
	defer debug.SetMemoryLimit(prev)
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "a.ics"), []byte("BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n"), 0o644)
	path := filepath.Join(dir, "calfed.yaml")
	os.WriteFile(path, []byte("mailboxes:\n  - address: alice@contoso.example\n    calendar: a.ics\nlimits: {memory_limit_bytes: 987654321}\n"), 0o644)
	cfg, err := config.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	s, err := Open(t.Context(), cfg, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if got := debug.SetMemoryLimit(-1); got != 987654321 {
		t.Errorf("memory limit after Open = %d, want 987654321", got)
	}
}

// Listeners serve until the context ends, then shut down; an address
// already taken fails with the listener's name.
func TestListeners(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	l := &Listeners{MaxConnections: 2, Logger: slog.New(slog.DiscardHandler)}
	addr, err := l.Serve("test", "127.0.0.1:0", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "hello")
	}), nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.Get("http://" + addr + "/")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(body) != "hello" {
		t.Errorf("GET = %q, want hello", body)
	}
	if _, err := l.Serve("second", addr, http.NotFoundHandler(), nil); err == nil || !strings.HasPrefix(err.Error(), "second listener: ") {
		t.Errorf("Serve on a taken address = %v", err)
	}
	cancel()
	if err := l.Wait(ctx); err != nil {
		t.Errorf("Wait() = %v after the context ended", err)
	}
	if c, err := net.Dial("tcp", addr); err == nil {
		c.Close()
		t.Error("the listener still accepts connections after Wait")
	}
}

// The channel Start returns closes once the policy loop has ended and
// removed this server's record from the store, which is still open.
func TestStartRemovesTheRecordAsItEnds(t *testing.T) {
	d, err := demo.New("2026-03-23")
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	s, err := Open(t.Context(), d.Config, Options{Demo: d})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	now := time.Now()
	if err := s.DB.ReportServer(t.Context(), orgrel.Server{ID: s.Policy.ID(), Started: now, Heartbeat: now, Expires: now.Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	done := s.Start(ctx)
	cancel()
	<-done
	servers, err := s.DB.Servers(t.Context())
	if err != nil || len(servers) != 0 {
		t.Errorf("after the policy loop ended: servers %+v, %v; want none", servers, err)
	}
}

// The public handler hands the router lower-case paths and answers with
// Exchange's request-id.
func TestPublic(t *testing.T) {
	var path string
	h := Public(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		path = r.URL.EscapedPath()
	}), nil)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/Autodiscover/Autodiscover.JSON/v1.0/Alice%40Contoso.example", nil))
	if path != "/autodiscover/autodiscover.json/v1.0/alice@contoso.example" || rec.Header().Get("request-id") == "" {
		t.Errorf("router saw %q; request-id %q", path, rec.Header().Get("request-id"))
	}
}

// A CalDAV server slower than its first_sync_wait does not hold up the
// start: Open returns with its mailboxes failing until they sync.
func TestOpenDoesNotWaitForASlowCalDAVServer(t *testing.T) {
	release := make(chan struct{})
	hang := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { <-release }))
	defer hang.Close()
	defer close(release)
	dir := t.TempDir()
	cfg, err := config.Parse([]byte(`data_dir: data
caldav:
  - name: slow
    url: ` + hang.URL + `/
    calendar_url: /{user}/
    timeout: 1h
    first_sync_wait: 50ms
    mailboxes: {addresses: [alice@contoso.example]}
`))
	if err != nil {
		t.Fatal(err)
	}
	cfg.Dir = dir
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel() // ends the first round still waiting for the server
	s, err := Open(ctx, cfg, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	from := time.Date(2026, 3, 24, 0, 0, 0, 0, time.UTC)
	if _, err := s.Directory.Events(t.Context(), "alice@contoso.example", from, from.Add(24*time.Hour)); !errors.Is(err, calendar.ErrUnavailable) {
		t.Errorf("a mailbox not synced yet: Events error %v, want ErrUnavailable", err)
	}
}

// A request under way when the context ends (SIGTERM) is answered in
// full while the listener already refuses new connections; Wait returns
// once it has been.
func TestListenersDrain(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	entered, release := make(chan struct{}), make(chan struct{})
	l := &Listeners{Logger: slog.New(slog.DiscardHandler)}
	addr, err := l.Serve("test", "127.0.0.1:0", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		close(entered)
		<-release
		io.WriteString(w, "finished")
	}), nil)
	if err != nil {
		t.Fatal(err)
	}
	type answer struct {
		body string
		err  error
	}
	got := make(chan answer, 1)
	go func() {
		resp, err := http.Get("http://" + addr + "/")
		if err != nil {
			got <- answer{err: err}
			return
		}
		b, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		got <- answer{string(b), err}
	}()
	<-entered
	cancel()
	waited := make(chan error, 1)
	go func() { waited <- l.Wait(ctx) }()
	for { // the listener closes first
		c, err := net.Dial("tcp", addr)
		if err != nil {
			break
		}
		c.Close()
	}
	select {
	case err := <-waited:
		t.Fatalf("Wait returned (%v) with a request under way", err)
	default:
	}
	close(release)
	if a := <-got; a.err != nil || a.body != "finished" {
		t.Errorf("the request under way = %q, %v; want it finished", a.body, a.err)
	}
	if err := <-waited; err != nil {
		t.Errorf("Wait = %v", err)
	}
}
