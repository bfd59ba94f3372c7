package lograte

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"
)

// clock is a test's time, moved by hand.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

func setup(opt Options) (*slog.Logger, *Handler, *clock, *bytes.Buffer) {
	c := &clock{now: time.Date(2026, 3, 24, 9, 0, 0, 0, time.UTC)}
	var buf bytes.Buffer
	opt.Now = c.Now
	h := New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}), opt)
	return slog.New(h), h, c, &buf
}

func lines(buf *bytes.Buffer) []string {
	s := strings.TrimSpace(buf.String())
	buf.Reset()
	if s == "" {
		return nil
	}
	return strings.Split(s, "\n")
}

func TestOneLinePerKindAndInterval(t *testing.T) {
	log, h, c, buf := setup(Options{Keys: []string{"cause"}})
	for i := range 1235 {
		log.Warn("delegation token refused", "cause", "malformed", "remote", i)
	}
	log.Warn("delegation token refused", "cause", "expired", "remote", "partner")
	log.Info("delegation token accepted", "remote", "partner") // below Level: every one passes
	log.Info("delegation token accepted", "remote", "partner")
	got := lines(buf)
	if len(got) != 4 || !strings.Contains(got[0], "cause=malformed remote=0") || !strings.Contains(got[1], "cause=expired") {
		t.Fatalf("lines:\n%s", strings.Join(got, "\n"))
	}
	// Within the interval nothing more; once it has passed, the count.
	c.Add(9 * time.Second)
	log.Warn("delegation token refused", "cause", "malformed")
	h.Flush(context.Background())
	if got := lines(buf); len(got) != 0 {
		t.Fatalf("inside the interval:\n%s", strings.Join(got, "\n"))
	}
	c.Add(time.Second)
	h.Flush(context.Background())
	got = lines(buf)
	if len(got) != 1 || !strings.Contains(got[0], `level=WARN msg="delegation token refused … and 1,235 more in the last 10s" cause=malformed suppressed=1235 span=10s`) {
		t.Fatalf("count:\n%s", strings.Join(got, "\n"))
	}
	// The kind starts afresh: its next record passes at once.
	log.Warn("delegation token refused", "cause", "malformed", "remote", "again")
	if got := lines(buf); len(got) != 1 || !strings.Contains(got[0], "remote=again") {
		t.Fatalf("after the flush:\n%s", strings.Join(got, "\n"))
	}
}

// Without a flush, the count comes with the kind's next line.
func TestCountBeforeTheNextLine(t *testing.T) {
	log, _, c, buf := setup(Options{Interval: time.Minute})
	log.Error("TLS handshake failed", "remote", "a")
	log.Error("TLS handshake failed", "remote", "b")
	log.Error("TLS handshake failed", "remote", "c")
	c.Add(90 * time.Second)
	log.Error("TLS handshake failed", "remote", "d")
	got := lines(buf)
	if len(got) != 3 || !strings.Contains(got[0], "remote=a") ||
		!strings.Contains(got[1], `level=ERROR msg="TLS handshake failed … and 2 more in the last 1m30s" suppressed=2`) || !strings.Contains(got[2], "remote=d") {
		t.Fatalf("lines:\n%s", strings.Join(got, "\n"))
	}
}

// Bound attributes count towards the kind, and the count goes where the
// kind's first line went.
func TestWithAttrs(t *testing.T) {
	log, h, c, buf := setup(Options{Keys: []string{"offer"}})
	fb, mt := log.With("offer", "FreeBusy"), log.With("offer", "MailTips").WithGroup("g")
	for range 3 {
		fb.Warn("refused")
		mt.Warn("refused", "x", 1)
	}
	if got := lines(buf); len(got) != 2 || !strings.Contains(got[1], "offer=MailTips g.x=1") {
		t.Fatalf("lines:\n%s", strings.Join(got, "\n"))
	}
	c.Add(10 * time.Second)
	h.Flush(context.Background())
	got := strings.Join(lines(buf), "\n")
	if !strings.Contains(got, `msg="refused … and 2 more in the last 10s" offer=FreeBusy suppressed=2`) ||
		!strings.Contains(got, `msg="refused … and 2 more in the last 10s" offer=MailTips g.suppressed=2`) {
		t.Fatalf("counts:\n%s", got)
	}
}

// Kinds beyond MaxKinds share one, so a sender inventing kinds gets no
// more lines than one that repeats itself.
func TestMaxKinds(t *testing.T) {
	log, h, c, buf := setup(Options{Keys: []string{"reason"}, MaxKinds: 3})
	for i := range 100 {
		log.Warn("refused", "reason", strings.Repeat("x", i))
	}
	if got := lines(buf); len(got) != 4 {
		t.Fatalf("%d lines, want 3 kinds and the overflow's first:\n%s", len(got), strings.Join(got, "\n"))
	}
	c.Add(10 * time.Second)
	h.Flush(context.Background())
	if got := lines(buf); len(got) != 1 || !strings.Contains(got[0], "log lines of other kinds … and 96 more") {
		t.Fatalf("count:\n%s", strings.Join(got, "\n"))
	}
	if n := len(h.s.kinds); n != 0 {
		t.Errorf("%d kinds remembered after the flush", n)
	}
}

func TestRunFlushesWhenItEnds(t *testing.T) {
	log, h, c, buf := setup(Options{})
	log.Warn("x")
	log.Warn("x")
	c.Add(10 * time.Second)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	h.Run(ctx) // returns at once, flushing
	if got := lines(buf); len(got) != 2 || !strings.Contains(got[1], "x … and 1 more") {
		t.Fatalf("lines:\n%s", strings.Join(got, "\n"))
	}
}

func TestConcurrentUse(t *testing.T) {
	log, h, c, buf := setup(Options{Keys: []string{"k"}})
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for range 500 {
				log.Warn("refused", "k", g%2)
			}
		})
	}
	wg.Wait()
	c.Add(10 * time.Second)
	h.Flush(context.Background())
	got := lines(buf)
	if len(got) != 4 || !strings.Contains(strings.Join(got, "\n"), "and 1,999 more") {
		t.Fatalf("lines:\n%s", strings.Join(got, "\n"))
	}
}

func TestThousands(t *testing.T) {
	for n, want := range map[int]string{0: "0", 999: "999", 1000: "1,000", 1234567: "1,234,567"} {
		if got := thousands(n); got != want {
			t.Errorf("thousands(%d) = %s, want %s", n, got, want)
		}
	}
}
