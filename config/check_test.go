package config

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/calfed/calfed/certs"
)

// Every problem of a file is reported at once, each with its field and
// line, in the file's order; unknown keys get a suggestion, and no Go
// type is named.
func TestParseProblems(t *testing.T) {
	_, err := Parse([]byte(`listn: 127.0.0.1:1
calendars:
  reload_interval: 2
  horizon_past: -5s
  strict: maybe
limits: {max_mailboxes: lots}
tls: [a, b]
mailboxes:
  - address: a@example.org
    calendar: a.ics
    colour: blue
    groups: staff
  - adress: b@example.org
store:
  heartbeat: 5
  frobnicate: 1
`))
	if err == nil {
		t.Fatal("Parse accepted a file full of problems")
	}
	want := []string{
		"invalid configuration:",
		"  line 1: listn: unknown key; did you mean listen?",
		`  line 3: calendars.reload_interval: "2" is not a duration: write a positive number with a unit, such as 30s, 5m or 24h`,
		`  line 4: calendars.horizon_past: "-5s" is not a duration`,
		`  line 5: calendars.strict: "maybe" is not true or false`,
		`  line 6: limits.max_mailboxes: "lots" is not a whole number`,
		"  line 7: tls: want keys and values (a mapping), not a list",
		"  line 11: mailboxes[0].colour: unknown key; the keys here are address, auto_reply, ",
		"  line 12: mailboxes[0].groups: want a list, not a single value",
		"  line 13: mailboxes[1].adress: unknown key; did you mean address?",
		`  line 15: store.heartbeat: "5" is not a duration`,
		"  line 16: store.frobnicate: unknown key; the keys here are",
	}
	got := err.Error()
	lines := strings.Split(got, "\n")
	if len(lines) != len(want) {
		t.Fatalf("Parse error has %d lines, want %d:\n%s", len(lines), len(want), got)
	}
	for i, w := range want {
		if !strings.HasPrefix(lines[i], w) {
			t.Errorf("line %d of the error = %q, want it to start %q", i, lines[i], w)
		}
	}
	for _, leak := range []string{"config.", "main.", "!!str", "time:", "type "} {
		if strings.Contains(got, leak) {
			t.Errorf("the error names Go internals (%q):\n%s", leak, got)
		}
	}
	if _, err := Parse([]byte("mailboxes: [\n")); err == nil || !strings.Contains(err.Error(), "line 1: not valid YAML") {
		t.Errorf("Parse of broken YAML = %v", err)
	}
}

// Build's problems are at the line of their field, or of the nearest
// field around them the file has.
func TestBuildProblemLines(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "a.ics"), []byte("BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n"), 0o644)
	c, err := Parse([]byte(`server_name: x
mailboxes:
  - address: a@example.org
    calendar: a.ics
  - address: b@example.org
    calendar: missing.ics
    kind: castle
  - address: c@example.org
store:
  driver: oracle
admin:
  token_file: nope.token
`))
	if err != nil {
		t.Fatal(err)
	}
	c.Dir, c.File = dir, "calfed.yaml"
	_, err = c.Validate()
	if err == nil {
		t.Fatal("Validate accepted it")
	}
	for _, want := range []string{
		"calfed.yaml: invalid configuration:\n",
		"\n  line 6: mailboxes[1] (b@example.org).calendar: " + filepath.Join(dir, "missing.ics") + " does not exist",
		"\n  line 7: mailboxes[1] (b@example.org).kind: ",
		"\n  line 8: mailboxes[2] (c@example.org).calendar: required",
		"\n  line 10: store.driver: ",
		"\n  line 12: admin.token_file: " + filepath.Join(dir, "nope.token") + " does not exist",
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("Validate error lacks %q:\n%v", want, err)
		}
	}
}

func TestKeyModes(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "a.ics"), []byte("BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n"), 0o644)
	c, err := Parse([]byte("mailboxes: [{address: a@example.org, calendar: a.ics}]\n"))
	if err != nil {
		t.Fatal(err)
	}
	c.Dir = dir
	if _, err := c.Build(); err != nil {
		t.Fatalf("Build without keys yet: %v", err)
	}
	fed, err := certs.Generate("Federation", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	ring, _ := certs.Load(t.Context(), c.Keys())
	if err := ring.Put(t.Context(), c.Keys(), certs.Current, fed); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Build(); err != nil {
		t.Fatalf("Build with private keys: %v", err)
	}
	entries, _ := os.ReadDir(string(c.Keys()))
	if len(entries) != 1 {
		t.Fatalf("keys directory holds %d files, want 1", len(entries))
	}
	file := filepath.Join(string(c.Keys()), entries[0].Name())
	os.Chmod(file, 0o644)
	if _, err := c.Build(); err == nil || !strings.Contains(err.Error(), "data_dir: the federation certificates in") || !strings.Contains(err.Error(), "readable or writable by others") {
		t.Errorf("Build with a key readable by others = %v", err)
	}
	os.Chmod(file, 0o600)
	os.WriteFile(file, []byte("not a certificate"), 0o600)
	if _, err := c.Build(); err == nil || !strings.Contains(err.Error(), "the current federation certificate") {
		t.Errorf("Build with a broken key file = %v", err)
	}
}

// config test reads the calendars as the server would and warns, at the
// mailbox's line, of one it cannot read or reads with problems.
func TestCheckCalendars(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "clean.ics"), []byte("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nEND:VCALENDAR\r\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "repaired.ics"), []byte("\uFEFFBEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nUID:b\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "broken.ics"), []byte("hello\n"), 0o644)
	c, err := Parse([]byte(`mailboxes:
  - address: a@example.org
    calendar: clean.ics
  - address: b@example.org
    calendar: repaired.ics
  - address: c@example.org
    calendar: broken.ics
`))
	if err != nil {
		t.Fatal(err)
	}
	c.Dir = dir
	b, err := c.Build()
	if err != nil {
		t.Fatal(err)
	}
	got := c.CheckCalendars(t.Context(), b)
	if len(got) != 2 || !strings.HasPrefix(got[0], "line 5: mailboxes[1] (b@example.org).calendar: ") || !strings.Contains(got[0], "calfed calendar check b@example.org lists them") ||
		!strings.HasPrefix(got[1], "line 7: mailboxes[2] (c@example.org).calendar: ") || !strings.Contains(got[1], "cannot be read") {
		t.Errorf("CheckCalendars = %q", got)
	}
}

// A store that cannot be opened names the setting that says where it is.
func TestOpenStoreNamesTheField(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "a.ics"), []byte("BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "blocker"), []byte("a file where a directory should be"), 0o600)
	c, err := Parse([]byte("mailboxes: [{address: a@example.org, calendar: a.ics}]\nstore:\n  dsn: blocker/calfed.db\n"))
	if err != nil {
		t.Fatal(err)
	}
	c.Dir = dir
	_, err = c.OpenStore(t.Context(), nil)
	var p Problem
	if !errors.As(err, &p) || p.Line != 3 || p.Field != "store.dsn" || !strings.Contains(err.Error(), "line 3: store.dsn: cannot open the store "+filepath.Join(dir, "blocker", "calfed.db")) {
		t.Errorf("OpenStore = %v", err)
	}
	if !errors.Is(err, syscall.ENOTDIR) {
		t.Errorf("OpenStore = %v, want it to wrap ENOTDIR", err)
	}
}
