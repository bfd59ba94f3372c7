package interop

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/calfed/calfed/internal/dnstest"
	"github.com/calfed/calfed/internal/testenv"
)

// bobCalendar is B's user with one event of each kind the fronts show
// differently, on 24 March 2026.
const bobCalendar = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//interop//EN\r\n" +
	"BEGIN:VEVENT\r\nUID:b1\r\nSUMMARY:Design review\r\nLOCATION:Room 2\r\nDTSTART:20260324T100000Z\r\nDTEND:20260324T110000Z\r\nEND:VEVENT\r\n" +
	"BEGIN:VEVENT\r\nUID:b2\r\nSUMMARY:Maybe lunch\r\nSTATUS:TENTATIVE\r\nDTSTART:20260324T123000Z\r\nDTEND:20260324T133000Z\r\nEND:VEVENT\r\n" +
	"BEGIN:VEVENT\r\nUID:b3\r\nSUMMARY:Away\r\nX-MICROSOFT-CDO-BUSYSTATUS:OOF\r\nDTSTART:20260324T150000Z\r\nDTEND:20260324T170000Z\r\nEND:VEVENT\r\n" +
	"BEGIN:VEVENT\r\nUID:b4\r\nSUMMARY:Doctor\r\nCLASS:PRIVATE\r\nDTSTART:20260324T080000Z\r\nDTEND:20260324T090000Z\r\nEND:VEVENT\r\n" +
	"BEGIN:VEVENT\r\nUID:b5\r\nSUMMARY:Reading time\r\nTRANSP:TRANSPARENT\r\nDTSTART:20260324T170000Z\r\nDTEND:20260324T180000Z\r\nEND:VEVENT\r\n" +
	"END:VCALENDAR\r\n"

// parseVFreeBusy reads a VFREEBUSY with Debian's python3-icalendar and
// returns its FREEBUSY periods as "FBTYPE start/end" in UTC.
func parseVFreeBusy(t *testing.T, data []byte) []string {
	t.Helper()
	const script = `
import sys, json, icalendar
cal = icalendar.Calendar.from_ical(sys.stdin.buffer.read())
out = []
for fb in cal.walk('VFREEBUSY'):
    ps = fb.get('FREEBUSY') or []
    if not isinstance(ps, list):
        ps = [ps]
    for p in ps:
        s, e = p.start, p.end
        out.append('%s %s/%s' % (p.params.get('FBTYPE', 'BUSY'), s.strftime('%Y%m%dT%H%M%SZ'), e.strftime('%Y%m%dT%H%M%SZ')))
    out.append('ORGANIZER ' + str(fb.get('ORGANIZER')))
print(json.dumps(out))
`
	if out, err := exec.Command(debianPy, "-c", "import icalendar").CombinedOutput(); err != nil {
		testenv.Missing(t, testenv.ICalendar, fmt.Sprintf("not importable by %s: %v: %s", debianPy, err, bytes.TrimSpace(out)),
			"apt-get install python3-icalendar, or run ./test.sh, which installs it")
	}
	cmd := exec.Command(debianPy, "-c", script)
	cmd.Stdin = bytes.NewReader(data)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("python3-icalendar: %v\n%s\n%s", err, out, data)
	}
	var periods []string
	if err := json.Unmarshal(out, &periods); err != nil {
		t.Fatalf("python3-icalendar: %v: %s", err, out)
	}
	return periods
}

// fetch asks one of A's fronts as a user.
type userClient struct {
	base, user, token string
	client            *http.Client
}

