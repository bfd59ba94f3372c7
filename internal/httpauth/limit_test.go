package httpauth

import (
	"fmt"
	"testing"
	"time"
)

type clock struct{ t time.Time }

func (c *clock) now() time.Time          { return c.t }
func (c *clock) advance(d time.Duration) { c.t = c.t.Add(d) }

func TestLimiterLocksOutAndDoubles(t *testing.T) {
	c := &clock{time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	l := NewLimiter(LimitOptions{Now: c.now})
	for i := range 4 {
		l.Fail("k")
		if w, _ := l.Check("k"); w != 0 {
			t.Fatalf("after %d failures: refused for %v, want not refused", i+1, w)
		}
	}
	// The fifth failure refuses for 1s, each further one doubles, up to 15m.
	want := []time.Duration{1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 900, 900}
	for i, w := range want {
		w *= time.Second
		l.Fail("k")
		got, first := l.Check("k")
		if got != w || !first {
			t.Fatalf("failure %d: Check = %v, %v; want %v, true", i+5, got, first, w)
		}
		if _, first := l.Check("k"); first {
			t.Fatalf("failure %d: the lock-out's second refusal is reported as the first", i+5)
		}
		c.advance(w - time.Millisecond)
		if got, _ := l.Check("k"); got != time.Millisecond {
			t.Fatalf("failure %d: just before the end, Check = %v", i+5, got)
		}
		c.advance(time.Millisecond)
		if got, _ := l.Check("k"); got != 0 {
			t.Fatalf("failure %d: after the lock-out, Check = %v", i+5, got)
		}
	}
	if w, _ := l.Check("other"); w != 0 || l.Failed("other") {
		t.Error("another key is affected")
	}
	l.Reset("k")
	if l.Failed("k") || l.Len() != 0 {
		t.Error("Reset kept the key")
	}
	l.Fail("k")
	if w, _ := l.Check("k"); w != 0 {
		t.Error("after Reset, one failure refuses")
	}
}

// A key is forgotten Window after its last failure or lock-out, whichever
// ends later: waiting out a long lock-out does not wipe the record.
func TestLimiterForgets(t *testing.T) {
	c := &clock{time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	l := NewLimiter(LimitOptions{Now: c.now, MaxFailures: 2, Lockout: 10 * time.Minute, MaxLockout: 15 * time.Minute})
	l.Fail("k")
	c.advance(15*time.Minute - time.Second)
	l.Fail("k") // second within the window: locked 10m
	c.advance(10*time.Minute + 14*time.Minute)
	l.Fail("k") // 14m after the lock-out ended: still counted, locked 15m
	if w, _ := l.Check("k"); w != 15*time.Minute {
		t.Fatalf("Check = %v, want 15m", w)
	}
	c.advance(15*time.Minute + 15*time.Minute)
	if l.Failed("k") {
		t.Error("failures remembered beyond Window after the lock-out")
	}
	l.Fail("k")
	if w, _ := l.Check("k"); w != 0 {
		t.Errorf("a fresh failure after the record expired refuses for %v", w)
	}
	// Expired records leave memory.
	c.advance(time.Hour)
	l.Fail("x")
	if n := l.Len(); n != 1 {
		t.Errorf("Len = %d, want 1", n)
	}
}

func TestLimiterIsBounded(t *testing.T) {
	c := &clock{time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	l := NewLimiter(LimitOptions{Now: c.now, MaxTracked: 100, MaxFailures: 1})
	l.Fail("victim")
	for i := range 1000 {
		c.advance(time.Millisecond)
		l.Fail(fmt.Sprint("flood-", i))
		if l.Len() > 100 {
			t.Fatalf("Len = %d, want at most 100", l.Len())
		}
	}
	if l.Failed("victim") || !l.Failed("flood-999") {
		t.Error("the least recently failed key is not the one forgotten")
	}
}

// Tracking is false exactly when no key has a record: after every key is
// reset or has expired, whatever the order.
func TestLimiterTracking(t *testing.T) {
	c := &clock{time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	l := NewLimiter(LimitOptions{Now: c.now, MaxTracked: 2})
	step := func(what string, want bool) {
		t.Helper()
		if got := l.Tracking(); got != want {
			t.Errorf("after %s: Tracking() = %v, want %v", what, got, want)
		}
	}
	step("nothing", false)
	l.Fail("a")
	l.Fail("b")
	step("two failures", true)
	l.Reset("a")
	step("one reset", true)
	l.Reset("b")
	step("both reset", false)
	l.Fail("c")
	c.advance(2 * time.Hour)
	l.Fail("d") // c expires
	l.Reset("d")
	step("one expired, the other reset", false)
	l.Fail("e")
	l.Fail("f")
	l.Fail("g") // e forgotten: at most two kept
	l.Reset("f")
	step("one evicted, one reset, one left", true)
	l.Reset("g")
	step("all gone", false)
}
