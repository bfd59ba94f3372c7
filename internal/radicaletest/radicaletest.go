// Package radicaletest runs a real Radicale CalDAV server (Debian's
// radicale package) on a free loopback port for tests, with its own
// configuration, storage and users, and writes calendars and events
// through CalDAV itself: MKCALENDAR, PUT (go-webdav's CalDAV client),
// MOVE and DELETE.
package radicaletest

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-ical"
	"github.com/emersion/go-webdav"
	"github.com/emersion/go-webdav/caldav"

	"github.com/calfed/calfed/internal/testenv"
)

// Binary is Debian's Radicale.
const Binary = "/usr/bin/radicale"

// Reader and Organiser are accounts every server has besides its users:
// Reader may read every user's calendars (as calfed's service account
// does), Organiser may also write them (to move events between users).
const (
	Reader    = "calfed"
	Organiser = "organiser"
)

// Server is a Radicale process; Stop and Start stop and restart it on
// the same port and storage.
type Server struct {
	URL  string // http://127.0.0.1:PORT/
	Dir  string
	t    testing.TB
	mu   sync.Mutex
	cmd  *exec.Cmd
	log  bytes.Buffer
	pass map[string]string
}

// Password is the password of a user, of Reader and of Organiser.
func (s *Server) Password(user string) string { return s.pass[user] }

// Start runs Radicale with users (each with a password of its own),
// ending the test through testenv.Missing when Radicale is not
// installed. It is stopped when the test ends.
func Start(t testing.TB, users ...string) *Server {
	t.Helper()
	if _, err := os.Stat(Binary); err != nil {
		testenv.Missing(t, testenv.Radicale, Binary+" is not installed", "apt-get install radicale, or run ./test.sh, which installs it")
	}
	dir := t.TempDir()
	// The storage goes in memory where it can: Radicale syncs every file
	// it writes, which a loaded disk makes slow.
	store := filepath.Join(dir, "collections")
	if shm, err := os.MkdirTemp("/dev/shm", "radicaletest-"); err == nil {
		store = shm
		t.Cleanup(func() { os.RemoveAll(shm) })
	}
	s := &Server{Dir: dir, t: t, pass: map[string]string{}}
	var htpasswd strings.Builder
	for _, u := range append(users, Reader, Organiser) {
		s.pass[u] = u + "-secret"
		fmt.Fprintf(&htpasswd, "%s:%s\n", u, s.pass[u])
	}
	// Rights: the first section that matches decides (Radicale's
	// from_file). R reads principals, r reads calendars, w writes them.
	rights := `[principal]
user: .+
collection: {user}
permissions: RW
[reader-principals]
user: ` + Reader + `
collection: [^/]*
permissions: R
[reader-calendars]
user: ` + Reader + `
collection: [^/]+/[^/]+
permissions: r
[organiser-principals]
user: ` + Organiser + `
collection: [^/]*
permissions: R
[organiser-calendars]
user: ` + Organiser + `
collection: [^/]+/[^/]+
permissions: rw
[root]
user: .+
collection:
permissions: R
[calendars]
user: .+
collection: {user}/[^/]+
permissions: rw
`
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	config := fmt.Sprintf(`[server]
hosts = %s
[auth]
type = htpasswd
htpasswd_filename = %s
htpasswd_encryption = plain
[rights]
type = from_file
file = %s
[storage]
filesystem_folder = %s
[logging]
level = warning
`, addr, filepath.Join(dir, "users"), filepath.Join(dir, "rights"), store)
	for name, data := range map[string]string{"users": htpasswd.String(), "rights": rights, "config": config} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(data), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	s.URL = "http://" + addr + "/"
	s.Start()
	t.Cleanup(func() {
		s.Stop()
		if t.Failed() {
			t.Logf("radicale log:\n%s", s.log.String())
		}
	})
	return s
}

// Start starts the server (again) and returns once it answers.
func (s *Server) Start() {
	s.t.Helper()
	s.mu.Lock()
	s.cmd = exec.Command(Binary, "--config", filepath.Join(s.Dir, "config"))
	s.cmd.Stdout, s.cmd.Stderr = &s.log, &s.log
	err := s.cmd.Start()
	s.mu.Unlock()
	if err != nil {
		s.t.Fatal(err)
	}
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); {
		if resp, err := http.Get(s.URL + ".web/"); err == nil {
			resp.Body.Close()
			return
		}
		time.Sleep(20 * time.Millisecond) // pacing the start-up poll, not timing anything
	}
	s.t.Fatalf("radicale did not answer within 30s:\n%s", s.log.String())
}

