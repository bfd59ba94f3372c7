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
type List[T any] struct {
	kept chan *T
	pool sync.Pool
}

// New returns a List keeping up to n values across collections; newT
// makes a value when none is free.
func New[T any](n int, newT func() *T) *List[T] {
	l := &List[T]{kept: make(chan *T, n)}
	l.pool.New = func() any { return newT() }
	return l
}

// Get returns a free value, or a new one.
func (l *List[T]) Get() *T {
	select {
	case v := <-l.kept:
		return v
	default:
		return l.pool.Get().(*T)
	}
}

// Put makes v free for a later Get. The caller resets it first.
func (l *List[T]) Put(v *T) {
	select {
	case l.kept <- v:
	default:
		l.pool.Put(v)
	}
}
