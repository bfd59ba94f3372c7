package soap

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"sync"
	"sync/atomic"
)

// ErrBusy is returned when reading a body would take the server past its
// budget of bytes held by bodies still arriving.
var ErrBusy = errors.New("soap: too many request bytes in flight")

// Budget bounds the bytes held at once by request bodies still being read
// before their sender is authenticated: many slow senders make the server
// refuse work (503), never grow. A nil Budget bounds nothing.
type Budget struct {
	max  int64
	used atomic.Int64
}

// NewBudget returns a budget of max bytes.
func NewBudget(max int64) *Budget { return &Budget{max: max} }

// InUse is the number of bytes reserved now.
func (b *Budget) InUse() int64 {
	if b == nil {
		return 0
	}
	return b.used.Load()
}

func (b *Budget) take(n int64) bool {
	if b == nil {
		return true
	}
	if b.used.Add(n) > b.max {
		b.used.Add(-n)
		return false
	}
	return true
}

func (b *Budget) give(n int64) {
	if b != nil {
		b.used.Add(-n)
	}
}

// readChunk is how much a body read reserves and reads at a time.
const readChunk = 4 << 10

// readBudgeted reads r into buf's storage, growing it as data arrives
// rather than by the length a sender declares, and reserves from budget
// each byte received until it returns. It reads at most limit+1 bytes, so
// that a caller can tell a body over the limit.
func readBudgeted(r io.Reader, limit int64, budget *Budget, buf []byte) ([]byte, error) {
	b := buf[:0]
	var reserved int64
	defer func() { budget.give(reserved) }()
	end := int(limit + 1)
	for len(b) < end {
		if len(b) == cap(b) {
			b = append(b, make([]byte, min(max(len(b), readChunk), end-len(b)))...)[:len(b)]
		}
		n, err := r.Read(b[len(b):min(cap(b), len(b)+readChunk, end)])
		if !budget.take(int64(n)) {
			return nil, ErrBusy
		}
		reserved += int64(n)
		b = b[:len(b)+n]
		if errors.Is(err, io.EOF) {
			return b, nil
		}
		if err != nil {
			return nil, err
		}
	}
	return b, nil
}

var bodyBufs = sync.Pool{New: func() any { return new([]byte) }}

// Bounded reads each POST body within l.MaxBytes (plus one byte, so the
// handler's ReadRequest reports a body over the limit) under budget, and
// hands it on in memory: the handler reads it without a copy. A body that
// would exceed the budget is answered 503 with Retry-After, and one that
// cannot be read 400. For endpoints that read bodies before knowing who
// sends them: token-authenticated and anonymous ones.
func Bounded(next http.Handler, l Limits, budget *Budget) http.Handler {
	l = l.withDefaults()
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			next.ServeHTTP(w, r)
			return
		}
		if r.ContentLength > l.MaxBytes {
			next.ServeHTTP(w, r) // the handler refuses it by its declared length, unread
			return
		}
		buf := bodyBufs.Get().(*[]byte)
		body, err := readBudgeted(r.Body, l.MaxBytes, budget, *buf)
		switch {
		case errors.Is(err, ErrBusy):
			bodyBufs.Put(buf)
			w.Header().Set("Retry-After", "1")
			http.Error(w, "The server is busy; try again.", http.StatusServiceUnavailable)
			return
		case err != nil:
			bodyBufs.Put(buf)
			http.Error(w, fmt.Sprintf("The request body could not be read: %v", err), http.StatusBadRequest)
			return
		}
		SetBody(r, body)
		next.ServeHTTP(w, r)
		if cap(body) <= 256<<10 { // keep buffers of ordinary size
			*buf = body[:0]
			bodyBufs.Put(buf)
		}
	})
}
