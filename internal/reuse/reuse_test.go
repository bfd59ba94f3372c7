package reuse

import (
	"runtime"
	"testing"
)

// What a List keeps survives garbage collections, which empty a
// sync.Pool; beyond its bound it still hands values back.
func TestListKeepsAcrossCollections(t *testing.T) {
	made := 0
	l := New(2, func() *[]byte { made++; b := make([]byte, 0, 1<<20); return &b })
	a, b := l.Get(), l.Get()
	if made != 2 {
		t.Fatalf("two Gets from an empty list made %d values, want 2", made)
	}
	l.Put(a)
	l.Put(b)
	runtime.GC()
	runtime.GC()
	if x, y := l.Get(), l.Get(); made != 2 || x == y {
		t.Fatalf("after two collections the list made %d values (want none more) and gave %p, %p", made, x, y)
	}
	if l.Get(); made != 3 {
		t.Fatalf("a third Get made %d values in all, want 3", made)
	}
}

// Get hands out the value freed last first, the one most likely still in
// cache, and keeps no more than n.
func TestListGivesTheLastFreedFirst(t *testing.T) {
	made := 0
	l := New(2, func() *int { made++; v := made; return &v })
	a, b, c := l.Get(), l.Get(), l.Get()
	l.Put(a)
	l.Put(b)
	l.Put(c) // beyond n: to the sync.Pool, which may drop it
	if got := l.Get(); got != b {
		t.Errorf("Get after Put(a), Put(b) = value %d, want b (%d)", *got, *b)
	}
	if got := l.Get(); got != a {
		t.Errorf("second Get = value %d, want a (%d)", *got, *a)
	}
}
