package live

import (
	"context"
	"errors"
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

// flakyStore fails the next failSnapshots snapshots after serving the
// counter, as a transient read error does.
type flakyStore struct {
	fakeStore
	failSnapshots int
}

func (f *flakyStore) Snapshot(ctx context.Context) (*orgrel.Snapshot, error) {
	f.mu.Lock()
	if f.failSnapshots > 0 {
		f.failSnapshots--
		f.mu.Unlock()
		return nil, errors.New("injected: permission denied for table service_accounts")
	}
	f.mu.Unlock()
	return f.fakeStore.Snapshot(ctx)
}

// reports hands every report and removal to the test as it happens.
type reports struct {
	ch      chan orgrel.Server
	removed chan string
}

func (r *reports) ReportServer(_ context.Context, s orgrel.Server) error {
	r.ch <- s
	return nil
}

func (r *reports) RemoveServer(_ context.Context, id string) error {
	r.removed <- id
	return nil
}

func next[T any](t *testing.T, ch <-chan T, what string) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(30 * time.Second): // a hang guard, not a measurement
		t.Fatalf("no %s", what)
		panic("unreachable")
	}
}

// A change whose reload fails is retried, with no further notification,
// until it lands; every attempt is reported with the change applied and
// the last error, and the record is removed when Run ends.
func TestFailedReloadIsRetriedUntilItLands(t *testing.T) {
	st := &flakyStore{fakeStore: fakeStore{snap: snapshot(1, true), watch: make(chan struct{})}}
	rep := &reports{ch: make(chan orgrel.Server), removed: make(chan string, 1)}
	p, err := New(t.Context(), Options{Store: st, Validation: noValidation{}, Reporter: rep, ID: "test/1/aa",
		Heartbeat: time.Hour, RetryMin: time.Millisecond, RetryMax: 4 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan struct{})
	go func() { p.Run(ctx); close(done) }()
	if s := next(t, rep.ch, "first report"); s.ID != "test/1/aa" || s.Applied != 1 || s.Error != "" || !s.Expires.After(s.Heartbeat) {
		t.Fatalf("first report = %+v", s)
	}

	st.mu.Lock()
	st.snap, st.failSnapshots = snapshot(2, false), 2
	st.mu.Unlock()
	st.watch <- struct{}{}
	for i := 1; i <= 2; i++ {
		s := next(t, rep.ch, "report of a failed reload")
		if s.Applied != 1 || !strings.Contains(s.Error, "permission denied") || s.FailingSince == nil {
			t.Fatalf("after failed reload %d: report = %+v", i, s)
		}
	}
	if d := p.Access(identity.Caller{Domain: "p.example"}, "a@ours.example", nil); !d.Related {
		t.Errorf("while reloads fail: Access = %+v, want the previous policy", d)
	}
	s := next(t, rep.ch, "report of the retried reload")
	if s.Applied != 2 || s.Error != "" || s.FailingSince != nil {
		t.Fatalf("after the retry: report = %+v, want change 2 applied", s)
	}
	if d := p.Access(identity.Caller{Domain: "p.example"}, "a@ours.example", nil); d.Related {
		t.Errorf("after the retry: Access = %+v, want the disabled relationship gone", d)
	}
	cancel()
	if id := next(t, rep.removed, "removal"); id != "test/1/aa" {
		t.Errorf("removed %q", id)
	}
	<-done
}

// records keeps the messages logged.
type records struct {
	mu   sync.Mutex
	msgs []string
}

func (r *records) Enabled(context.Context, slog.Level) bool { return true }
func (r *records) Handle(_ context.Context, rec slog.Record) error {
	r.mu.Lock()
	r.msgs = append(r.msgs, rec.Message)
	r.mu.Unlock()
	return nil
}
func (r *records) WithAttrs([]slog.Attr) slog.Handler { return r }
func (r *records) WithGroup(string) slog.Handler      { return r }
func (r *records) count(prefix string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for _, m := range r.msgs {
		if strings.HasPrefix(m, prefix) {
			n++
		}
	}
	return n
}

// Past MaxAge without the store confirming the policy, callers with an
// identity get 503 with Retry-After, anonymous ones are served, and the
// refusal is logged once; once the store answers again they are served.
func TestFailsClosedAfterMaxAge(t *testing.T) {
	t0 := time.Date(2026, 3, 24, 9, 0, 0, 0, time.UTC)
	var mu sync.Mutex
	now := t0
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	at := func(d time.Duration) { mu.Lock(); now = t0.Add(d); mu.Unlock() }
	st := &fakeStore{snap: snapshot(1, true)}
	logged := &records{}
	p, err := New(t.Context(), Options{Store: st, Validation: noValidation{}, MaxAge: 2 * time.Minute, Heartbeat: 5 * time.Second,
		Now: clock, Logger: slog.New(logged)})
	if err != nil {
		t.Fatal(err)
	}
	h := p.RequireCurrent(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusOK) }))
	ask := func(caller bool) *httptest.ResponseRecorder {
		r := httptest.NewRequest(http.MethodPost, "/EWS/Exchange.asmx", nil)
		if caller {
			r = r.WithContext(identity.NewContext(r.Context(), identity.Caller{Domain: "p.example", Account: "svc-p"}))
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		return w
	}
	const refusing = "refusing federated and service-account callers"

	// A healthy server is confirmed at every sync, however long it runs.
	at(10 * time.Minute)
	if err := p.Sync(t.Context()); err != nil {
		t.Fatal(err)
	}
	if w := ask(true); w.Code != http.StatusOK {
		t.Fatalf("healthy after 10m: %d", w.Code)
	}

	st.set(nil, errors.New("database unreachable"))
	steps := []struct {
		name    string
		at      time.Duration
		caller  bool
		status  int
		refusal int // refusals logged so far
	}{
		{"within the bound", 10*time.Minute + 2*time.Minute, true, http.StatusOK, 0},
		{"just past the bound", 10*time.Minute + 2*time.Minute + time.Second, true, http.StatusServiceUnavailable, 1},
		{"again: logged once", 10*time.Minute + 3*time.Minute, true, http.StatusServiceUnavailable, 1},
		{"anonymous callers are served", 10*time.Minute + 3*time.Minute, false, http.StatusOK, 1},
	}
	for _, s := range steps {
		at(s.at)
		if err := p.Sync(t.Context()); err == nil {
			t.Fatalf("%s: Sync succeeded against a failing store", s.name)
		}
		w := ask(s.caller)
		if w.Code != s.status || logged.count(refusing) != s.refusal {
			t.Errorf("%s: %d with %d refusals logged, want %d with %d", s.name, w.Code, logged.count(refusing), s.status, s.refusal)
		}
		if w.Code == http.StatusServiceUnavailable && w.Header().Get("Retry-After") != "5" {
			t.Errorf("%s: Retry-After %q", s.name, w.Header().Get("Retry-After"))
		}
	}

	// The store answers again, with the change that was waiting.
	st.set(snapshot(2, false), nil)
	at(20 * time.Minute)
	if err := p.Sync(t.Context()); err != nil {
		t.Fatal(err)
	}
	if w := ask(true); w.Code != http.StatusOK || logged.count("serving federated and service-account callers again") != 1 {
		t.Errorf("after the store answered: %d, %v", w.Code, logged.msgs)
	}
	if d := p.Access(identity.Caller{Domain: "p.example"}, "a@ours.example", nil); d.Related {
		t.Errorf("after the store answered: Access = %+v, want change 2 in force", d)
	}
}

func TestBackoff(t *testing.T) {
	lo, hi := 250*time.Millisecond, 10*time.Second
	tests := []struct {
		n        int
		rnd      float64
		min, max time.Duration
	}{
		{1, 0, 125 * time.Millisecond, 125 * time.Millisecond},
		{1, 0.999999, 249 * time.Millisecond, 250 * time.Millisecond},
		{2, 0.5, 375 * time.Millisecond, 375 * time.Millisecond},
		{3, 0, 500 * time.Millisecond, 500 * time.Millisecond},
		{7, 0.999999, 9 * time.Second, 10 * time.Second}, // 16s capped
		{1000, 0, 5 * time.Second, 5 * time.Second},
	}
	for _, tt := range tests {
		if got := backoff(tt.n, lo, hi, func() float64 { return tt.rnd }); got < tt.min || got > tt.max {
			t.Errorf("backoff(%d, rnd %v) = %v, want %v..%v", tt.n, tt.rnd, got, tt.min, tt.max)
		}
	}
}
