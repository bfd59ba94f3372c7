package interop

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/calfed/calfed/internal/pgtest"
)

// A partner's view of a mailbox follows changes made with the command line
// while the server runs: details after the user opts in, no access
// (ErrorNoFreeBusyAccess, as Exchange answers) after `calfed orgrel disable`. For both
// stores; the delays are measured and logged, not asserted.
func TestChangesReachTheRunningServer(t *testing.T) {
	requireClients(t)
	for _, backend := range []string{"sqlite", "postgres"} {
		t.Run(backend, func(t *testing.T) { changesReachServer(t, backend) })
	}
}

func changesReachServer(t *testing.T, backend string) {
	dir := t.TempDir()
	cal := "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nBEGIN:VEVENT\r\nUID:plan\r\nSUMMARY:Quarterly planning\r\nLOCATION:Room 2\r\n" +
		"DTSTART:20260324T100000Z\r\nDTEND:20260324T110000Z\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
	if err := os.WriteFile(filepath.Join(dir, "alice.ics"), []byte(cal), 0o644); err != nil {
		t.Fatal(err)
	}
	storeCfg := "data_dir: data\n"
	if backend == "postgres" {
		storeCfg = fmt.Sprintf("store:\n  driver: postgres\n  dsn: %q\n", pgtest.Database(t))
	}
	config := filepath.Join(dir, "calfed.yaml")
	if err := os.WriteFile(config, []byte(storeCfg+`
mailboxes:
  - address: alice@contoso.example
    display_name: Alice
    time_zone: Europe/London
    calendar: alice.ics
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
	cli("orgrel", "new", "Partner", "-domains", "partner.example", "-free-busy", "-level", "LimitedDetails")
	var created struct{ Secret string }
	if err := json.Unmarshal(cli("account", "new", "svc-partner", "-relationship", "Partner", "-o", "json"), &created); err != nil || created.Secret == "" {
		t.Fatalf("account new: %v", err)
	}
	s := startServer(t, regexp.MustCompile(`msg=listening ews=(http://\S+)`), false,
		"serve", "-config", config, "-listen", "127.0.0.1:0", "-admin-listen", "127.0.0.1:0", "-log-level", "info")

	sc := scenario{account: "svc-partner", view: "Detailed", start: "2026-03-24T00:00:00", end: "2026-03-25T00:00:00", interval: 30}
	ask := func() answer {
		out := runClient(t, "exchangelib", []string{debianPy, "python/freebusy.py", s.URL, sc.account, created.Secret, london,
			sc.start, sc.end, sc.view, "30", "alice@contoso.example"})
		var got []answer
		if err := json.Unmarshal(out, &got); err != nil || len(got) != 1 {
			t.Fatalf("exchangelib output: %v\n%s", err, out)
		}
		return got[0]
	}
	// Alice shares availability only, the default: times, no subject.
	if a := ask(); a.View != "FreeBusy" || len(a.Events) != 1 || a.Events[0].Subject != "" {
		t.Fatalf("before opting in: %+v", a)
	}

	delay := measure(t, s.URL, created.Secret, func() { cli("mailbox", "share", "alice@contoso.example", "-level", "LimitedDetails") },
		func(body string) bool { return strings.Contains(body, "<Subject>Quarterly planning</Subject>") })
	if a := ask(); a.View != "Detailed" || len(a.Events) != 1 || a.Events[0].Subject != "Quarterly planning" || a.Events[0].Location != "Room 2" {
		t.Fatalf("after opting in: %+v", a)
	}
	t.Logf("%s: opt-in reached the server %v after the command returned", backend, delay)

	delay = measure(t, s.URL, created.Secret, func() { cli("orgrel", "disable", "Partner") },
		func(body string) bool {
			return strings.Contains(body, "<ResponseCode>ErrorNoFreeBusyAccess</ResponseCode>")
		})
	if a := ask(); a.Error != "ErrorNoFreeBusyAccess" || !strings.HasSuffix(a.Message, "LID: 40764") {
		t.Fatalf("after de-federation: %+v", a)
	}
	t.Logf("%s: de-federation reached the server %v after the command returned", backend, delay)
}

// measure runs change, then asks the server directly until done accepts
// its answer, and returns the time from change's return to that answer.
func measure(t *testing.T, url, secret string, change func(), done func(body string) bool) time.Duration {
	t.Helper()
	body := `<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/" xmlns:t="http://schemas.microsoft.com/exchange/services/2006/types" xmlns:m="http://schemas.microsoft.com/exchange/services/2006/messages"><s:Body><m:GetUserAvailabilityRequest><m:MailboxDataArray><t:MailboxData><t:Email><t:Address>alice@contoso.example</t:Address></t:Email></t:MailboxData></m:MailboxDataArray><t:FreeBusyViewOptions><t:TimeWindow><t:StartTime>2026-03-24T00:00:00Z</t:StartTime><t:EndTime>2026-03-25T00:00:00Z</t:EndTime></t:TimeWindow><t:RequestedView>Detailed</t:RequestedView></t:FreeBusyViewOptions></m:GetUserAvailabilityRequest></s:Body></s:Envelope>`
	change()
	start := time.Now()
	deadline := start.Add(30 * time.Second)
	for n := 0; time.Now().Before(deadline); n++ {
		req, _ := http.NewRequest(http.MethodPost, url, strings.NewReader(body))
		req.SetBasicAuth("svc-partner", secret)
		req.Header.Set("Content-Type", "text/xml; charset=utf-8")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		got, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if done(string(got)) {
			return time.Since(start)
		}
		time.Sleep(5 * time.Millisecond) // pacing the poll, not timing anything
	}
	t.Fatalf("the change did not reach the server within 30s")
	return 0
}
