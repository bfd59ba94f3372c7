package calendar

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

// Status reports each source's last good check and its failed reads: a
// calendar that goes missing counts a failure at each reload and keeps
// its last good check; one made readable again is checked anew.
func TestStatus(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good.ics")
	os.WriteFile(good, []byte("BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n"), 0o644)
	gone := filepath.Join(dir, "gone.ics")
	os.WriteFile(gone, []byte("BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n"), 0o644)
	now := time.Date(2026, 11, 30, 9, 0, 0, 0, time.UTC)
	d, err := NewDirectory(t.Context(), []Entry{
		{Mailbox: Mailbox{Address: "good@example.org"}, Source: FileSource{good}},
		{Mailbox: Mailbox{Address: "gone@example.org"}, Source: FileSource{gone}},
	}, DirectoryOptions{Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	first := now
	os.Remove(gone)
	for range 2 {
		now = now.Add(time.Minute)
		d.Reload(t.Context())
	}
	st := d.Status()
	if len(st) != 2 || st[0].Mailbox != "good@example.org" || !st[0].Checked.Equal(now) || st[0].Failures != 0 || st[0].Err != nil {
		t.Errorf("Status()[0] = %+v, want good checked at %v", st[0], now)
	}
	if st[1].Failures != 2 || st[1].Err == nil || !st[1].Checked.Equal(first) {
		t.Errorf("Status()[1] = %+v, want 2 failures, unavailable, last good check %v", st[1], first)
	}
	os.WriteFile(gone, []byte("BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n"), 0o644)
	now = now.Add(time.Minute)
	d.Reload(t.Context())
	if st := d.Status()[1]; st.Err != nil || !st.Checked.Equal(now) || st.Failures != 2 {
		t.Errorf("after the file came back: %+v", st)
	}
}
