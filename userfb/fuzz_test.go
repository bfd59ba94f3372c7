package userfb

import (
	"testing"
	"time"
)

// The window a front reads from its parameters is always a proper one
// within the longest allowed, or an error.
func FuzzWindow(f *testing.F) {
	for _, s := range [][2]string{{"2026-03-24", "2026-03-25"}, {"20260324T100000Z", ""}, {"", ""}, {"2026-03-24T10:00:00+01:00", "2026-05-30"}, {"x", "y"}} {
		f.Add(s[0], s[1])
	}
	h := New(Options{FreeBusy: nil, Now: func() time.Time { return t0 }})
	f.Fuzz(func(t *testing.T, start, end string) {
		from, to, err := h.window(start, end)
		if err != nil {
			return
		}
		if !from.Before(to) || to.Sub(from) > time.Duration(h.opt.MaxWindowDays)*24*time.Hour {
			t.Errorf("window(%q, %q) = %v – %v", start, end, from, to)
		}
	})
}