// Stop ends the server; it no longer answers when Stop returns.
func (s *Server) Stop() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd == nil {
		return
	}
	s.cmd.Process.Kill()
	s.cmd.Wait()
	s.cmd = nil
}

type basicAuth struct {
	user, pass string
	hc         *http.Client
}

func (b basicAuth) Do(req *http.Request) (*http.Response, error) {
	req.SetBasicAuth(b.user, b.pass)
	return b.hc.Do(req)
}

// Client is go-webdav's CalDAV client signed in as user.
func (s *Server) Client(user string) *caldav.Client {
	s.t.Helper()
	c, err := caldav.NewClient(s.HTTP(user), s.URL)
	if err != nil {
		s.t.Fatal(err)
	}
	return c
}

// HTTP is an HTTP client signed in as user.
func (s *Server) HTTP(user string) webdav.HTTPClient {
	return basicAuth{user, s.pass[user], &http.Client{Timeout: 60 * time.Second}}
}

// MkCalendar makes the calendar collection at path (such as
// "alice/work/") as user, RFC 4791 §5.3.1.
func (s *Server) MkCalendar(user, path, displayName string) {
	s.t.Helper()
	body := `<?xml version="1.0" encoding="utf-8"?><c:mkcalendar xmlns:d="DAV:" xmlns:c="urn:ietf:params:xml:ns:caldav"><d:set><d:prop><d:displayname>` +
		displayName + `</d:displayname></d:prop></d:set></c:mkcalendar>`
	s.do(user, "MKCALENDAR", path, body, nil, http.StatusCreated)
}

// Put stores an event at path (such as "alice/work/standup.ics") as user.
func (s *Server) Put(user, path, uid, summary string, start, end time.Time) {
	s.t.Helper()
	cal := ical.NewCalendar()
	cal.Props.SetText(ical.PropVersion, "2.0")
	cal.Props.SetText(ical.PropProductID, "-//calfed//radicaletest//EN")
	ev := ical.NewEvent()
	ev.Props.SetText(ical.PropUID, uid)
	ev.Props.SetText(ical.PropSummary, summary)
	ev.Props.SetDateTime(ical.PropDateTimeStamp, time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	ev.Props.SetDateTime(ical.PropDateTimeStart, start.UTC())
	ev.Props.SetDateTime(ical.PropDateTimeEnd, end.UTC())
	cal.Children = append(cal.Children, ev.Component)
	if _, err := s.Client(user).PutCalendarObject(context.Background(), "/"+path, cal); err != nil {
		s.t.Fatalf("PUT %s as %s: %v", path, user, err)
	}
}

// PutRaw stores data as it is at path, as user.
func (s *Server) PutRaw(user, path string, data []byte) {
	s.t.Helper()
	s.do(user, http.MethodPut, path, string(data), map[string]string{"Content-Type": "text/calendar; charset=utf-8"}, http.StatusCreated, http.StatusNoContent)
}

// PutCalendar makes (or replaces) the calendar at path (such as
// "alice/work/") as user with every event of data at once, one object
// per UID: Radicale's upload of a whole collection.
func (s *Server) PutCalendar(user, path string, data []byte) {
	s.t.Helper()
	s.do(user, http.MethodPut, path, string(data), map[string]string{"Content-Type": "text/calendar; charset=utf-8"}, http.StatusCreated, http.StatusNoContent)
}

// Move moves the object at from to to (paths on the server) as user.
func (s *Server) Move(user, from, to string) {
	s.t.Helper()
	if err := s.Client(user).Move(context.Background(), "/"+from, "/"+to, nil); err != nil {
		s.t.Fatalf("MOVE %s %s as %s: %v", from, to, user, err)
	}
}

// Delete deletes the object at path as user.
func (s *Server) Delete(user, path string) {
	s.t.Helper()
	if err := s.Client(user).RemoveAll(context.Background(), "/"+path); err != nil {
		s.t.Fatalf("DELETE %s as %s: %v", path, user, err)
	}
}

func (s *Server) do(user, method, path, body string, header map[string]string, want ...int) {
	s.t.Helper()
	req, err := http.NewRequest(method, s.URL+path, strings.NewReader(body))
	if err != nil {
		s.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/xml; charset=utf-8")
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := s.HTTP(user).Do(req)
	if err != nil {
		s.t.Fatalf("%s %s as %s: %v", method, path, user, err)
	}
	got, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, w := range want {
		if resp.StatusCode == w {
			return
		}
	}
	s.t.Fatalf("%s %s as %s: HTTP %d, want %v\n%s", method, path, user, resp.StatusCode, want, got)
}
