// Package reuse keeps buffers for reuse across requests, garbage
// collections included.
//
// A sync.Pool is emptied by every second collection. A server building
// answers of tens of megabytes collects often, so its pools of large
// buffers are empty whenever they are needed and each answer allocates
// its buffers again, which makes the collector run more often still.
// List keeps a bounded number of values whatever the collector does,
// and falls back to a sync.Pool beyond that.
package reuse

import "sync"

// List is a free list of *T. The zero value is not usable; use New.
//
// The kept values are a stack: Get returns the value freed last, the one
// most likely still in the processor's caches. (A queue would hand out
// the one freed longest ago, so that every buffer in circulation is
// written in turn, and a busy server's answers would be written into
// memory gone cold.)
type List[T any] struct {
	mu   sync.Mutex
	kept []*T // up to cap(kept), the last freed at the end
	pool sync.Pool
}

// New returns a List keeping up to n values across collections; newT
// makes a value when none is free.
func New[T any](n int, newT func() *T) *List[T] {
	l := &List[T]{kept: make([]*T, 0, n)}
	l.pool.New = func() any { return newT() }
	return l
}

// Get returns a free value, the last freed first, or a new one.
func (l *List[T]) Get() *T {
	l.mu.Lock()
	if n := len(l.kept); n > 0 {
		v := l.kept[n-1]
		l.kept[n-1] = nil
		l.kept = l.kept[:n-1]
		l.mu.Unlock()
		return v
	}
	l.mu.Unlock()
	return l.pool.Get().(*T)
}

// Put makes v free for a later Get. The caller resets it first.
func (l *List[T]) Put(v *T) {
	l.mu.Lock()
	if len(l.kept) < cap(l.kept) {
		l.kept = append(l.kept, v)
		l.mu.Unlock()
		return
	}
	l.mu.Unlock()
	l.pool.Put(v)
}
