package interop

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// An answer over a megabyte is sent as it is written, in chunked transfer
// coding without a Content-Length (docs/protocol.md §1.4); both real
// clients read it whole: thousands of detailed events, in order.
func TestClientsReadAStreamedAnswer(t *testing.T) {
	requireClients(t)
	const n = 3000
	dir := t.TempDir()
	start := time.Date(2026, 3, 23, 0, 0, 0, 0, time.UTC) // London is on GMT all week
	var cal strings.Builder
	cal.WriteString("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//calfed//interop//EN\r\n")
	want := make([]event, n)
	for i := range n {
		at := start.Add(time.Duration(i) * 2 * time.Minute)
		want[i] = event{Start: at.Format("2006-01-02T15:04:05"), End: at.Add(time.Hour).Format("2006-01-02T15:04:05"), Busy: "Busy",
			Subject: fmt.Sprintf("Review %d & <plan>", i), Location: fmt.Sprintf("Room %d", i%9)}
		fmt.Fprintf(&cal, "BEGIN:VEVENT\r\nUID:review-%d\r\nSUMMARY:%s\r\nLOCATION:%s\r\nDTSTART:%s\r\nDTEND:%s\r\nEND:VEVENT\r\n",
			i, want[i].Subject, want[i].Location, at.Format("20060102T150405Z"), at.Add(time.Hour).Format("20060102T150405Z"))
	}
	cal.WriteString("END:VCALENDAR\r\n")
	if err := os.WriteFile(filepath.Join(dir, "erin.ics"), []byte(cal.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	config := filepath.Join(dir, "calfed.yaml")
	if err := os.WriteFile(config, []byte(`data_dir: data
limits:
  max_result_set: 5000
mailboxes:
  - address: erin@contoso.example
    calendar: erin.ics
    external_sharing: LimitedDetails
`), 0o644); err != nil {
		t.Fatal(err)
	}
	cli := func(args ...string) []byte {
		t.Helper()
		out, err := exec.Command(calfedBin, append(args, "-config", config)...).Output()
		if err != nil {
			t.Fatalf("calfed %s: %v", strings.Join(args, " "), err)
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

	// The answer is streamed: no Content-Length, chunked.
	body := `<?xml version="1.0" encoding="utf-8"?><s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/" xmlns:t="http://schemas.microsoft.com/exchange/services/2006/types" xmlns:m="http://schemas.microsoft.com/exchange/services/2006/messages"><s:Body><m:GetUserAvailabilityRequest><m:MailboxDataArray><t:MailboxData><t:Email><t:Address>erin@contoso.example</t:Address></t:Email></t:MailboxData></m:MailboxDataArray><t:FreeBusyViewOptions><t:TimeWindow><t:StartTime>2026-03-23T00:00:00</t:StartTime><t:EndTime>2026-03-28T00:00:00</t:EndTime></t:TimeWindow><t:RequestedView>Detailed</t:RequestedView></t:FreeBusyViewOptions></m:GetUserAvailabilityRequest></s:Body></s:Envelope>`
	req, _ := http.NewRequest(http.MethodPost, s.URL, strings.NewReader(body))
	req.SetBasicAuth("svc-partner", created.Secret)
	req.Header.Set("Content-Type", "text/xml; charset=utf-8")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || resp.ContentLength != -1 || len(resp.TransferEncoding) != 1 || resp.TransferEncoding[0] != "chunked" {
		t.Fatalf("answer: %s, Content-Length %d, Transfer-Encoding %v; want 200, streamed in chunks", resp.Status, resp.ContentLength, resp.TransferEncoding)
	}

	window := []string{"2026-03-23T00:00:00", "2026-03-28T00:00:00", "Detailed", "30", "erin@contoso.example"}
	py := runClient(t, "exchangelib", append([]string{debianPy, "python/freebusy.py", s.URL, "svc-partner", created.Secret, london}, window...))
	js := runClient(t, "ews-javascript-api", append([]string{"node", "js/freebusy.js", s.URL, "svc-partner", created.Secret}, window...))
	for client, out := range map[string][]byte{"exchangelib": py, "ews-javascript-api": js} {
		var got []answer
		if err := json.Unmarshal(out, &got); err != nil {
			t.Fatalf("%s output: %v\n%.500s", client, err, out)
		}
		if len(got) != 1 || got[0].Error != "NoError" || len(got[0].Events) != n {
			t.Fatalf("%s: %d answers, the first with %d events (error %q), want %d", client, len(got), len(events(got)), errorOf(got), n)
		}
		for i, e := range got[0].Events {
			if e != want[i] {
				t.Fatalf("%s: event %d = %+v, want %+v", client, i, e, want[i])
			}
		}
	}
}

func events(a []answer) []event {
	if len(a) == 0 {
		return nil
	}
	return a[0].Events
}

func errorOf(a []answer) string {
	if len(a) == 0 {
		return ""
	}
	return a[0].Error
}
