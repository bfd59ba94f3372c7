package interop

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/calfed/calfed/internal/radicaletest"
	"github.com/calfed/calfed/internal/testenv"
)

// availability is what a GetUserAvailability answer says of one mailbox:
// its response code and its events' times and busy types.
type availability struct {
	Code   string
	Events []string // "START-END BUSYTYPE", as sent
}

// askAvailability sends GetUserAvailability for address over 24 March
// 2026, as a partner's service account, and decodes the answer.
func askAvailability(t *testing.T, url, account, secret, address string) availability {
	t.Helper()
	body := `<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/" xmlns:t="http://schemas.microsoft.com/exchange/services/2006/types" xmlns:m="http://schemas.microsoft.com/exchange/services/2006/messages"><s:Body><m:GetUserAvailabilityRequest><m:MailboxDataArray><t:MailboxData><t:Email><t:Address>` +
		address + `</t:Address></t:Email></t:MailboxData></m:MailboxDataArray><t:FreeBusyViewOptions><t:TimeWindow><t:StartTime>2026-03-24T00:00:00Z</t:StartTime><t:EndTime>2026-03-25T00:00:00Z</t:EndTime></t:TimeWindow><t:RequestedView>FreeBusy</t:RequestedView></t:FreeBusyViewOptions></m:GetUserAvailabilityRequest></s:Body></s:Envelope>`
	req, _ := http.NewRequest(http.MethodPost, url, strings.NewReader(body))
	req.SetBasicAuth(account, secret)
	req.Header.Set("Content-Type", "text/xml; charset=utf-8")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	data, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	var env struct {
		Responses []struct {
			Code   string `xml:"ResponseMessage>ResponseCode"`
			Events []struct {
				Start string `xml:"StartTime"`
				End   string `xml:"EndTime"`
				Busy  string `xml:"BusyType"`
			} `xml:"FreeBusyView>CalendarEventArray>CalendarEvent"`
		} `xml:"Body>GetUserAvailabilityResponse>FreeBusyResponseArray>FreeBusyResponse"`
	}
	if err := xml.Unmarshal(data, &env); err != nil || len(env.Responses) != 1 {
		t.Fatalf("GetUserAvailability %s: %v\n%s", address, err, data)
	}
	a := availability{Code: env.Responses[0].Code}
	for _, e := range env.Responses[0].Events {
		a.Events = append(a.Events, e.Start+"-"+e.End+" "+e.Busy)
	}
	slices.Sort(a.Events)
	return a
}

func (a availability) String() string { return fmt.Sprintf("%s %v", a.Code, a.Events) }

// calDAVCalfed is a calfed serving a configuration with CalDAV
// mailboxes to a partner's service account.
type calDAVCalfed struct {
	s      *server
	Secret string
	t      *testing.T
}

// startCalDAVCalfed creates the partner's relationship and service
// account in config's store and serves config.
func startCalDAVCalfed(t *testing.T, config string) *calDAVCalfed {
	t.Helper()
	cli := func(args ...string) []byte {
		t.Helper()
		cmd := exec.Command(calfedBin, append(args, "-config", config)...)
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("calfed %s: %v\n%s%s", strings.Join(args, " "), err, out, stderr.String())
		}
		return out
	}
	cli("orgrel", "new", "Partner", "-domains", "partner.example", "-free-busy", "-level", "AvailabilityOnly")
	c := &calDAVCalfed{t: t}
	if err := json.Unmarshal(cli("account", "new", "svc-partner", "-relationship", "Partner", "-o", "json"), c); err != nil || c.Secret == "" {
		t.Fatalf("account new: %v", err)
	}
	c.s = startServer(t, regexp.MustCompile(`msg=listening ews=(http://\S+)`), false,
		"serve", "-config", config, "-listen", "127.0.0.1:0", "-admin-listen", "127.0.0.1:0", "-log-level", "info")
	return c
}

func (c *calDAVCalfed) ask(address string) availability {
	c.t.Helper()
	return askAvailability(c.t, c.s.URL, "svc-partner", c.Secret, address)
}

// okAnswer is a mailbox's answer with these events.
func okAnswer(events ...string) availability {
	slices.Sort(events)
	return availability{Code: "NoError", Events: events}
}

// until asks until want answers for each address, and returns how long
// that took after the change.
func (c *calDAVCalfed) until(what string, want map[string]availability) time.Duration {
	c.t.Helper()
	start := time.Now()
	var last string
	for deadline := start.Add(60 * time.Second); time.Now().Before(deadline); {
		last = ""
		for _, a := range slices.Sorted(maps.Keys(want)) {
			if got := c.ask(a); got.String() != want[a].String() {
				last += fmt.Sprintf("\n  %s: %v, want %v", a, got, want[a])
			}
		}
		if last == "" {
			c.t.Logf("%s: seen after %v", what, time.Since(start).Round(time.Millisecond))
			return time.Since(start)
		}
		time.Sleep(50 * time.Millisecond) // pacing the poll, not timing anything
	}
	c.t.Fatalf("%s: not seen within 60s:%s", what, last)
	return 0
}

