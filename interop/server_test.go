package interop

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

const (
	demoWeek   = "2026-03-23" // the week of Europe's 2026 change to summer time
	demoSecret = "interop-secret-0123456789"
	debianPy   = "/usr/bin/python3"
)

// server is a calfed process serving the demo on a loopback port.
type server struct {
	URL    string // EWS URL
	cmd    *exec.Cmd
	stderr *strings.Builder
}

// startDemo builds calfed and runs `calfed serve` with the demo pinned to
// demoWeek, returning once it prints its address.
func startDemo(t *testing.T) *server {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "calfed")
	build := exec.Command("go", "build", "-o", bin, "../cmd/calfed")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, bin, "serve", "-listen", "127.0.0.1:0", "-demo-week", demoWeek, "-log-level", "warn")
	cmd.Env = append(os.Environ(), "CALFED_DEMO_SECRET="+demoSecret)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	s := &server{cmd: cmd, stderr: &strings.Builder{}}
	cmd.Stderr = s.stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cancel()
		cmd.Wait()
		if t.Failed() {
			t.Logf("calfed stderr:\n%s", s.stderr.String())
		}
	})
	found := make(chan string, 1)
	go func() {
		re := regexp.MustCompile(`EWS at (http://127\.0\.0\.1:\d+/EWS/Exchange\.asmx)`)
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if m := re.FindStringSubmatch(sc.Text()); m != nil {
				found <- m[1]
				break
			}
		}
		io.Copy(io.Discard, stdout)
		close(found)
	}()
	select {
	case url, ok := <-found:
		if !ok {
			t.Fatalf("calfed exited before listening: %s", s.stderr.String())
		}
		s.URL = url
	case <-time.After(60 * time.Second):
		t.Fatalf("calfed did not start within 60s: %s", s.stderr.String())
	}
	return s
}

// requireClients fails (never skips) when a client is missing.
func requireClients(t *testing.T) {
	t.Helper()
	if out, err := exec.Command(debianPy, "-c", "import exchangelib").CombinedOutput(); err != nil {
		t.Fatalf("exchangelib is not importable by %s (apt-get install python3-exchangelib): %v\n%s", debianPy, err, out)
	}
	if _, err := exec.LookPath("node"); err != nil {
		t.Fatal("node is not installed")
	}
	if _, err := os.Stat("js/node_modules/ews-javascript-api"); err != nil {
		t.Fatal("ews-javascript-api is not installed (cd interop/js && npm ci)")
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

func (s *server) String() string { return fmt.Sprintf("calfed at %s", s.URL) }
