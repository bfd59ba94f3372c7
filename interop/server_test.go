package interop

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/calfed/calfed/internal/testenv"
)

const (
	demoWeek   = "2026-03-23" // the week of Europe's 2026 change to summer time
	demoSecret = "interop-secret-0123456789"
	debianPy   = "/usr/bin/python3"
)

// server is a calfed process serving on a loopback port.
type server struct {
	URL    string // EWS URL
	cmd    *exec.Cmd
	mu     sync.Mutex
	stderr *strings.Builder
}

func (s *server) log(line string) {
	s.mu.Lock()
	s.stderr.WriteString(line + "\n")
	s.mu.Unlock()
}

// calfedBin is the calfed binary TestMain builds for the whole suite.
var calfedBin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "calfed-interop-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	calfedBin = filepath.Join(dir, "calfed")
	if out, err := exec.Command("go", "build", "-o", calfedBin, "../cmd/calfed").CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "go build: %v\n%s", err, out)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// startDemo runs `calfed serve` with the demo pinned to demoWeek,
// returning once it prints its address.
func startDemo(t *testing.T) *server {
	t.Helper()
	args := []string{"serve", "-listen", "127.0.0.1:0", "-admin-listen", "127.0.0.1:0", "-demo-week", demoWeek, "-log-level", "warn"}
	if dir := os.Getenv("CALFED_INTEROP_RECORD"); dir != "" {
		// Regenerating the conformance corpus: every real client's
		// exchange with the demo becomes a case (conformance/FORMAT.md).
		args = append(args, "-record", dir)
	}
	return startServer(t, regexp.MustCompile(`EWS at (http://127\.0\.0\.1:\d+/EWS/Exchange\.asmx)`), true, args...)
}

// startServer runs calfed with args and waits for re to match a line of
// its standard output (or, with fromStdout false, its log).
func startServer(t *testing.T, re *regexp.Regexp, fromStdout bool, args ...string) *server {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, calfedBin, args...)
	cmd.Env = append(os.Environ(), "CALFED_DEMO_SECRET="+demoSecret)
	var out io.ReadCloser
	var err error
	s := &server{cmd: cmd, stderr: &strings.Builder{}}
	if fromStdout {
		out, err = cmd.StdoutPipe()
		cmd.Stderr = s.stderr
	} else {
		out, err = cmd.StderrPipe()
	}
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cancel()
		cmd.Wait()
		if t.Failed() {
			s.mu.Lock()
			t.Logf("calfed stderr:\n%s", s.stderr.String())
			s.mu.Unlock()
		}
	})
	found := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if !fromStdout {
				s.log(sc.Text())
			}
			if m := re.FindStringSubmatch(sc.Text()); m != nil {
				found <- m[1]
				break
			}
		}
		if fromStdout {
			io.Copy(io.Discard, out)
		} else {
			for sc.Scan() {
				s.log(sc.Text())
			}
		}
		close(found)
	}()
	select {
	case url, ok := <-found:
		if !ok {
			t.Fatalf("calfed exited before listening")
		}
		s.URL = url
	case <-time.After(60 * time.Second):
		t.Fatalf("calfed did not start within 60s")
	}
	return s
}

// requireClients skips the test when a real client is missing, or fails
// it when CALFED_TEST_REQUIRE asks for that client (./test.sh, which
// installs them, sets it to "all"). The rule is internal/testenv's.
func requireClients(t *testing.T) {
	t.Helper()
	if out, err := exec.Command(debianPy, "-c", "import exchangelib").CombinedOutput(); err != nil {
		testenv.Missing(t, testenv.Exchangelib, fmt.Sprintf("not importable by %s: %v: %s", debianPy, err, bytes.TrimSpace(out)),
			"apt-get install python3-exchangelib, or run ./test.sh, which installs it")
	}
	if _, err := exec.LookPath("node"); err != nil {
		testenv.Missing(t, testenv.EWSJavaScriptAPI, "node is not installed", "install Node.js, then cd interop/js && npm ci")
	}
	if _, err := os.Stat("js/node_modules/ews-javascript-api"); err != nil {
		testenv.Missing(t, testenv.EWSJavaScriptAPI, "interop/js/node_modules/ews-javascript-api is not installed",
			"cd interop/js && npm ci, or run ./test.sh, which installs it")
	}
}

func runClient(t *testing.T, name string, args []string, env ...string) []byte {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, args[0], args[1:]...)
	cmd.Env = append(os.Environ(), env...)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) || ctx.Err() != nil {
			t.Fatalf("%s failed: %v\n%s", name, err, stderr.String())
		}
		t.Fatalf("%s: %v", name, err)
	}
	return out
}

// waitLog waits for re to match a line the server logged (a server
// started with fromStdout false) and returns its first group.
func (s *server) waitLog(t *testing.T, re *regexp.Regexp) string {
	t.Helper()
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) { // pacing the polls, not timing anything
		s.mu.Lock()
		m := re.FindStringSubmatch(s.stderr.String())
		s.mu.Unlock()
		if m != nil {
			return m[1]
		}
	}
	t.Fatalf("the server did not log %s", re)
	return ""
}

func (s *server) String() string { return fmt.Sprintf("calfed at %s", s.URL) }