// Calendars on a real Radicale, created and changed through CalDAV: each
// change (create, change, move between users, delete) reaches calfed's
// GetUserAvailability answer; with Radicale stopped the last good
// calendars answer until max_staleness, then the mailboxes fail with
// ErrorFreeBusyGenerationFailed, naming the server in the log; restarted,
// they answer again.
func TestCalDAVRadicale(t *testing.T) {
	dav := radicaletest.Start(t, "alice", "bob")
	day := func(h, m int) time.Time { return time.Date(2026, 3, 24, h, m, 0, 0, time.UTC) }
	dav.MkCalendar("alice", "alice/work/", "Work")
	dav.MkCalendar("alice", "alice/personal/", "Personal")
	dav.MkCalendar("bob", "bob/calendar/", "Calendar")
	dav.Put("alice", "alice/work/standup.ics", "standup", "Stand-up", day(10, 0), day(11, 0))

	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "dav.password"), []byte(dav.Password(radicaletest.Reader)+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	config := filepath.Join(dir, "calfed.yaml")
	if err := os.WriteFile(config, []byte(`data_dir: data
calendars: {reload_interval: 100ms}
caldav:
  - name: radicale
    url: `+dav.URL+`
    calendar_url: /{user}/
    username: `+radicaletest.Reader+`
    password_file: dav.password
    sync_interval: 1s
    max_staleness: 6s
    max_backoff: 1s
    timeout: 2s
    mailboxes:
      addresses: [alice@contoso.example, bob@contoso.example]
      time_zone: Europe/London
`), 0o644); err != nil {
		t.Fatal(err)
	}
	c := startCalDAVCalfed(t, config)
	s, ask, ok, until := c.s, c.ask, okAnswer, c.until
	const standup, standupMoved, review = "2026-03-24T10:00:00-2026-03-24T11:00:00 Busy", "2026-03-24T09:00:00-2026-03-24T09:30:00 Busy", "2026-03-24T14:00:00-2026-03-24T15:00:00 Busy"
	// Times come back in the request's zone: UTC, without an offset.
	if a, b := ask("alice@contoso.example"), ask("bob@contoso.example"); a.String() != ok(standup).String() || b.String() != ok().String() {
		t.Fatalf("first sync: alice %v, bob %v", a, b)
	}
	if out := runClient(t, "exchangelib", []string{debianPy, "python/freebusy.py", s.URL, "svc-partner", c.Secret, "UTC",
		"2026-03-24T00:00:00", "2026-03-25T00:00:00", "FreeBusy", "30", "alice@contoso.example"}); !bytes.Contains(out, []byte(`"start": "2026-03-24T10:00:00"`)) {
		t.Fatalf("exchangelib does not see the stand-up: %s", out)
	}

	// calfed calendar check syncs the mailbox itself and shows its
	// server, last sync and calendars.
	check := func() (string, int) {
		cmd := exec.Command(calfedBin, "calendar", "check", "alice@contoso.example", "-config", config)
		out, _ := cmd.CombinedOutput()
		return string(out), cmd.ProcessState.ExitCode()
	}
	if out, code := check(); code != 0 || !strings.Contains(out, "calendar "+dav.URL+"alice/work/ (Work): 1 objects, changes found by sync-collection") ||
		!strings.Contains(out, "last sync: ") || !strings.Contains(out, "1 instances served, 0 problems") {
		t.Fatalf("calendar check: exit %d\n%s", code, out)
	}

	dav.Put("alice", "alice/personal/review.ics", "review", "Review", day(14, 0), day(15, 0))
	until("created", map[string]availability{"alice@contoso.example": ok(standup, review)})
	dav.Put("alice", "alice/work/standup.ics", "standup", "Stand-up", day(9, 0), day(9, 30))
	until("changed", map[string]availability{"alice@contoso.example": ok(standupMoved, review)})
	dav.Move(radicaletest.Organiser, "alice/personal/review.ics", "bob/calendar/review.ics")
	until("moved to bob", map[string]availability{"alice@contoso.example": ok(standupMoved), "bob@contoso.example": ok(review)})
	dav.Delete("alice", "alice/work/standup.ics")
	until("deleted", map[string]availability{"alice@contoso.example": ok(), "bob@contoso.example": ok(review)})

	// Outage: the last good calendars answer, then, past max_staleness,
	// the mailboxes fail, and the log names the server.
	dav.Stop()
	logged := func(what string) bool {
		s.mu.Lock()
		defer s.mu.Unlock()
		return strings.Contains(s.stderr.String(), what)
	}
	for deadline := time.Now().Add(60 * time.Second); !logged("caldav server not answering"); {
		if time.Now().After(deadline) {
			t.Fatal("no sync failure logged within 60s of stopping radicale")
		}
		time.Sleep(50 * time.Millisecond) // pacing the poll, not timing anything
	}
	if b := ask("bob@contoso.example"); b.String() != ok(review).String() {
		t.Fatalf("radicale stopped, within max_staleness: bob %v, want the last good %v", b, ok(review))
	}
	failed := availability{Code: "ErrorFreeBusyGenerationFailed"}
	until("failed past max_staleness", map[string]availability{"alice@contoso.example": failed, "bob@contoso.example": failed})
	if !logged("caldav server radicale: last good sync") {
		t.Errorf("the log does not say which server failed the mailboxes")
	}

	if out, code := check(); code != 2 || !strings.Contains(out, "cannot be read") || !strings.Contains(out, "connection refused") {
		t.Errorf("calendar check with radicale stopped: exit %d\n%s", code, out)
	}

	dav.Start()
	until("recovered", map[string]availability{"alice@contoso.example": ok(), "bob@contoso.example": ok(review)})
}

