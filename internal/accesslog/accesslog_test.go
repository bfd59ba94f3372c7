package accesslog

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/calfed/calfed/internal/identity"
	"github.com/calfed/calfed/orgrel"
)

// fakeStore fails while failing is set, and keeps what it was given.
type fakeStore struct {
	mu      sync.Mutex
	failing bool
	stored  []orgrel.AccessEntry
	calls   chan struct{}
	pruned  []time.Time
}

func (f *fakeStore) RecordAccess(ctx context.Context, entries []orgrel.AccessEntry) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	defer func() {
		select {
		case f.calls <- struct{}{}:
		default:
		}
	}()
	if f.failing {
		return errors.New("store down")
	}
	f.stored = append(f.stored, entries...)
	return nil
}

func (f *fakeStore) PruneAccessLog(ctx context.Context, before time.Time, limit int) (int64, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.pruned = append(f.pruned, before)
	return 0, nil
}

func (f *fakeStore) count() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.stored)
}

// handler notes two mailboxes, out of order, one refused.
var handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
	Note(r.Context(), "zoe@contoso.example", "FreeBusy", "OK")
	Note(r.Context(), "amy@contoso.example", "None", "NoAccess")
	w.Write([]byte("answered"))
})

func serve(r *Recorder, h http.Handler, caller *identity.Caller) *httptest.ResponseRecorder {
	req := httptest.NewRequest(http.MethodPost, "/ews/exchange.asmx", strings.NewReader(`<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body><GetUserAvailabilityRequest xmlns="http://schemas.microsoft.com/exchange/services/2006/messages"/></s:Body></s:Envelope>`))
	if caller != nil {
		req = req.WithContext(identity.NewContext(req.Context(), *caller))
	}
	w := httptest.NewRecorder()
	r.Wrap("", h).ServeHTTP(w, req)
	return w
}

// One line and one record per partner request, with the relationship,
// the caller, each mailbox in order and the outcome; none for a request
// without a verified caller.
func TestWrap(t *testing.T) {
	var logged bytes.Buffer
	var observed []orgrel.AccessEntry
	r := New(Options{Logger: slog.New(slog.NewTextHandler(&logged, nil)), Server: "s1",
		Relationship: func(d string) (string, bool) {
			return map[string]string{"north.example": "North"}[d], d == "north.example"
		},
		Observe: func(e *orgrel.AccessEntry) { observed = append(observed, *e) }})
	serve(r, handler, nil)
	if len(observed) != 0 || logged.Len() != 0 {
		t.Fatalf("an anonymous request was recorded: %v %s", observed, logged.String())
	}
	if w := serve(r, handler, &identity.Caller{Domain: "north.example", Account: "svc-north"}); w.Body.String() != "answered" {
		t.Fatalf("the handler's answer = %q", w.Body.String())
	}
	if len(observed) != 1 {
		t.Fatalf("observed %d entries, want 1", len(observed))
	}
	e := observed[0]
	if e.Relationship != "North" || e.Account != "svc-north" || e.Operation != "GetUserAvailability" || e.Outcome != orgrel.AccessPartial ||
		e.Status != 200 || e.Server != "s1" || e.Mailboxes() != "amy@contoso.example,zoe@contoso.example" || e.Views() != "None/NoAccess,FreeBusy" {
		t.Errorf("entry = %+v", e)
	}
	for _, want := range []string{`msg="partner request"`, "outcome=partial", "relationship=North", "account=svc-north",
		"mailboxes=amy@contoso.example,zoe@contoso.example", "views=None/NoAccess,FreeBusy"} {
		if !strings.Contains(logged.String(), want) {
			t.Errorf("log line lacks %s:\n%s", want, logged.String())
		}
	}
}

// A handler that renders an error without the request's context records
// its reason through the writer it was given.
func TestFailResponse(t *testing.T) {
	var got orgrel.AccessEntry
	r := New(Options{Observe: func(e *orgrel.AccessEntry) { got = *e }})
	serve(r, http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		FailResponse(w, "ErrorInvalidRequest: no mailboxes")
		w.WriteHeader(500)
	}), &identity.Caller{Domain: "north.example"})
	if got.Outcome != orgrel.AccessFailed || got.Reason != "ErrorInvalidRequest: no mailboxes" {
		t.Errorf("entry = %+v", got)
	}
	FailResponse(httptest.NewRecorder(), "outside a Recorder") // records nothing, and does not panic
}

// The outcome: unavailable for 503, failed for another error status (with
// its reason), denied when no mailbox was served, ok with none asked.
func TestOutcome(t *testing.T) {
	for _, c := range []struct {
		status    int
		mailboxes []orgrel.MailboxAccess
		want      string
	}{
		{503, nil, orgrel.AccessUnavailable},
		{500, nil, orgrel.AccessFailed},
		{200, []orgrel.MailboxAccess{{Outcome: "NoAccess"}, {Outcome: "NotFound"}}, orgrel.AccessDenied},
		{200, []orgrel.MailboxAccess{{Outcome: "OK"}, {Outcome: "OK"}}, orgrel.AccessOK},
		{200, nil, orgrel.AccessOK},
	} {
		e := orgrel.AccessEntry{Status: c.status, Mailbox: c.mailboxes}
		finish(&e)
		if e.Outcome != c.want {
			t.Errorf("finish(%d, %v) = %s, want %s", c.status, c.mailboxes, e.Outcome, c.want)
		}
		if c.status == 500 && e.Reason != "HTTP 500 Internal Server Error" {
			t.Errorf("reason = %q", e.Reason)
		}
	}
}

