package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// waitFor polls the log until it holds want (or 30s pass: a failure).
func waitFor(t *testing.T, logged *safeBuffer, want string) {
	t.Helper()
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); {
		if strings.Contains(logged.String(), want) {
			return
		}
		time.Sleep(10 * time.Millisecond) // polling the log, not timing anything
	}
	t.Fatalf("the log never said %q:\n%s", want, logged.String())
}

// SIGHUP reloads the configuration file: log.level changes at once and
// is logged, a setting that needs a restart is named; a file with
// problems changes nothing and says why. The log is JSON as log.format
// asks.
func TestServeReloadsOnHangup(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "a.ics"), []byte("BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n"), 0o644)
	path := filepath.Join(dir, "calfed.yaml")
	const base = "log: {format: json}\nmailboxes:\n  - address: alice@contoso.example\n    calendar: a.ics\n"
	os.WriteFile(path, []byte(base), 0o644)
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	var logged safeBuffer
	exit := make(chan int, 1)
	go func() {
		exit <- run(ctx, []string{"serve", "-config", path, "-listen", "127.0.0.1:0", "-admin-listen", "127.0.0.1:0"}, &logged, &logged)
	}()
	waitFor(t, &logged, `"msg":"admin listener: /healthz, /readyz, /metrics"`)
	if strings.Contains(logged.String(), `"level":"DEBUG"`) {
		t.Fatal("debug lines before log.level debug")
	}

	os.WriteFile(path, []byte(strings.Replace(base, "log: {format: json}", "log: {format: json, level: debug}\nserver_name: FB02", 1)), 0o644)
	syscall.Kill(os.Getpid(), syscall.SIGHUP)
	waitFor(t, &logged, `"msg":"configuration reloaded"`)
	for _, want := range []string{`"msg":"reloaded: log.level","value":"DEBUG"`, `"settings":"server_name"`} {
		if !strings.Contains(logged.String(), want) {
			t.Errorf("after SIGHUP the log lacks %s:\n%s", want, logged.String())
		}
	}

	os.WriteFile(path, []byte(base+"limits: {max_mailboxes: many}\n"), 0o644)
	syscall.Kill(os.Getpid(), syscall.SIGHUP)
	waitFor(t, &logged, `configuration not reloaded`)

	cancel()
	if code := <-exit; code != exitOK {
		t.Fatalf("serve: exit %d\n%s", code, logged.String())
	}
	if !strings.Contains(logged.String(), "shutting down: finishing the requests under way") {
		t.Errorf("no drain line at shutdown:\n%s", logged.String())
	}
}