// Calendars on a real Xandikos (Debian's xandikos), a second CalDAV
// server: the mailbox has no URL configured, so its calendars are
// discovered from the server (well-known URI, current-user-principal,
// calendar-home-set); events created, changed, moved between its
// calendars and deleted reach the answer, each counted once.
func TestCalDAVXandikos(t *testing.T) {
	const bin = "/usr/bin/xandikos"
	if _, err := os.Stat(bin); err != nil {
		testenv.Missing(t, testenv.Xandikos, bin+" is not installed", "apt-get install xandikos, or run ./test.sh, which installs it")
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().(*net.TCPAddr)
	l.Close()
	dir := t.TempDir()
	var xlog bytes.Buffer
	x := exec.Command(bin, "-d", filepath.Join(dir, "dav"), "--defaults", "-l", "127.0.0.1", "-p", strconv.Itoa(addr.Port))
	x.Stdout, x.Stderr = &xlog, &xlog
	if err := x.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		x.Process.Kill()
		x.Wait()
		if t.Failed() {
			t.Logf("xandikos log:\n%s", xlog.String())
		}
	})
	base := fmt.Sprintf("http://%s/", addr)
	dav := func(method, path, body string, want int) {
		t.Helper()
		req, _ := http.NewRequest(method, base+path, strings.NewReader(body))
		if method == "PUT" {
			req.Header.Set("Content-Type", "text/calendar; charset=utf-8")
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatalf("%s %s: %v", method, path, err)
		}
		got, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != want {
			t.Fatalf("%s %s: HTTP %d, want %d\n%s", method, path, resp.StatusCode, want, got)
		}
	}
	for deadline := time.Now().Add(60 * time.Second); ; {
		if resp, err := http.Get(base); err == nil {
			resp.Body.Close()
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("xandikos did not answer within 60s:\n%s", xlog.String())
		}
		time.Sleep(20 * time.Millisecond) // pacing the start-up poll, not timing anything
	}
	ev := func(uid, start, end string) string {
		return "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//calfed//interop//EN\r\nBEGIN:VEVENT\r\nUID:" + uid + "\r\nDTSTAMP:20260101T000000Z\r\nDTSTART:" + start +
			"\r\nDTEND:" + end + "\r\nSUMMARY:" + uid + "\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
	}
	dav("MKCALENDAR", "user/calendars/other/", "", http.StatusCreated)
	dav("PUT", "user/calendars/calendar/plan.ics", ev("plan", "20260324T100000Z", "20260324T110000Z"), http.StatusCreated)

	config := filepath.Join(dir, "calfed.yaml")
	if err := os.WriteFile(config, []byte(`data_dir: data
calendars: {reload_interval: 100ms}
caldav:
  - name: xandikos
    url: `+base+`
    sync_interval: 1s
    max_staleness: 1m
    timeout: 5s
mailboxes:
  - address: user@contoso.example
    caldav: {server: xandikos}
`), 0o644); err != nil {
		t.Fatal(err)
	}
	c := startCalDAVCalfed(t, config)
	const plan, planMoved, review = "2026-03-24T10:00:00-2026-03-24T11:00:00 Busy", "2026-03-24T08:00:00-2026-03-24T09:00:00 Busy", "2026-03-24T14:00:00-2026-03-24T15:00:00 Busy"
	const user = "user@contoso.example"
	if a := c.ask(user); a.String() != okAnswer(plan).String() {
		t.Fatalf("first sync: %v", a)
	}
	dav("PUT", "user/calendars/other/review.ics", ev("review", "20260324T140000Z", "20260324T150000Z"), http.StatusCreated)
	c.until("created", map[string]availability{user: okAnswer(plan, review)})
	dav("PUT", "user/calendars/calendar/plan.ics", ev("plan", "20260324T080000Z", "20260324T090000Z"), http.StatusNoContent)
	c.until("changed", map[string]availability{user: okAnswer(planMoved, review)})
	// Xandikos 0.2.8 answers MOVE with 405: clients move an event as a
	// PUT into the new calendar and a DELETE from the old.
	dav("PUT", "user/calendars/calendar/review.ics", ev("review", "20260324T140000Z", "20260324T150000Z"), http.StatusCreated)
	dav("DELETE", "user/calendars/other/review.ics", "", http.StatusNoContent)
	dav("DELETE", "user/calendars/calendar/plan.ics", "", http.StatusNoContent)
	c.until("moved and deleted", map[string]availability{user: okAnswer(review)})
}
