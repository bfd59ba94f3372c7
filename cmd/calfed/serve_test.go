package main

import (
	"context"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// startServe runs calfed serve with args until the test ends, and
// returns its output once it matches ready.
func startServe(t *testing.T, ready *regexp.Regexp, args ...string) (stdout, stderr *safeBuffer) {
	t.Helper()
	ctx, cancel := context.WithCancel(t.Context())
	stdout, stderr = &safeBuffer{}, &safeBuffer{}
	exit := make(chan int, 1)
	go func() { exit <- run(ctx, append([]string{"serve"}, args...), stdout, stderr) }()
	t.Cleanup(func() {
		cancel()
		if code := <-exit; code != exitOK {
			t.Errorf("serve %q: exit %d\n%s", args, code, stderr.String())
		}
	})
	for deadline := time.Now().Add(60 * time.Second); time.Now().Before(deadline); {
		if ready.MatchString(stdout.String() + stderr.String()) {
			return stdout, stderr
		}
		select {
		case code := <-exit:
			exit <- code
			t.Fatalf("serve %q exited %d before it was ready:\n%s%s", args, code, stdout.String(), stderr.String())
		case <-time.After(10 * time.Millisecond): // polling the output, not timing anything
		}
	}
	t.Fatalf("serve %q not ready:\n%s%s", args, stdout.String(), stderr.String())
	return nil, nil
}

// serve finds its configuration as every command does: -config, else
// $CALFED_CONFIG, else ./calfed.yaml; never the demo when one exists.
func TestServeFindsConfiguration(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "a.ics"), []byte("BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "calfed.yaml"), []byte("mailboxes:\n  - address: alice@contoso.example\n    calendar: a.ics\n"), 0o644)
	listening := regexp.MustCompile(`msg=listening`)
	for _, tc := range []struct {
		name, cwd, env string
	}{
		{"./calfed.yaml", dir, ""},
		{"$CALFED_CONFIG relative", dir, "calfed.yaml"},
		{"$CALFED_CONFIG elsewhere", t.TempDir(), filepath.Join(dir, "calfed.yaml")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Chdir(tc.cwd)
			t.Setenv("CALFED_CONFIG", tc.env)
			stdout, stderr := startServe(t, listening, "-listen", "127.0.0.1:0", "-admin-listen", "127.0.0.1:0")
			if out := stdout.String() + stderr.String(); strings.Contains(out, "demo") {
				t.Errorf("served the demo beside a configuration:\n%s", out)
			}
		})
	}
	t.Run("missing file named", func(t *testing.T) {
		t.Chdir(dir)
		t.Setenv("CALFED_CONFIG", filepath.Join(dir, "nope.yaml"))
		var out, errb safeBuffer
		if code := run(t.Context(), []string{"serve"}, &out, &errb); code != exitError || !strings.Contains(errb.String(), "$CALFED_CONFIG names") || strings.Contains(out.String()+errb.String(), "demo") {
			t.Errorf("serve with $CALFED_CONFIG naming no file: exit %d\n%s%s", code, out.String(), errb.String())
		}
	})
}

// With no configuration anywhere the demo runs and says so first; what
// the user did not set it serves on the defaults, or on free ports when
// they are taken, so two demos run side by side.
func TestServeDemo(t *testing.T) {
	t.Chdir(t.TempDir())
	t.Setenv("CALFED_CONFIG", "")
	// Whoever holds the default admin address, it is taken.
	if ln, err := net.Listen("tcp", "127.0.0.1:8081"); err == nil {
		defer ln.Close()
	}
	welcome := regexp.MustCompile(`Admin API at (http://\S+)`)
	var admins []string
	for range 2 {
		stdout, stderr := startServe(t, welcome, "-listen", "127.0.0.1:0", "-log-level", "warn")
		first, _, _ := strings.Cut(stderr.String(), "\n")
		if !strings.Contains(first, "running the embedded demo") {
			t.Errorf("first line %q does not say the demo runs", first)
		}
		admin := welcome.FindStringSubmatch(stdout.String())[1]
		if admin == "http://127.0.0.1:8081" {
			t.Errorf("demo admin API on the taken default %s", admin)
		}
		admins = append(admins, admin)
	}
	if admins[0] == admins[1] {
		t.Errorf("two demos share the admin address %s", admins[0])
	}
}
