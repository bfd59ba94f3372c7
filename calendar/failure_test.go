package calendar

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// Sources that are not calendars fail their mailbox: read as calendars
// without events they would show their owners free.
func TestNothingIsNotAnEmptyCalendar(t *testing.T) {
	dir := t.TempDir()
	empty := filepath.Join(dir, "empty.ics")
	os.WriteFile(empty, nil, 0o644)
	html := filepath.Join(dir, "html.ics")
	os.WriteFile(html, []byte("<html><body>Moved</body></html>"), 0o644)
	emptyDir := filepath.Join(dir, "none")
	os.Mkdir(emptyDir, 0o755)
	fifo := filepath.Join(dir, "fifo.ics")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Fatal(err)
	}
	fifoDir := filepath.Join(dir, "withfifo")
	os.Mkdir(fifoDir, 0o755)
	syscall.Mkfifo(filepath.Join(fifoDir, "a.ics"), 0o644)

	cases := map[string]struct {
		path string
		want error
	}{
		"empty@example.org":    {empty, ErrNotCalendar},
		"html@example.org":     {html, ErrNotCalendar},
		"emptydir@example.org": {emptyDir, ErrNoFiles},
		"fifo@example.org":     {fifo, ErrNotRegular},
		"fifodir@example.org":  {fifoDir, ErrNoFiles}, // the FIFO is not read as a calendar file
	}
	var entries []Entry
	for addr, c := range cases {
		entries = append(entries, Entry{Mailbox: Mailbox{Address: addr}, Source: FileSource{c.path}})
	}
	d, err := NewDirectory(t.Context(), entries, DirectoryOptions{}) // returns: nothing blocks on the FIFOs
	if err != nil {
		t.Fatal(err)
	}
	from := time.Date(2026, 4, 1, 0, 0, 0, 0, time.UTC)
	for addr, c := range cases {
		_, err := d.Events(t.Context(), addr, from, from.Add(time.Hour))
		if !errors.Is(err, ErrUnavailable) || !errors.Is(err, c.want) {
			t.Errorf("%s: err = %v, want ErrUnavailable and %v", addr, err, c.want)
		}
	}
}

// flaky fails its reads until healed, keeping the same stamp throughout:
// a file whose permissions were fixed keeps its modification time.
type flaky struct {
	mu     sync.Mutex
	healed bool
}

func (f *flaky) String() string                        { return "flaky" }
func (f *flaky) Stamp(context.Context) (string, error) { return "same", nil }
func (f *flaky) Read(context.Context) ([]File, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if !f.healed {
		return nil, os.ErrPermission
	}
	return []File{{Name: "f.ics", Data: ics(ev("UID:1", "DTSTART:20260401T090000Z", "DTEND:20260401T100000Z"))}}, nil
}

func TestFailedSourceIsRetriedWhateverItsStamp(t *testing.T) {
	src := &flaky{}
	d, err := NewDirectory(t.Context(), []Entry{{Mailbox: Mailbox{Address: "a@example.org"}, Source: src}}, DirectoryOptions{})
	if err != nil {
		t.Fatal(err)
	}
	from := time.Date(2026, 4, 1, 0, 0, 0, 0, time.UTC)
	if _, err := d.Events(t.Context(), "a@example.org", from, from.AddDate(0, 0, 1)); !errors.Is(err, os.ErrPermission) {
		t.Fatalf("before: err = %v", err)
	}
	src.mu.Lock()
	src.healed = true
	src.mu.Unlock()
	d.Reload(t.Context())
	if evs, err := d.Events(t.Context(), "a@example.org", from, from.AddDate(0, 0, 1)); err != nil || len(evs) != 1 {
		t.Fatalf("after the source healed: %v, %v", evs, err)
	}
}

// stuck never answers until released.
type stuck struct {
	release chan struct{}
	calls   *atomic.Int32
}

func (s stuck) String() string { return "stuck" }
func (s stuck) Stamp(context.Context) (string, error) {
	s.calls.Add(1)
	<-s.release
	return "x", nil
}
func (s stuck) Read(context.Context) ([]File, error) { return nil, errors.New("unreachable") }

// One source that hangs fails its own mailbox after ReadTimeout; the
// others load, and reloads go on without starting a second stuck read.
func TestStuckSourceDoesNotStallTheOthers(t *testing.T) {
	s := stuck{release: make(chan struct{}), calls: new(atomic.Int32)}
	defer close(s.release)
	good := StaticSource{Name: "g.ics", Data: ics(ev("UID:1", "DTSTART:20260401T090000Z", "DTEND:20260401T100000Z"))}
	d, err := NewDirectory(t.Context(), []Entry{
		{Mailbox: Mailbox{Address: "stuck@example.org"}, Source: s},
		{Mailbox: Mailbox{Address: "good@example.org"}, Source: good},
	}, DirectoryOptions{ReadTimeout: 20 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	from := time.Date(2026, 4, 1, 0, 0, 0, 0, time.UTC)
	if _, err := d.Events(t.Context(), "stuck@example.org", from, from.AddDate(0, 0, 1)); !errors.Is(err, ErrTimeout) {
		t.Errorf("stuck: err = %v, want ErrTimeout", err)
	}
	if evs, err := d.Events(t.Context(), "good@example.org", from, from.AddDate(0, 0, 1)); err != nil || len(evs) != 1 {
		t.Errorf("good: %v, %v", evs, err)
	}
	d.Reload(t.Context()) // the stuck read is still running: skipped, not stacked
	if _, err := d.Events(t.Context(), "stuck@example.org", from, from.AddDate(0, 0, 1)); !errors.Is(err, ErrTimeout) {
		t.Errorf("stuck after reload: err = %v, want ErrTimeout", err)
	}
	if n := s.calls.Load(); n != 1 {
		t.Errorf("%d reads of the stuck source, want 1", n)
	}
}