func (u *userClient) get(t *testing.T, path string, hdr map[string]string) (int, []byte) {
	t.Helper()
	req, _ := http.NewRequest("GET", u.base+path, nil)
	if u.token != "" {
		req.SetBasicAuth(u.user, u.token)
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	c := u.client
	if c == nil {
		c = http.DefaultClient
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, body
}

type jsonAttendee struct {
	Address      string `json:"address"`
	ResponseCode string `json:"response_code"`
	View         string `json:"view"`
	Busy         []struct {
		Start, End time.Time
		Type       string `json:"type"`
		Subject    string `json:"subject"`
		Location   string `json:"location"`
		Private    bool   `json:"private"`
	} `json:"busy"`
	Error        *struct{ Code, Message string } `json:"error"`
	WorkingHours *struct {
		Days       []string
		Start, End string
	} `json:"working_hours"`
}

func (u *userClient) availability(t *testing.T, attendees ...string) map[string]jsonAttendee {
	t.Helper()
	body, _ := json.Marshal(map[string]any{"attendees": attendees, "start": "2026-03-24", "end": "2026-03-25"})
	req, _ := http.NewRequest("POST", u.base+"/freebusy/v1/availability", bytes.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+u.token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		t.Fatalf("POST availability = %d %s", resp.StatusCode, data)
	}
	var r struct{ Attendees []jsonAttendee }
	if err := json.Unmarshal(data, &r); err != nil || len(r.Attendees) != len(attendees) {
		t.Fatalf("availability: %v %s", err, data)
	}
	out := map[string]jsonAttendee{}
	for _, a := range r.Attendees {
		out[a.Address] = a
	}
	return out
}

// eventually retries check until it holds: a relationship change takes a
// moment to reach the other server.
func eventually(t *testing.T, what string, check func() (bool, string)) {
	t.Helper()
	last := ""
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); {
		ok, got := check()
		if ok {
			return
		}
		last = got
		time.Sleep(100 * time.Millisecond) // pacing the retries, not timing anything
	}
	t.Fatalf("%s: last %s", what, last)
}

// A user of A sees B's users through the iCalendar URL and the JSON
// endpoint: federated, then cross-forest, with an opted-out user, an
// unknown one, a partner that never answers, and a disabled
// relationship; the VFREEBUSY is read by python3-icalendar.
func TestUsersSeePartners(t *testing.T) {
	root := t.TempDir()
	zone := dnstest.Start(t)
	a := newOrg(root, zone, "A", "a.example", "alice", "Budget call")
	b := newOrg(root, zone, "B", "b.example", "bob", "Design review")
	os.WriteFile(filepath.Join(b.dir, "bob.ics"), []byte(bobCalendar), 0o644)
	os.WriteFile(filepath.Join(b.dir, "carol.ics"), []byte(bobCalendar), 0o644)
	appendFile(t, b.config, "  - address: carol@b.example\n    calendar: carol.ics\n")
	// A: partners are asked within 5s and answers not kept, so that each
	// step sees the last change; its reverse proxy connects from
	// 127.0.0.2, and 127.0.0.3 may look without signing in.
	appendFile(t, a.config, "partners: {timeout: 5s, cache: 1ms}\nusers: {proxy_header: X-Remote-User, proxy_sources: [127.0.0.2], anonymous_sources: [127.0.0.3]}\n")
	for _, o := range []*org{a, b} {
		o.cli(t, "trust", "certificate", "new")
		os.WriteFile(filepath.Join(root, o.name+".pem"), o.cli(t, "trust", "certificate", "export"), 0o644)
		o.publishProof(t, zone)
	}
	stsConfig := filepath.Join(root, "sts.yaml")
	os.WriteFile(stsConfig, []byte(`issuer_uri: urn:federation:calfed-dev
organizations:
  - {name: A, application_uri: FYDIBOHF25SPDLT.a.example, domains: [a.example], certificate: A.pem}
  - {name: B, application_uri: FYDIBOHF25SPDLT.b.example, domains: [b.example], certificate: B.pem}
`), 0o644)
	sts := startServer(t, regexp.MustCompile(`metadata (http://\S+)`), true, "sts", "serve", "-config", stsConfig, "-listen", "127.0.0.1:0")
	for _, o := range []*org{a, b} {
		o.cli(t, "trust", "new", "-account-namespace", o.domain, "-metadata", sts.URL)
		s := startServer(t, regexp.MustCompile(`msg=listening ews=(http://\S+)`), false, "serve", "-config", o.config, "-listen", "127.0.0.1:0", "-admin-listen", "127.0.0.1:0")
		o.base = strings.TrimSuffix(s.URL, "/EWS/Exchange.asmx")
	}
	a.cli(t, "orgrel", "new", "B", "-domains", "b.example", "-free-busy", "-level", "AvailabilityOnly",
		"-target-application-uri", "FYDIBOHF25SPDLT.b.example", "-target-autodiscover-epr", b.base+"/autodiscover/autodiscover.svc/WSSecurity")
	b.cli(t, "orgrel", "new", "A", "-domains", "a.example", "-free-busy", "-level", "LimitedDetails",
		"-target-application-uri", "FYDIBOHF25SPDLT.a.example", "-target-autodiscover-epr", a.base+"/autodiscover/autodiscover.svc/WSSecurity")
	b.cli(t, "mailbox", "share", "carol@b.example", "-level", "None")
	// C never answers: a listener that accepts and says nothing. A asks
	// it cross-forest, with the credentials C gave.
	blackhole, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer blackhole.Close()
	go func() {
		var held []net.Conn
		for {
			c, err := blackhole.Accept()
			if err != nil {
				for _, c := range held {
					c.Close()
				}
				return
			}
			held = append(held, c)
		}
	}()
	secretFile := filepath.Join(root, "c-secret")
	os.WriteFile(secretFile, []byte("given-by-c\n"), 0o600)
	a.cli(t, "orgrel", "new", "C", "-domains", "c.example", "-free-busy", "-target-sharing-epr", "http://"+blackhole.Addr().String()+"/EWS/Exchange.asmx")
	a.cli(t, "orgrel", "set", "C", "-outbound-account", "svc-a", "-outbound-secret-file", secretFile)

	var tok struct{ Token string }
	if err := json.Unmarshal(a.cli(t, "user", "token", "new", "alice@a.example", "-label", "interop", "-o", "json"), &tok); err != nil || !strings.HasPrefix(tok.Token, "cfu_") {
		t.Fatalf("user token new: %v %+v", err, tok)
	}
	alice := &userClient{base: a.base, user: "alice@a.example", token: tok.Token}

	// The iCalendar URL, as Outlook's %NAME%@%SERVER%.vfb fills it in.
	var vfb []byte
	eventually(t, "B's bob through the iCalendar URL", func() (bool, string) {
		code, body := alice.get(t, "/freebusy/bob@b.example.vfb?start=2026-03-24&end=2026-03-25", nil)
		vfb = body
		return code == 200, fmt.Sprintf("%d %s", code, body)
	})
	got := parseVFreeBusy(t, vfb)
	want := []string{
		"BUSY 20260324T080000Z/20260324T090000Z",
		"BUSY 20260324T100000Z/20260324T110000Z",
		"BUSY-TENTATIVE 20260324T123000Z/20260324T133000Z",
		"BUSY-UNAVAILABLE 20260324T150000Z/20260324T170000Z",
		"ORGANIZER mailto:bob@b.example",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("python3-icalendar reads:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}

	// The JSON endpoint, every kind of attendee in one question.
	ans := alice.availability(t, "bob@b.example", "carol@b.example", "nobody@b.example", "alice@a.example", "x@c.example", "y@nowhere.example")
	bob := ans["bob@b.example"]
	if bob.ResponseCode != "NoError" || bob.View != "Detailed" || len(bob.Busy) != 5 || bob.Busy[4].Type != "Free" {
		t.Fatalf("bob (B grants A LimitedDetails, bob opted in) = %+v", bob)
	}
	if wh := bob.WorkingHours; wh == nil || len(wh.Days) != 5 || wh.Start != "08:00" || wh.End != "17:00" {
		t.Errorf("bob's working hours, as B gave them: %+v", wh)
	}
	if e := bob.Busy[1]; e.Subject != "Design review" || e.Location != "Room 2" || e.Type != "Busy" {
		t.Errorf("bob's meeting = %+v", e)
	}
	if e := bob.Busy[0]; !e.Private || e.Subject != "" {
		t.Errorf("bob's private item = %+v", e)
	}
	for addr, code := range map[string]string{
		"carol@b.example":   "ErrorNoFreeBusyAccess",      // opted out, answered by B
		"nobody@b.example":  "ErrorMailRecipientNotFound", // B's answer
		"x@c.example":       "ErrorTimeoutExpired",        // C never answers
		"y@nowhere.example": "ErrorMailRecipientNotFound", // no relationship: not routed
	} {
		if e := ans[addr]; e.Error == nil || e.Error.Code != code || e.ResponseCode != code {
			t.Errorf("%s = %+v, want %s", addr, e, code)
		}
	}
	if e := ans["alice@a.example"]; e.ResponseCode != "NoError" || len(e.Busy) != 1 || e.Busy[0].Subject != "Budget call" {
		t.Errorf("alice, ours (opted in to details) = %+v", e)
	}

	// calfed freebusy asks through the same path: what it shows is what
	// the endpoint gave.
	var cli []answer2
	if err := json.Unmarshal(a.cli(t, "freebusy", "-as", "alice@a.example", "bob@b.example", "carol@b.example", "-start", "2026-03-24", "-end", "2026-03-25", "-view", "Detailed", "-o", "json"), &cli); err != nil || len(cli) != 2 {
		t.Fatalf("calfed freebusy: %v %+v", err, cli)
	}
	if len(cli[0].Events) != len(bob.Busy) || cli[1].ResponseCode != "ErrorNoFreeBusyAccess" {
		t.Errorf("calfed freebusy = %+v, the endpoint gave %+v", cli, bob)
	}
	for i, e := range cli[0].Events {
		if e.Subject != bob.Busy[i].Subject || e.Busy != bob.Busy[i].Type {
			t.Errorf("calfed freebusy's event %d = %+v, the endpoint's %+v", i, e, bob.Busy[i])
		}
	}

	// Cross-forest: B gives A a service account; A asks with it.
	var acct struct{ Secret string }
	if err := json.Unmarshal(b.cli(t, "account", "new", "svc-a", "-relationship", "A", "-o", "json"), &acct); err != nil || acct.Secret == "" {
		t.Fatalf("account new: %v %+v", err, acct)
	}
	bSecret := filepath.Join(root, "b-secret")
	os.WriteFile(bSecret, []byte(acct.Secret+"\n"), 0o600)
	a.cli(t, "orgrel", "set", "B", "-outbound-account", "svc-a", "-outbound-secret-file", bSecret, "-target-sharing-epr", b.base+"/EWS/Exchange.asmx")
	eventually(t, "bob cross-forest", func() (bool, string) {
		e := alice.availability(t, "bob@b.example")["bob@b.example"]
		return e.ResponseCode == "NoError" && len(e.Busy) == 5 && e.Busy[1].Subject == "Design review", fmt.Sprintf("%+v", e)
	})
	// It is the account that lets A in: revoked, A is refused.
	b.cli(t, "account", "revoke", "svc-a")
	eventually(t, "bob after B revoked A's account", func() (bool, string) {
		e := alice.availability(t, "bob@b.example")["bob@b.example"]
		return e.Error != nil && e.Error.Code == "ErrorProxyRequestProcessingFailed" && strings.Contains(e.Error.Message, "401"), fmt.Sprintf("%+v", e)
	})

	// A disables its relationship with B: nobody asks B any more.
	a.cli(t, "orgrel", "disable", "B")
	eventually(t, "bob after A disabled B", func() (bool, string) {
		code, body := alice.get(t, "/freebusy/bob@b.example.vfb?start=2026-03-24&end=2026-03-25", nil)
		return code == 404 && strings.Contains(string(body), "disabled"), fmt.Sprintf("%d %s", code, body)
	})
	if e := alice.availability(t, "bob@b.example")["bob@b.example"]; e.Error == nil || !strings.Contains(e.Error.Message, "disabled") {
		t.Errorf("JSON, B disabled: %+v", e)
	}

	// Who may ask: nobody without credentials, nobody with a revoked
	// token; the proxy's header only from the proxy; anonymous only from
	// its network, and only for ours.
	if code, _ := (&userClient{base: a.base}).get(t, "/freebusy/alice@a.example.vfb", nil); code != 401 {
		t.Errorf("without credentials: %d", code)
	}
	fromAddr := func(ip string) *http.Client {
		d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}}
		return &http.Client{Transport: &http.Transport{DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			return d.DialContext(ctx, network, addr)
		}}}
	}
	hdr := map[string]string{"X-Remote-User": "alice@a.example"}
	if code, _ := (&userClient{base: a.base}).get(t, "/freebusy/alice@a.example.vfb?start=2026-03-24&end=2026-03-25", hdr); code != 401 {
		t.Errorf("the proxy's header from elsewhere: %d", code)
	}
	if code, body := (&userClient{base: a.base, client: fromAddr("127.0.0.2")}).get(t, "/freebusy/alice@a.example.vfb?start=2026-03-24&end=2026-03-25", hdr); code != 200 || !strings.Contains(string(body), "FREEBUSY;FBTYPE=BUSY:20260324T100000Z/20260324T110000Z") {
		t.Errorf("the proxy's header from the proxy: %d %s", code, body)
	}
	anon := &userClient{base: a.base, client: fromAddr("127.0.0.3")}
	if code, _ := anon.get(t, "/freebusy/alice@a.example.vfb?start=2026-03-24&end=2026-03-25", nil); code != 200 {
		t.Errorf("anonymous from its network, ours: %d", code)
	}
	if code, _ := anon.get(t, "/freebusy/x@c.example.vfb?start=2026-03-24&end=2026-03-25", nil); code != 404 {
		t.Errorf("anonymous from its network, a partner's: %d", code)
	}
	var list []struct{ ID string }
	json.Unmarshal(a.cli(t, "user", "token", "list", "alice@a.example", "-o", "json"), &list)
	if len(list) != 1 {
		t.Fatalf("user token list: %+v", list)
	}
	a.cli(t, "user", "token", "revoke", list[0].ID)
	if code, _ := alice.get(t, "/freebusy/alice@a.example.vfb", nil); code != 401 {
		t.Errorf("with a revoked token: %d", code)
	}
}

func appendFile(t *testing.T, path, s string) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteString(s); err != nil {
		t.Fatal(err)
	}
}
