// Package lograte bounds the log lines outsiders can cause. A refused
// token, a failed sign-in or a failed TLS handshake is worth one line, but
// a sender repeating it thousands of times a second must not turn the log
// into its own: Handler, a slog.Handler around another, passes on the
// first record of each kind in an interval and counts the rest, then says
// how many there were ("delegation token refused … and 1,234 more in the
// last 10s").
//
// A record's kind is its level, its message and the values of the
// attributes Options.Keys names, so that a flood of one kind of refusal
// does not hide another kind. The kinds remembered are bounded; beyond
// them every new kind shares one.
package lograte

import (
	"context"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Options configure a Handler. The zero value is useful.
type Options struct {
	// Interval is how long a kind is quiet after a line of it is passed
	// on; default 10s.
	Interval time.Duration
	// Level: records below it pass on untouched; default (nil)
	// slog.LevelWarn.
	Level slog.Leveler
	// Keys name the attributes whose values, beside the level and the
	// message, make a record's kind.
	Keys []string
	// MaxKinds bounds the kinds remembered at once; default 1000.
	MaxKinds int
	// Now is the clock; default time.Now.
	Now func() time.Time
}

// Handler passes on, per kind, one record an interval, and then the count
// of those it held back. Its methods are safe for concurrent use; the
// handlers WithAttrs and WithGroup return share its memory.
type Handler struct {
	next  slog.Handler
	bound []slog.Attr // WithAttrs' attributes, which count towards the kind
	s     *state
}

type state struct {
	opt   Options
	mu    sync.Mutex
	kinds map[string]*window
}

// window is one kind's current interval.
type window struct {
	start      time.Time
	suppressed int
	out        slog.Handler // where the kind's first record went, and its count goes
	level      slog.Level
	msg        string
	keys       []slog.Attr // the record's own key attributes, repeated on the count
}

// overflow is the kind of every record whose own kind finds no room.
const overflow = "\x00overflow"

// New returns a Handler passing records on to next.
func New(next slog.Handler, opt Options) *Handler {
	if opt.Interval <= 0 {
		opt.Interval = 10 * time.Second
	}
	if opt.Level == nil {
		opt.Level = slog.LevelWarn
	}
	if opt.MaxKinds <= 0 {
		opt.MaxKinds = 1000
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	return &Handler{next: next, s: &state{opt: opt, kinds: map[string]*window{}}}
}

func (h *Handler) Enabled(ctx context.Context, l slog.Level) bool { return h.next.Enabled(ctx, l) }

func (h *Handler) WithAttrs(as []slog.Attr) slog.Handler {
	bound := append(append([]slog.Attr{}, h.bound...), as...)
	return &Handler{next: h.next.WithAttrs(as), bound: bound, s: h.s}
}

func (h *Handler) WithGroup(name string) slog.Handler {
	if name == "" {
		return h
	}
	return &Handler{next: h.next.WithGroup(name), bound: h.bound, s: h.s}
}

// Handle passes r on if it is the first of its kind in the interval,
// after the count of the kind's previous interval; otherwise it counts it.
func (h *Handler) Handle(ctx context.Context, r slog.Record) error {
	if r.Level < h.s.opt.Level.Level() {
		return h.next.Handle(ctx, r)
	}
	all, keys := h.keys(r)
	kind := kindOf(r, all)
	s := h.s
	now := s.opt.Now()
	var counts []slog.Record
	var outs []slog.Handler
	s.mu.Lock()
	w, ok := s.kinds[kind]
	if !ok && len(s.kinds) >= s.opt.MaxKinds {
		counts, outs = s.sweep(now, counts, outs)
		if len(s.kinds) >= s.opt.MaxKinds {
			kind, keys = overflow, nil
			w, ok = s.kinds[kind]
		}
	}
	switch {
	case ok && now.Before(w.start.Add(s.opt.Interval)):
		w.suppressed++
		s.mu.Unlock()
		return nil
	case ok:
		if w.suppressed > 0 {
			counts, outs = append(counts, w.count(now)), append(outs, w.out)
		}
		w.start, w.suppressed, w.out = now, 0, h.next
	default:
		w = &window{start: now, out: h.next, level: r.Level, msg: r.Message, keys: keys}
		if kind == overflow {
			w.msg = "log lines of other kinds"
		}
		s.kinds[kind] = w
	}
	s.mu.Unlock()
	for i, c := range counts {
		outs[i].Handle(ctx, c)
	}
	return h.next.Handle(ctx, r)
}

// Flush reports the count of every kind whose interval has ended with
// records held back, and forgets those kinds. Run calls it every
// interval; a test calls it after moving its clock.
func (h *Handler) Flush(ctx context.Context) {
	s := h.s
	s.mu.Lock()
	counts, outs := s.sweep(s.opt.Now(), nil, nil)
	s.mu.Unlock()
	for i, c := range counts {
		outs[i].Handle(ctx, c)
	}
}

// Run flushes every interval until ctx ends, and once more then.
func (h *Handler) Run(ctx context.Context) {
	t := time.NewTicker(h.s.opt.Interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			h.Flush(context.Background())
			return
		case <-t.C:
			h.Flush(ctx)
		}
	}
}

// sweep forgets the kinds whose interval has ended at now, appending the
// counts they owe and where each goes. s.mu is held.
func (s *state) sweep(now time.Time, counts []slog.Record, outs []slog.Handler) ([]slog.Record, []slog.Handler) {
	for k, w := range s.kinds {
		if now.Before(w.start.Add(s.opt.Interval)) {
			continue
		}
		if w.suppressed > 0 {
			counts, outs = append(counts, w.count(now)), append(outs, w.out)
		}
		delete(s.kinds, k)
	}
	return counts, outs
}

// count is the record that reports w's held-back records at now.
func (w *window) count(now time.Time) slog.Record {
	span := now.Sub(w.start).Round(time.Second)
	r := slog.NewRecord(now, w.level, w.msg+" … and "+thousands(w.suppressed)+" more in the last "+span.String(), 0)
	r.AddAttrs(w.keys...)
	r.AddAttrs(slog.Int("suppressed", w.suppressed), slog.Duration("span", span))
	return r
}

// keys returns the attributes Options.Keys names, in that order: all of
// them, bound ones included, for the kind, and the record's own, which
// the count repeats (its handler adds the bound ones itself).
func (h *Handler) keys(r slog.Record) (all, own []slog.Attr) {
	if len(h.s.opt.Keys) == 0 {
		return nil, nil
	}
	bound := make([]slog.Attr, len(h.s.opt.Keys))
	mine := make([]slog.Attr, len(h.s.opt.Keys))
	set := func(into []slog.Attr, a slog.Attr) {
		for i, k := range h.s.opt.Keys {
			if a.Key == k {
				into[i] = slog.Attr{Key: k, Value: a.Value.Resolve()}
			}
		}
	}
	for _, a := range h.bound {
		set(bound, a)
	}
	r.Attrs(func(a slog.Attr) bool { set(mine, a); return true })
	for i := range h.s.opt.Keys {
		switch {
		case mine[i].Key != "":
			all = append(all, mine[i])
			own = append(own, mine[i])
		case bound[i].Key != "":
			all = append(all, bound[i])
		}
	}
	return all, own
}

func kindOf(r slog.Record, keys []slog.Attr) string {
	var b strings.Builder
	b.WriteString(r.Level.String())
	b.WriteByte(0)
	b.WriteString(r.Message)
	for _, a := range keys {
		b.WriteByte(0)
		b.WriteString(a.Key)
		b.WriteByte('=')
		b.WriteString(a.Value.String())
	}
	return b.String()
}

// thousands writes n with commas between groups of three digits.
func thousands(n int) string {
	s := strconv.Itoa(n)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}
