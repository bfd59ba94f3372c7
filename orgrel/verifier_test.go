package orgrel

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"errors"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"
)

// countingVerify wraps VerifySecret and records the hashes it was asked to
// check against.
type countingVerify struct {
	mu     sync.Mutex
	hashes []string
}

func (c *countingVerify) verify(hash, secret string) (bool, error) {
	c.mu.Lock()
	c.hashes = append(c.hashes, hash)
	c.mu.Unlock()
	return VerifySecret(hash, secret)
}

func (c *countingVerify) calls() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.hashes)
}

// An unknown account goes through the same hashing as a known account
// with a wrong secret: two calls of the verifier (the secret, then the
// previous secret or the dummy), against hashes with the same argon2id
// parameters. (BenchmarkAuthenticate measures the time.)
func TestUnknownAccountCostsWhatAKnownOneCosts(t *testing.T) {
	hash, err := HashSecret("s3cret")
	if err != nil {
		t.Fatal(err)
	}
	c := &countingVerify{}
	p, _ := NewPolicy([]Relationship{{Name: "Partner", Domains: []string{"partner.example"}, Enabled: true}}, nil)
	a, err := NewAccounts([]ServiceAccount{{Name: "svc-partner", Relationship: "Partner", SecretHash: hash}}, p, NewVerifier(VerifierOptions{Verify: c.verify}))
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"svc-partner", "nobody"} {
		before := c.calls()
		if _, err := a.Authenticate(t.Context(), name, "wrong"); !errors.Is(err, ErrBadCredentials) {
			t.Fatalf("Authenticate(%q, wrong) err = %v, want ErrBadCredentials", name, err)
		}
		if n := c.calls() - before; n != 2 {
			t.Errorf("Authenticate(%q, wrong): %d verifier calls, want 2", name, n)
		}
	}
	known, err := parseHash(c.hashes[0])
	if err != nil {
		t.Fatal(err)
	}
	dummy, err := parseHash(c.hashes[1])
	if err != nil {
		t.Fatalf("the unknown account was checked against %q: %v", c.hashes[1], err)
	}
	if c.hashes[1] == hash || dummy.mem != known.mem || dummy.time != known.time || dummy.threads != known.threads ||
		len(dummy.salt) != len(known.salt) || len(dummy.key) != len(known.key) {
		t.Errorf("dummy hash %q does not match the parameters of %q", c.hashes[1], hash)
	}
	// Even the dummy's own secret, were it known, would not sign in.
	if _, err := a.Authenticate(t.Context(), "nobody", ""); !errors.Is(err, ErrBadCredentials) {
		t.Errorf("unknown account: err = %v", err)
	}
}

// The verified cache lives in the Verifier: Accounts rebuilt for a change
// that leaves an account alone keep its verification; a rotated secret's
// or a revoked account's cached verification stops working at once.
func TestCacheSurvivesUnrelatedReloads(t *testing.T) {
	h1, _ := HashSecret("first")
	h2, _ := HashSecret("second")
	hOther, _ := HashSecret("other")
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	c := &countingVerify{}
	v := NewVerifier(VerifierOptions{Verify: c.verify, Now: func() time.Time { return now }})
	rels := []Relationship{{Name: "Partner", Domains: []string{"partner.example"}, Enabled: true}, {Name: "Other", Domains: []string{"other.example"}, Enabled: true}}
	p, _ := NewPolicy(rels, nil)
	build := func(accts ...ServiceAccount) *Accounts {
		t.Helper()
		a, err := NewAccounts(accts, p, v)
		if err != nil {
			t.Fatal(err)
		}
		return a
	}
	partner := ServiceAccount{Name: "svc-partner", Relationship: "Partner", SecretHash: h1}
	other := ServiceAccount{Name: "svc-other", Relationship: "Other", SecretHash: hOther}

	steps := []struct {
		name    string
		a       *Accounts
		secret  string
		wantErr error
		hashes  int // verifier calls by the end of the step
	}{
		{"first sign-in", build(partner), "first", nil, 1},
		{"cached", build(partner), "first", nil, 1},
		{"another account added", build(partner, other), "first", nil, 1},
		{"rotated: old secret", build(ServiceAccount{Name: "svc-partner", Relationship: "Partner", SecretHash: h2}, other), "first", ErrBadCredentials, 3},
		{"rotated: new secret", build(ServiceAccount{Name: "svc-partner", Relationship: "Partner", SecretHash: h2}, other), "second", nil, 4},
		{"revoked", build(other), "second", ErrBadCredentials, 6},
	}
	for _, s := range steps {
		_, err := s.a.Authenticate(t.Context(), "svc-partner", s.secret)
		if !errors.Is(err, s.wantErr) {
			t.Errorf("%s: err = %v, want %v", s.name, err, s.wantErr)
		}
		if n := c.calls(); n != s.hashes {
			t.Errorf("%s: %d verifier calls so far, want %d", s.name, n, s.hashes)
		}
	}
	// Remembered for CacheTTL only.
	a := build(partner)
	a.Authenticate(t.Context(), "svc-partner", "first")
	n := c.calls()
	now = now.Add(CacheTTL)
	if _, err := a.Authenticate(t.Context(), "svc-partner", "first"); err != nil || c.calls() != n+1 {
		t.Errorf("after CacheTTL: err = %v, verifier calls %d, want %d", err, c.calls(), n+1)
	}
}

