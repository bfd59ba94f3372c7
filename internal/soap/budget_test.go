package soap

import (
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"testing"
	"time"
)

// echo answers with the body the handler reads, or the read's error.
var echo = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
	b, err := ReadRequest(r, Limits{MaxBytes: 16 << 10})
	if err != nil {
		http.Error(w, err.Error(), http.StatusRequestEntityTooLarge)
		return
	}
	w.Write(b)
})

// A slow sender holds only what it has sent, in chunks, against the
// budget; when the budget is spent others get 503 at once, and the budget
// returns when bodies are read.
func TestBoundedHoldsWhatArrivedWithinTheBudget(t *testing.T) {
	budget := NewBudget(2 * readChunk)
	waitInUse := func(want int64) {
		t.Helper()
		deadline := time.Now().Add(5 * time.Second)
		for budget.InUse() != want {
			if time.Now().After(deadline) {
				t.Fatalf("InUse = %d, want %d (what arrived, not what was declared)", budget.InUse(), want)
			}
			runtime.Gosched()
		}
	}
	h := Bounded(echo, Limits{MaxBytes: 16 << 10}, budget)

	pr, pw := io.Pipe()
	slow := httptest.NewRequest(http.MethodPost, "/", pr)
	slow.ContentLength = 16 << 10 // declared, not yet sent
	done := make(chan *httptest.ResponseRecorder)
	go func() {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, slow)
		done <- rec
	}()
	pw.Write([]byte(strings.Repeat("a", 2*readChunk-10)))
	waitInUse(2*readChunk - 10)

	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/", strings.NewReader("<more than ten bytes/>")))
	if rec.Code != http.StatusServiceUnavailable || rec.Header().Get("Retry-After") == "" {
		t.Errorf("over the budget: %d %v, want 503 with Retry-After", rec.Code, rec.Header())
	}

	pw.Close()
	if r := <-done; r.Code != http.StatusOK || r.Body.Len() != 2*readChunk-10 {
		t.Errorf("slow body: %d, %d bytes", r.Code, r.Body.Len())
	}
	if got := budget.InUse(); got != 0 {
		t.Errorf("InUse = %d after the bodies were read, want 0", got)
	}
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/", strings.NewReader("<x/>")))
	if rec.Code != http.StatusOK || rec.Body.String() != "<x/>" {
		t.Errorf("after: %d %q", rec.Code, rec.Body.String())
	}
}

// Bodies over the limit reach the handler as too large, whether declared
// or not.
func TestBoundedTooLarge(t *testing.T) {
	h := Bounded(echo, Limits{MaxBytes: 16 << 10}, NewBudget(1<<20))
	big := strings.Repeat("b", 17<<10)
	declared := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(big))
	undeclared := httptest.NewRequest(http.MethodPost, "/", io.MultiReader(strings.NewReader(big)))
	undeclared.ContentLength = -1
	for name, r := range map[string]*http.Request{"declared": declared, "undeclared": undeclared} {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, r)
		if rec.Code != http.StatusRequestEntityTooLarge || !strings.Contains(rec.Body.String(), ErrTooLarge.Error()) {
			t.Errorf("%s: %d %s", name, rec.Code, rec.Body.String())
		}
	}
}

func TestReadRequestGrowsWithTheData(t *testing.T) {
	r := httptest.NewRequest(http.MethodPost, "/", strings.NewReader("<short/>"))
	r.ContentLength = 1 << 20 // a lie; nothing is sized by it
	b, err := ReadRequest(r, Limits{MaxBytes: 1 << 20})
	if err != nil || string(b) != "<short/>" || cap(b) > 2*readChunk {
		t.Errorf("ReadRequest = %q (cap %d), %v", b, cap(b), err)
	}
	r = httptest.NewRequest(http.MethodPost, "/", strings.NewReader("x"))
	r.ContentLength = 2 << 20
	if _, err := ReadRequest(r, Limits{MaxBytes: 1 << 20}); !errors.Is(err, ErrTooLarge) {
		t.Errorf("declared over the limit: err = %v", err)
	}
}