// Records are kept while the store refuses them and written once it
// takes them again; those queued at shutdown are written as Run ends;
// pruning deletes what is older than the retention.
func TestRunKeepsRecordsWhileTheStoreFails(t *testing.T) {
	st := &fakeStore{failing: true, calls: make(chan struct{}, 1)}
	now := time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)
	r := New(Options{Store: st, Now: func() time.Time { return now }, Retention: 30 * 24 * time.Hour})
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan struct{})
	go func() { r.Run(ctx); close(done) }()
	caller := &identity.Caller{Domain: "north.example", Account: "svc-north"}
	serve(r, handler, caller)
	<-st.calls // refused
	st.mu.Lock()
	st.failing = false
	st.mu.Unlock()
	<-st.calls // retried
	if n := st.count(); n != 1 {
		t.Fatalf("after the store recovered: %d stored, want 1", n)
	}
	serve(r, handler, caller)
	serve(r, handler, caller)
	cancel()
	<-done
	if n := st.count(); n != 3 {
		t.Errorf("after Run ended: %d stored, want 3", n)
	}
	if len(st.pruned) == 0 || !st.pruned[0].Equal(now.Add(-30*24*time.Hour)) {
		t.Errorf("pruned before %v, want %v", st.pruned, now.Add(-30*24*time.Hour))
	}
}

// serveCtx serves one request of caller's with ctx as the request's
// context.
func serveCtx(ctx context.Context, r *Recorder, caller identity.Caller) {
	req := httptest.NewRequestWithContext(identity.NewContext(ctx, caller), http.MethodPost, "/ews/exchange.asmx",
		strings.NewReader(`<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body><GetUserAvailabilityRequest xmlns="http://schemas.microsoft.com/exchange/services/2006/messages"/></s:Body></s:Envelope>`))
	r.Wrap("", handler).ServeHTTP(httptest.NewRecorder(), req)
}

// A full batch is written at once, without waiting for the flush delay;
// what is queued when Run ends is written then, however long the delay.
func TestRunWritesFullBatchesAtOnceAndTheRestAtShutdown(t *testing.T) {
	st := &fakeStore{calls: make(chan struct{}, 1)}
	r := New(Options{Store: st, FlushDelay: time.Hour})
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan struct{})
	go func() { r.Run(ctx); close(done) }()
	caller := identity.Caller{Domain: "north.example"}
	for range maxBatch {
		serveCtx(t.Context(), r, caller)
	}
	<-st.calls
	if n := st.count(); n != maxBatch {
		t.Fatalf("after a full batch: %d stored, want %d", n, maxBatch)
	}
	for range 3 {
		serveCtx(t.Context(), r, caller)
	}
	cancel()
	<-done
	if n := st.count(); n != maxBatch+3 {
		t.Errorf("after Run ended: %d stored, want %d", n, maxBatch+3)
	}
}

// Requests recorded from many goroutines at once are all stored, each
// once, in as many batches as the flush delay makes.
func TestConcurrentRequestsAllStored(t *testing.T) {
	st := &fakeStore{}
	r := New(Options{Store: st, FlushDelay: time.Millisecond, QueueSize: 50})
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan struct{})
	go func() { r.Run(ctx); close(done) }()
	const workers, each = 8, 250
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := range each {
				serveCtx(t.Context(), r, identity.Caller{Domain: "north.example", Account: fmt.Sprintf("svc-%d-%d", w, i)})
			}
		})
	}
	wg.Wait()
	cancel()
	<-done
	seen := map[string]bool{}
	st.mu.Lock()
	defer st.mu.Unlock()
	for _, e := range st.stored {
		if seen[e.Account] {
			t.Errorf("%s stored twice", e.Account)
		}
		seen[e.Account] = true
	}
	if len(seen) != workers*each || r.dropped.Load() != 0 {
		t.Errorf("%d stored, %d dropped, want %d and none", len(seen), r.dropped.Load(), workers*each)
	}
}

// While the store refuses records, the queue fills and then holds
// requests back: one whose context ends while it waits is not stored
// (and counted), one that waits on is stored once the store takes
// records again.
func TestFullQueueHoldsRequestsBack(t *testing.T) {
	st := &fakeStore{failing: true, calls: make(chan struct{}, 1)}
	r := New(Options{Store: st, FlushDelay: time.Millisecond, QueueSize: 2})
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan struct{})
	go func() { r.Run(ctx); close(done) }()
	caller := identity.Caller{Domain: "north.example"}
	serveCtx(t.Context(), r, caller)
	<-st.calls // Run took it, and the store refused it
	serveCtx(t.Context(), r, caller)
	serveCtx(t.Context(), r, caller) // the queue is full
	gone, give := context.WithCancel(t.Context())
	give()
	serveCtx(gone, r, caller) // returns: its context has ended
	if n := r.dropped.Load(); n != 1 {
		t.Fatalf("dropped %d, want 1", n)
	}
	waited := make(chan struct{})
	go func() { serveCtx(t.Context(), r, caller); close(waited) }()
	st.mu.Lock()
	st.failing = false
	st.mu.Unlock()
	<-waited
	cancel()
	<-done
	if n := st.count(); n != 4 {
		t.Errorf("stored %d, want 4: the first, the two queued and the one that waited", n)
	}
}