// After a rotation the previous secret signs in until its overlap ends,
// and not a moment longer, cached or not; the new one signs in
// throughout; a wrong secret costs two hashes, as for any account.
func TestPreviousSecretDuringOverlap(t *testing.T) {
	h1, _ := HashSecret("first")
	h2, _ := HashSecret("second")
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	until := now.Add(RotationOverlap)
	c := &countingVerify{}
	v := NewVerifier(VerifierOptions{Verify: c.verify, Now: func() time.Time { return now }})
	p, _ := NewPolicy([]Relationship{{Name: "Partner", Domains: []string{"partner.example"}, Enabled: true}}, nil)
	a, err := NewAccounts([]ServiceAccount{{Name: "svc-partner", Relationship: "Partner", SecretHash: h2, PreviousSecretHash: h1, PreviousValidUntil: &until}}, p, v)
	if err != nil {
		t.Fatal(err)
	}
	for _, step := range []struct {
		at      time.Duration // after the rotation
		secret  string
		wantErr error
	}{
		{0, "second", nil},
		{0, "first", nil},
		{time.Hour, "first", nil}, // cached
		{RotationOverlap - time.Second, "first", nil},
		{RotationOverlap, "first", ErrBadCredentials},
		{RotationOverlap, "second", nil},
		{0, "third", ErrBadCredentials},
	} {
		now = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).Add(step.at)
		before := c.calls()
		if _, err := a.Authenticate(t.Context(), "svc-partner", step.secret); !errors.Is(err, step.wantErr) {
			t.Errorf("%v after the rotation, %q: err = %v, want %v", step.at, step.secret, err, step.wantErr)
		}
		if step.wantErr != nil && c.calls()-before != 2 {
			t.Errorf("%v after the rotation, %q refused with %d hashes, want 2", step.at, step.secret, c.calls()-before)
		}
	}
	if _, err := NewAccounts([]ServiceAccount{{Name: "svc-partner", Relationship: "Partner", SecretHash: h2, PreviousSecretHash: "not a hash", PreviousValidUntil: &until}}, p, v); err == nil {
		t.Error("NewAccounts accepted a previous secret that is not a hash")
	}
}

func TestCacheIsBounded(t *testing.T) {
	v := NewVerifier(VerifierOptions{MaxCached: 2, Verify: func(string, string) (bool, error) { return true, nil }})
	hash, _ := HashSecret("x")
	p, _ := NewPolicy([]Relationship{{Name: "P", Domains: []string{"p.example"}, Enabled: true}}, nil)
	a, _ := NewAccounts([]ServiceAccount{{Name: "a", Relationship: "P", SecretHash: hash}}, p, v)
	for _, s := range []string{"1", "2", "3", "4", "5"} {
		if _, err := a.Authenticate(t.Context(), "a", s); err != nil {
			t.Fatal(err)
		}
		if n := len(v.verified); n > 2 {
			t.Fatalf("%d cached credentials, want at most 2", n)
		}
	}
}

// The hashing queue serves waiting sources in turn, and refuses a source
// that has PerSource checks waiting or running.
func TestFairQueue(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		q := newFairQueue(1, 3)
		if err := q.acquire(t.Context(), "a"); err != nil { // runs
			t.Fatal(err)
		}
		order := make(chan string, 10)
		wait := func(source, name string) {
			go func() {
				if err := q.acquire(context.Background(), source); err != nil {
					order <- name + ": " + err.Error()
					return
				}
				order <- name
			}()
			synctest.Wait() // queued in this order
		}
		wait("a", "a1")
		wait("a", "a2")
		if err := q.acquire(t.Context(), "a"); !errors.Is(err, ErrBusy) {
			t.Errorf("fourth check from a: err = %v, want ErrBusy", err)
		}
		wait("b", "b1")
		wait("b", "b2")
		wait("c", "c1")
		ctx, cancel := context.WithCancel(t.Context())
		gaveUp := make(chan error)
		go func() { gaveUp <- q.acquire(ctx, "d") }()
		synctest.Wait()
		cancel()
		if err := <-gaveUp; !errors.Is(err, context.Canceled) {
			t.Errorf("cancelled wait: err = %v", err)
		}
		want := []string{"a1", "b1", "c1", "a2", "b2"}
		src := map[string]string{"a1": "a", "a2": "a", "b1": "b", "b2": "b", "c1": "c"}
		prev := "a"
		for _, w := range want {
			q.release(prev)
			if got := <-order; got != w {
				t.Fatalf("next turn = %s, want %s", got, w)
			}
			prev = src[w]
		}
		q.release(prev)
		if q.free != 1 || len(q.held) != 0 || len(q.ring) != 0 || len(q.waiting) != 0 {
			t.Errorf("queue not empty at the end: free %d held %v ring %v", q.free, q.held, q.ring)
		}
	})
}

