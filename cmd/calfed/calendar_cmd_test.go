package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// calendar check exits 0 for a calendar served as written, 2 when
// something was repaired or skipped or it cannot be read, 1 when it
// cannot check; a mailbox address is looked up in the configuration.
func TestCalendarCheck(t *testing.T) {
	dir := t.TempDir()
	write := func(name, data string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	clean := write("clean.ics", "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nBEGIN:VEVENT\r\nUID:a\r\nDTSTART:20260105T100000Z\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n")
	repaired := write("repaired.ics", "\uFEFFBEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nUID:a\r\nDTSTART:20260105T100000Z\r\nEND:VEVENT\r\nBEGIN:VEVENT\r\nUID:b\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n")
	broken := write("broken.ics", "hello\n")
	config := write("calfed.yaml", "mailboxes:\n  - address: alice@contoso.example\n    calendar: repaired.ics\n")
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{clean}, exitOK, "0 problems"},
		{[]string{repaired}, exitFailed, "repaired.ics:6 (UID b): DTSTART is missing; skipped the event"},
		{[]string{broken}, exitFailed, "cannot be read"},
		{[]string{"alice@contoso.example", "-config", config, "-o", "json"}, exitFailed, `"skipped": true`},
		{[]string{"bob@contoso.example", "-config", config}, exitError, ""},
	} {
		var out, errb bytes.Buffer
		code := run(t.Context(), append([]string{"calendar", "check"}, tc.args...), &out, &errb)
		if code != tc.code || !strings.Contains(out.String(), tc.want) {
			t.Errorf("calendar check %v: exit %d, want %d\n%s%s", tc.args, code, tc.code, out.String(), errb.String())
		}
	}
}
