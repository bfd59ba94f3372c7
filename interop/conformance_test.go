package interop

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/calfed/calfed/conformance"
)

// replay runs calfed conformance replay and returns its report; the
// command's exit status is the test's verdict.
func replay(t *testing.T, target string, corpus ...string) (string, error) {
	t.Helper()
	junit := filepath.Join(t.TempDir(), "junit.xml")
	cmd := exec.Command(calfedBin, append([]string{"conformance", "replay", "-target", target, "-junit", junit}, corpus...)...)
	cmd.Env = append(os.Environ(), "CALFED_REPLAY_PASSWORD="+demoSecret)
	out, err := cmd.CombinedOutput()
	if data, jerr := os.ReadFile(junit); jerr != nil || !strings.Contains(string(data), "<testsuite") {
		t.Errorf("no JUnit report: %v", jerr)
	}
	return string(out), err
}

var summaryLine = regexp.MustCompile(`(\d+) cases: (\d+) equal, (\d+) differ, (\d+) errors`)

func equalCases(t *testing.T, report string) int {
	t.Helper()
	m := summaryLine.FindStringSubmatch(report)
	if m == nil || m[1] != m[2] {
		t.Fatalf("not every case is equal:\n%s", report)
	}
	n, _ := strconv.Atoi(m[1])
	return n
}

// The shipped corpus, recorded from real clients and hand-made requests,
// replays against calfed with no difference.
func TestConformanceCorpus(t *testing.T) {
	cases, err := conformance.Load("../conformance/corpus")
	if err != nil {
		t.Fatal(err)
	}
	base := strings.TrimSuffix(startDemo(t).URL, "/EWS/Exchange.asmx")
	out, err := replay(t, base, "../conformance/corpus")
	if err != nil {
		t.Fatalf("replay: %v\n%s", err, out)
	}
	if n := equalCases(t, out); n != len(cases) {
		t.Errorf("%d cases replayed, the corpus holds %d", n, len(cases))
	}
}

// Replaying the corpus through a recording server gives a corpus that
// replays equal in turn: nothing is lost in recording.
func TestCorpusThroughTheRecorder(t *testing.T) {
	dir := t.TempDir()
	s := startServer(t, regexp.MustCompile(`EWS at (http://127\.0\.0\.1:\d+/EWS/Exchange\.asmx)`), true,
		"serve", "-listen", "127.0.0.1:0", "-admin-listen", "127.0.0.1:0", "-demo-week", demoWeek, "-log-level", "warn", "-record", dir)
	base := strings.TrimSuffix(s.URL, "/EWS/Exchange.asmx")
	out, err := replay(t, base, "../conformance/corpus")
	if err != nil {
		t.Fatalf("replay: %v\n%s", err, out)
	}
	n := equalCases(t, out)
	out, err = replay(t, base, dir)
	if err != nil {
		t.Fatalf("replaying the recorded copy: %v\n%s", err, out)
	}
	if m := equalCases(t, out); m != n {
		t.Errorf("the recorder kept %d of %d exchanges", m, n)
	}
}
