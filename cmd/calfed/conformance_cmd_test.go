package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
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
