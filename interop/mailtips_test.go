package interop

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/calfed/calfed/internal/testenv"
)

// tip is one recipient's MailTips as python/mailtips.py prints them.
type tip struct {
	Address     string `json:"address"`
	Invalid     *bool  `json:"invalid_recipient"`
	OutOfOffice *struct {
		Reply string  `json:"reply"`
		Start *string `json:"start"`
		End   *string `json:"end"`
	} `json:"out_of_office"`
	Custom  *string `json:"custom_mail_tip"`
	Members *int    `json:"total_member_count"`
}

// requireExchangelib is requireClients for the tests that use exchangelib
// alone.
func requireExchangelib(t *testing.T) {
	t.Helper()
	if out, err := exec.Command(debianPy, "-c", "import exchangelib").CombinedOutput(); err != nil {
		testenv.Missing(t, testenv.Exchangelib, fmt.Sprintf("not importable by %s: %v: %s", debianPy, err, bytes.TrimSpace(out)),
			"apt-get install python3-exchangelib, or run ./test.sh, which installs it")
	}
}

func askMailTips(t *testing.T, url, account, secret, sender string, addresses ...string) []tip {
	t.Helper()
	out := runClient(t, "exchangelib", append([]string{debianPy, "python/mailtips.py", url, account, secret, sender, "All"}, addresses...))
	var got []tip
	if err := json.Unmarshal(out, &got); err != nil || len(got) != len(addresses) {
		t.Fatalf("exchangelib output: %v\n%s", err, out)
	}
	return got
}

func describe(tp tip) string {
	b, _ := json.Marshal(tp)
	return string(b)
}

// exchangelib's GetMailTips against the demo: partner.example has the
// Limited set, trust.example All. Emma's configured automatic reply, an
// address nobody has, another organisation's address, and the service
// desk's custom MailTip.
func TestMailTipsExchangelib(t *testing.T) {
	requireExchangelib(t)
	s := startDemo(t)
	addrs := []string{"emma@contoso.example", "alice@contoso.example", "nobody@contoso.example", "someone@elsewhere.example", "servicedesk@contoso.example"}
	const emma = "Emma is on parental leave. For anything urgent, write to servicedesk@contoso.example."
	for _, tt := range []struct {
		account, sender string
		custom          bool // All: the custom MailTip and member counts too
	}{
		{"svc-partner", "kim@partner.example", false},
		{"svc-trust", "kim@trust.example", true},
	} {
		t.Run(tt.account, func(t *testing.T) {
			got := askMailTips(t, s.URL, tt.account, demoSecret, tt.sender, addrs...)
			for i, a := range addrs {
				if got[i].Address != a {
					t.Errorf("answer %d is for %q, want %q", i, got[i].Address, a)
				}
			}
			known := func(tp tip, reply string) bool {
				return tp.Invalid != nil && !*tp.Invalid && tp.OutOfOffice != nil && tp.OutOfOffice.Reply == reply &&
					(tp.Members != nil) == tt.custom
			}
			if !known(got[0], emma) {
				t.Errorf("Emma (configured automatic reply): %s", describe(got[0]))
			}
			if !known(got[1], "") || got[1].Custom != nil {
				t.Errorf("Alice (in the office): %s", describe(got[1]))
			}
			for _, tp := range got[2:4] {
				if tp.Invalid == nil || !*tp.Invalid || tp.OutOfOffice != nil {
					t.Errorf("%s (not ours): %s", tp.Address, describe(tp))
				}
			}
			if custom := got[4].Custom != nil && *got[4].Custom == "The IT Service Desk answers within one working day."; custom != tt.custom || !known(got[4], "") {
				t.Errorf("service desk (custom MailTip at All only): %s", describe(got[4]))
			}
		})
	}
}

