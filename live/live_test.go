package live

import (
	"context"
	"errors"
	"sync"
	"testing"

	"github.com/calfed/calfed/federation"
	"github.com/calfed/calfed/internal/identity"
	"github.com/calfed/calfed/orgrel"
)

// fakeStore serves the snapshot it holds, or fails; changes are signalled
// on watch.
type fakeStore struct {
	mu    sync.Mutex
	snap  *orgrel.Snapshot
	err   error
	watch chan struct{}
}

func (f *fakeStore) Snapshot(context.Context) (*orgrel.Snapshot, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.snap, f.err
}

func (f *fakeStore) Counter(context.Context) (int64, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.err != nil {
		return 0, f.err
	}
	return f.snap.Counter, nil
}

func (f *fakeStore) Watch(context.Context) <-chan struct{} { return f.watch }

func (f *fakeStore) set(s *orgrel.Snapshot, err error) {
	f.mu.Lock()
	f.snap, f.err = s, err
	f.mu.Unlock()
}

type noValidation struct{}

func (noValidation) Validation(context.Context, *orgrel.Trust) (*federation.Trust, error) {
	return nil, nil
}

func snapshot(counter int64, enabled bool) *orgrel.Snapshot {
	return &orgrel.Snapshot{Counter: counter, Relationships: []orgrel.Relationship{{Name: "P", Domains: []string{"p.example"},
		Enabled: enabled, FreeBusyAccessEnabled: true, FreeBusyAccessLevel: orgrel.AvailabilityOnly}}}
}

func TestReloadsOnChangeAndKeepsTheLastGoodPolicy(t *testing.T) {
	st := &fakeStore{snap: snapshot(1, true), watch: make(chan struct{})}
	p, err := New(t.Context(), Options{Store: st, Validation: noValidation{}})
	if err != nil {
		t.Fatal(err)
	}
	caller := identity.Caller{Domain: "p.example"}
	if d := p.Access(caller, "a@ours.example", nil); !d.Related || d.Level != orgrel.AvailabilityOnly {
		t.Fatalf("Access = %+v", d)
	}
	if _, ok := p.Relationship("p.example"); !ok {
		t.Fatal("Relationship(p.example) not found")
	}

	done := make(chan struct{})
	go func() { p.Run(t.Context()); close(done) }()

	// A change that cannot be read leaves the previous policy in force.
	st.set(nil, errors.New("database unreachable"))
	st.watch <- struct{}{}
	st.watch <- struct{}{} // taken only once the first failed reload is done
	if d := p.Access(caller, "a@ours.example", nil); !d.Related {
		t.Errorf("after a failed reload: Access = %+v, want the previous policy", d)
	}
	st.set(snapshot(2, false), nil)
	st.watch <- struct{}{}
	close(st.watch)
	<-done
	if d := p.Access(caller, "a@ours.example", nil); d.Related {
		t.Errorf("after disabling: Access = %+v, want unrelated", d)
	}
	if p.counter.Load() != 2 {
		t.Errorf("counter = %d, want 2", p.counter.Load())
	}
}

func TestNewFailsWithoutAPolicy(t *testing.T) {
	st := &fakeStore{err: errors.New("no database")}
	if _, err := New(t.Context(), Options{Store: st, Validation: noValidation{}}); err == nil {
		t.Error("New succeeded without a snapshot")
	}
}

// The verified-credential cache outlives reloads: a change that leaves the
// account alone does not make its partner's next request hash again; a
// rotation refuses the old secret at once.
func TestVerifiedSecretsSurviveReloads(t *testing.T) {
	h1, _ := orgrel.HashSecret("first")
	h2, _ := orgrel.HashSecret("second")
	var mu sync.Mutex
	calls := 0
	v := orgrel.NewVerifier(orgrel.VerifierOptions{Verify: func(hash, secret string) (bool, error) {
		mu.Lock()
		calls++
		mu.Unlock()
		return orgrel.VerifySecret(hash, secret)
	}})
	snap := func(counter int64, hash string, enabled bool) *orgrel.Snapshot {
		s := snapshot(counter, enabled)
		s.Accounts = []orgrel.ServiceAccount{{Name: "svc-p", Relationship: "P", SecretHash: hash}}
		return s
	}
	st := &fakeStore{snap: snap(1, h1, true)}
	p, err := New(t.Context(), Options{Store: st, Validation: noValidation{}, Verifier: v})
	if err != nil {
		t.Fatal(err)
	}
	steps := []struct {
		name   string
		snap   *orgrel.Snapshot
		secret string
		ok     bool
		calls  int
	}{
		{"first sign-in", nil, "first", true, 1},
		{"unrelated change", snap(2, h1, false), "first", true, 1},
		{"another unrelated change", snap(3, h1, true), "first", true, 1},
		{"rotated: old secret", snap(4, h2, true), "first", false, 3}, // refused: the secret, then the dummy
		{"rotated: new secret", nil, "second", true, 4},
	}
	for _, s := range steps {
		if s.snap != nil {
			st.set(s.snap, nil)
			if err := p.Load(t.Context()); err != nil {
				t.Fatal(err)
			}
		}
		_, err := p.Authenticate(t.Context(), "svc-p", s.secret)
		if (err == nil) != s.ok || calls != s.calls {
			t.Errorf("%s: err = %v, %d verifications so far; want ok %v, %d", s.name, err, calls, s.ok, s.calls)
		}
	}
}