// Identical checks that arrive together (a partner's burst of first
// requests) share one verification.
func TestIdenticalChecksShareOneVerification(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		gate := make(chan struct{})
		var mu sync.Mutex
		calls := 0
		v := NewVerifier(VerifierOptions{Verify: func(string, string) (bool, error) {
			mu.Lock()
			calls++
			mu.Unlock()
			<-gate
			return true, nil
		}})
		hash, _ := HashSecret("x")
		p, _ := NewPolicy([]Relationship{{Name: "P", Domains: []string{"p.example"}, Enabled: true}}, nil)
		a, _ := NewAccounts([]ServiceAccount{{Name: "a", Relationship: "P", SecretHash: hash}}, p, v)
		errs := make(chan error, 8)
		for range 8 {
			go func() {
				_, err := a.Authenticate(context.Background(), "a", "x")
				errs <- err
			}()
		}
		synctest.Wait()
		close(gate)
		for range 8 {
			if err := <-errs; err != nil {
				t.Error(err)
			}
		}
		if calls != 1 {
			t.Errorf("%d verifications for 8 identical checks, want 1", calls)
		}
	})
}

// BenchmarkAuthenticate measures a failed sign-in for a known account
// (wrong secret) and for an unknown one, with the real argon2id: the two
// should take the same time, so timing does not reveal account names.
func BenchmarkAuthenticate(b *testing.B) {
	hash, err := HashSecret("s3cret")
	if err != nil {
		b.Fatal(err)
	}
	p, _ := NewPolicy([]Relationship{{Name: "Partner", Domains: []string{"partner.example"}, Enabled: true}}, nil)
	a, err := NewAccounts([]ServiceAccount{{Name: "svc-partner", Relationship: "Partner", SecretHash: hash}}, p, nil)
	if err != nil {
		b.Fatal(err)
	}
	for _, bc := range []struct{ name, user string }{{"known", "svc-partner"}, {"unknown", "nobody"}} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := a.Authenticate(context.Background(), bc.user, "wrong"); !errors.Is(err, ErrBadCredentials) {
					b.Fatal(err)
				}
			}
		})
	}
	// Alternating the two in one loop cancels the machine's drift between
	// sub-benchmarks; the ratio should be 1.
	b.Run("alternating", func(b *testing.B) {
		var known, unknown time.Duration
		n := 0
		for b.Loop() {
			users := []string{"svc-partner", "nobody"}
			if n%2 == 1 { // neither always goes first
				users = []string{"nobody", "svc-partner"}
			}
			for _, user := range users {
				start := time.Now()
				a.Authenticate(context.Background(), user, "wrong")
				if d := time.Since(start); user == "svc-partner" {
					known += d
				} else {
					unknown += d
				}
			}
			n++
		}
		b.ReportMetric(float64(known.Nanoseconds())/float64(n), "known-ns/op")
		b.ReportMetric(float64(unknown.Nanoseconds())/float64(n), "unknown-ns/op")
		b.ReportMetric(float64(unknown)/float64(known), "unknown/known")
	})
	b.Run("cached", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := a.Authenticate(context.Background(), "svc-partner", "s3cret"); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// The cache key, computed with reused keyed hashes, is the HMAC of the
// fields each ended by a zero byte and the secret, whatever was hashed
// before: every field counts, a byte moved across a field boundary
// changes it, and a long secret (whose buffer is not kept) is no
// exception. Run concurrently under -race, the reuse is safe.
func TestCacheKey(t *testing.T) {
	v := NewVerifier(VerifierOptions{})
	want := func(name, rel, hash, secret string) [32]byte {
		mac := hmac.New(sha256.New, v.key)
		mac.Write([]byte(name + "\x00" + rel + "\x00" + hash + "\x00" + secret))
		var sum [32]byte
		mac.Sum(sum[:0])
		return sum
	}
	long := strings.Repeat("s", 3*maxKeyerBuf)
	cases := [][4]string{
		{"svc", "P", "$argon2id$h", "secret"},
		{"svc", "P", "$argon2id$h", "secret2"},
		{"sv", "cP", "$argon2id$h", "secret"},
		{"svc", "", "P$argon2id$h", "secret"},
		{"svc", "P", "$argon2id$h", long},
		{"", "", "", ""},
	}
	seen := map[[32]byte]int{}
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for range 50 {
				for _, c := range cases {
					if got := v.cacheKey(c[0], c[1], c[2], c[3]); got != want(c[0], c[1], c[2], c[3]) {
						t.Errorf("cacheKey(%q) differs from its HMAC", c[:3])
						return
					}
				}
			}
		})
	}
	wg.Wait()
	for i, c := range cases {
		k := v.cacheKey(c[0], c[1], c[2], c[3])
		if j, dup := seen[k]; dup {
			t.Errorf("cacheKey(%q) = cacheKey(%q)", c[:3], cases[j][:3])
		}
		seen[k] = i
	}
	if other := NewVerifier(VerifierOptions{}); other.cacheKey("svc", "P", "h", "s") == v.cacheKey("svc", "P", "h", "s") {
		t.Error("two verifiers' cache keys agree: the key is not per process")
	}
}