// The automatic reply derived from an out-of-office event covering now,
// the relationship's MailTips level set with the command line, and the
// change reaching the running server: Limited, then off.
func TestMailTipsFromTheCalendar(t *testing.T) {
	requireExchangelib(t)
	dir := t.TempDir()
	now := time.Now().UTC()
	oof := func(uid string) string {
		return "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nBEGIN:VEVENT\r\nUID:" + uid + "\r\nSUMMARY:Conference\r\nX-MICROSOFT-CDO-BUSYSTATUS:OOF\r\n" +
			"DTSTART:" + now.Add(-24*time.Hour).Format("20060102T150405Z") + "\r\nDTEND:" + now.Add(48*time.Hour).Format("20060102T150405Z") +
			"\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
	}
	for name, cal := range map[string]string{"bob.ics": oof("conf-bob"), "dana.ics": oof("conf-dana"), "carl.ics": "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nEND:VCALENDAR\r\n"} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(cal), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	config := filepath.Join(dir, "calfed.yaml")
	if err := os.WriteFile(config, []byte(`data_dir: data
mailboxes:
  - address: bob@contoso.example
    display_name: Bob Singh
    calendar: bob.ics
  - address: dana@contoso.example
    calendar: dana.ics
    auto_reply: {message: "At a conference; back on Thursday.", end: "2000-01-01T00:00:00Z"}
  - address: carl@contoso.example
    calendar: carl.ics
`), 0o644); err != nil {
		t.Fatal(err)
	}
	cli := func(args ...string) []byte {
		t.Helper()
		cmd := exec.Command(calfedBin, append(args, "-config", config)...)
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("calfed %s: %v\n%s", strings.Join(args, " "), err, stderr.String())
		}
		return out
	}
	cli("orgrel", "new", "Partner", "-domains", "partner.example", "-free-busy", "-mail-tips", "-mail-tips-level", "Limited")
	var created struct{ Secret string }
	if err := json.Unmarshal(cli("account", "new", "svc-partner", "-relationship", "Partner", "-o", "json"), &created); err != nil || created.Secret == "" {
		t.Fatalf("account new: %v", err)
	}
	s := startServer(t, regexp.MustCompile(`msg=listening ews=(http://\S+)`), false,
		"serve", "-config", config, "-listen", "127.0.0.1:0", "-admin-listen", "127.0.0.1:0", "-log-level", "info")

	got := askMailTips(t, s.URL, "svc-partner", created.Secret, "kim@partner.example", "bob@contoso.example", "dana@contoso.example", "carl@contoso.example")
	period := func(tp tip) bool {
		o := tp.OutOfOffice
		if o == nil || o.Start == nil || o.End == nil {
			return false
		}
		start, err1 := time.Parse(time.RFC3339, *o.Start)
		end, err2 := time.Parse(time.RFC3339, *o.End)
		return err1 == nil && err2 == nil && start.Equal(now.Add(-24*time.Hour).Truncate(time.Second)) && end.Equal(now.Add(48*time.Hour).Truncate(time.Second))
	}
	bobReply := fmt.Sprintf("Bob Singh is out of the office until %s.", now.Add(48*time.Hour).Format("Monday 2 January 2006, 15:04 MST"))
	if o := got[0].OutOfOffice; o == nil || o.Reply != bobReply || !period(got[0]) {
		t.Errorf("Bob (out-of-office event, no reply text): %s, want %q", describe(got[0]), bobReply)
	}
	if o := got[1].OutOfOffice; o == nil || o.Reply != "At a conference; back on Thursday." || !period(got[1]) {
		t.Errorf("Dana (out-of-office event, the configured text): %s", describe(got[1]))
	}
	if o := got[2].OutOfOffice; o == nil || o.Reply != "" || o.Start != nil {
		t.Errorf("Carl (in the office): %s", describe(got[2]))
	}

	// MailTips off for the partner: the next answers carry none.
	cli("orgrel", "set", "Partner", "-mail-tips=false")
	deadline := time.Now().Add(30 * time.Second)
	for {
		got = askMailTips(t, s.URL, "svc-partner", created.Secret, "kim@partner.example", "bob@contoso.example", "nobody@contoso.example")
		if reflect.DeepEqual(got, []tip{{Address: "bob@contoso.example"}, {Address: "nobody@contoso.example"}}) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("MailTips still answered 30s after they were switched off: %s %s", describe(got[0]), describe(got[1]))
		}
		time.Sleep(100 * time.Millisecond) // pacing the poll, not timing anything
	}
}
