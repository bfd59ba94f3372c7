package main

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/calfed/calfed/conformance"
)

func TestConformanceReplayAgainstTheDemoRouter(t *testing.T) {
	srv := demoServer(t)
	t.Setenv("CALFED_REPLAY_PASSWORD", "router-test-secret")
	cli := cliFor(t)
	corpus := "../../conformance/corpus/demo"
	var report struct {
		Summary struct{ Cases, Equal, Differ, Errors int }
	}
	if err := json.Unmarshal([]byte(cli(exitOK, "conformance", "replay", "-target", srv.URL, "-o", "json", corpus)), &report); err != nil ||
		report.Summary.Cases < 20 || report.Summary.Equal != report.Summary.Cases {
		t.Fatalf("replay: %+v %v", report, err)
	}

	// A copy with one expected answer changed: exit 2, the path named.
	dir := t.TempDir()
	if err := os.CopyFS(dir, os.DirFS(corpus)); err != nil {
		t.Fatal(err)
	}
	answer := filepath.Join(dir, "GetUserAvailability-07", "response.body")
	data, _ := os.ReadFile(answer)
	changed := strings.Replace(string(data), "<BusyType>Busy</BusyType>", "<BusyType>OOF</BusyType>", 1)
	if changed == string(data) {
		t.Fatal("GetUserAvailability-07 has no busy event to change")
	}
	os.WriteFile(answer, []byte(changed), 0o644)
	junit := filepath.Join(t.TempDir(), "junit.xml")
	out := cli(exitFailed, "conformance", "replay", "-target", srv.URL, "-junit", junit, dir)
	if !strings.Contains(out, "GetUserAvailability-07") || !strings.Contains(out, `/BusyType: expected "OOF", got "Busy"`) {
		t.Errorf("report:\n%s", out)
	}
	if j, _ := os.ReadFile(junit); !strings.Contains(string(j), `failures="1"`) {
		t.Errorf("JUnit:\n%s", j)
	}
	// Without the password the Basic cases cannot run: exit 1.
	t.Setenv("CALFED_REPLAY_PASSWORD", "")
	cli(exitError, "conformance", "replay", "-target", srv.URL, corpus)
	cli(exitFailed, "conformance", "replay", corpus)                            // no target
	cli(exitFailed, "conformance", "replay", "-target", srv.URL+"/EWS", corpus) // a path
	cli(exitError, "conformance", "replay", "-target", srv.URL, t.TempDir())    // no cases

	// Importing: cases appear, secrets gone; a capture with a secret it
	// cannot remove is refused before anything is written.
	har := filepath.Join(t.TempDir(), "x.har")
	os.WriteFile(har, []byte(`{"log":{"entries":[{"startedDateTime":"2026-03-20T09:15:00Z","request":{"method":"GET","url":"https://mail.partner.example/autodiscover/autodiscover.xml","headers":[{"name":"Authorization","value":"Basic c3ZjOnNlY3JldA=="}]},"response":{"status":200,"headers":[],"content":{"text":""}}}]}}`), 0o644)
	imported := t.TempDir()
	if out := cli(exitOK, "conformance", "import", "-dir", imported, "-fixture", "partner", har); !strings.Contains(out, "autodiscover.xml-01") {
		t.Errorf("import:\n%s", out)
	}
	meta, _ := os.ReadFile(filepath.Join(imported, "autodiscover.xml-01", "case.yaml"))
	if strings.Contains(string(meta), "c3ZjOnNlY3JldA") || !strings.Contains(string(meta), "user: svc") || !strings.Contains(string(meta), "fixture: partner") {
		t.Errorf("imported case:\n%s", meta)
	}
	bad := filepath.Join(t.TempDir(), "bad.txt")
	os.WriteFile(bad, []byte("POST /EWS/Exchange.asmx HTTP/1.1\r\nHost: x\r\nContent-Length: 39\r\n\r\nAuthorization: Basic c3ZjOnNlY3JldA==\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"), 0o644)
	empty := t.TempDir()
	cli(exitFailed, "conformance", "import", "-dir", empty, har, bad)
	if entries, _ := os.ReadDir(empty); len(entries) != 0 {
		t.Errorf("a refused import wrote %d cases", len(entries))
	}
}

// The recording proxy turns what passes through it into cases.
func TestConformanceRecordProxy(t *testing.T) {
	srv := demoServer(t)
	dir := t.TempDir()
	ctx, cancel := context.WithCancel(t.Context())
	pr, pw := io.Pipe()
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, []string{"conformance", "record", "-upstream", srv.URL, "-dir", dir, "-listen", "127.0.0.1:0"}, io.Discard, pw)
		pw.Close()
	}()
	sc := bufio.NewScanner(pr)
	var proxy string
	for sc.Scan() {
		if m := regexp.MustCompile(`listen=(http://\S+)`).FindStringSubmatch(sc.Text()); m != nil {
			proxy = m[1]
			break
		}
	}
	go io.Copy(io.Discard, pr)
	if proxy == "" {
		t.Fatal("the proxy did not say where it listens")
	}
	req, _ := http.NewRequest("POST", proxy+"/EWS/Exchange.asmx", strings.NewReader(`<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/" xmlns:t="http://schemas.microsoft.com/exchange/services/2006/types" xmlns:m="http://schemas.microsoft.com/exchange/services/2006/messages"><s:Body><m:GetUserAvailabilityRequest><m:MailboxDataArray><t:MailboxData><t:Email><t:Address>alice@contoso.example</t:Address></t:Email></t:MailboxData></m:MailboxDataArray><t:FreeBusyViewOptions><t:TimeWindow><t:StartTime>2026-03-23T00:00:00</t:StartTime><t:EndTime>2026-03-24T00:00:00</t:EndTime></t:TimeWindow><t:RequestedView>FreeBusy</t:RequestedView></t:FreeBusyViewOptions></m:GetUserAvailabilityRequest></s:Body></s:Envelope>`))
	req.SetBasicAuth("svc-trust", "router-test-secret")
	req.Header.Set("Content-Type", "text/xml; charset=utf-8")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	cancel()
	if code := <-done; code != exitOK {
		t.Errorf("conformance record exited %d", code)
	}
	cases, err := conformance.Load(dir)
	if err != nil || len(cases) != 1 {
		t.Fatalf("recorded: %d %v", len(cases), err)
	}
	c := cases[0]
	if resp.StatusCode != 200 || c.Response.Status != 200 || c.Request.User != "svc-trust" || c.Compare != conformance.CompareFreeBusy || !strings.Contains(string(c.ResponseBody), "FreeBusyView") {
		t.Errorf("recorded case: %+v", c)
	}
	// The recorded case replays equal against the server itself.
	t.Setenv("CALFED_REPLAY_PASSWORD", "router-test-secret")
	cliFor(t)(exitOK, "conformance", "replay", "-target", srv.URL, dir)
}
