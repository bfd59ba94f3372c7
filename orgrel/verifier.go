package orgrel

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"
	"hash"
	"runtime"
	"sync"
	"time"

	"github.com/calfed/calfed/internal/identity"
)

// ErrBusy is returned when the caller's source already has as many secret
// verifications waiting as it may; the request is refused without hashing.
// It has a Busy method, which is how internal/httpauth recognises it.
var ErrBusy error = busyError{}

type busyError struct{}

func (busyError) Error() string { return "orgrel: too many verifications waiting from this source" }
func (busyError) Busy() bool    { return true }

// VerifierOptions configure a Verifier. The zero value is ready to use.
type VerifierOptions struct {
	// Workers is how many secrets are hashed at once. Default GOMAXPROCS.
	Workers int
	// PerSource is how many verifications one source (the client address
	// the edge put in the context, identity.WithSource) may have waiting
	// or running at once; more are refused with ErrBusy. Checks without a
	// source share one turn in the rotation but are not capped. Default 4.
	PerSource int
	// CacheTTL is how long a verified credential is remembered. Default
	// 10m.
	CacheTTL time.Duration
	// MaxCached bounds the remembered credentials. Default 10000.
	MaxCached int
	// Now is the clock. Default time.Now.
	Now func() time.Time
	// Verify checks a secret against a stored hash. Default VerifySecret.
	Verify func(hash, secret string) (bool, error)
}

// Verifier checks service-account secrets for every Accounts built from
// successive snapshots: it outlives them, so what it remembers survives
// policy reloads. It keeps
//
//   - the verified-credential cache, keyed by an HMAC (per-process key) of
//     the account name, its relationship, its stored hash and the secret,
//     so that a reload that leaves an account alone keeps its entries and a
//     rotated secret's entries stop matching at once;
//   - the hashing queue, which admits waiting sources round-robin, so a
//     source with many guesses in flight delays another source by at most
//     one verification per round;
//   - the dummy hash that unknown accounts are checked against, with the
//     parameters HashSecret uses, so an unknown name costs what a known one
//     costs.
//
// Its methods are safe for concurrent use.
type Verifier struct {
	opt   VerifierOptions
	key   []byte
	dummy string
	queue *fairQueue

	mu       sync.Mutex
	verified map[[32]byte]time.Time
	inflight map[[32]byte]*flight // verifications under way, shared by identical requests

	macs sync.Pool // of *keyer, for cacheKey
}

// flight is one verification that identical concurrent requests wait for.
type flight struct {
	done chan struct{}
	ok   bool
	err  error
}

// CacheTTL is how long a verified credential is remembered by default.
const CacheTTL = 10 * time.Minute

const (
	defaultMaxCached = 10000
	defaultPerSource = 4
)

// NewVerifier returns a Verifier with an empty cache.
func NewVerifier(opt VerifierOptions) *Verifier {
	if opt.Workers <= 0 {
		opt.Workers = runtime.GOMAXPROCS(0)
	}
	if opt.PerSource <= 0 {
		opt.PerSource = defaultPerSource
	}
	if opt.CacheTTL <= 0 {
		opt.CacheTTL = CacheTTL
	}
	if opt.MaxCached <= 0 {
		opt.MaxCached = defaultMaxCached
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	if opt.Verify == nil {
		opt.Verify = VerifySecret
	}
	v := &Verifier{
		opt:      opt,
		key:      make([]byte, 32),
		dummy:    dummyHash(),
		queue:    newFairQueue(opt.Workers, opt.PerSource),
		verified: map[[32]byte]time.Time{},
		inflight: map[[32]byte]*flight{},
	}
	if _, err := rand.Read(v.key); err != nil {
		panic(err) // crypto/rand never fails on supported platforms
	}
	return v
}

// dummyHash is a hash in HashSecret's format and parameters that no secret
// matches in practice (a random key, never derived from a secret); unknown
// accounts are verified against it.
func dummyHash() string {
	salt := make([]byte, argonSaltLen)
	key := make([]byte, argonKeyLen)
	rand.Read(salt)
	rand.Read(key)
	return fmt.Sprintf("$argon2id$v=19$m=%d,t=%d,p=%d$%s$%s", argonMemoryKiB, argonTime, argonThreads,
		b64.EncodeToString(salt), b64.EncodeToString(key))
}

// check verifies secret for an account (acct nil: unknown, checked against
// the dummy hash and always refused). It consults the cache first and
// hashes in the fair queue under the context's source.
func (v *Verifier) check(ctx context.Context, name string, acct *ServiceAccount, secret string) error {
	hash, rel := v.dummy, ""
	if acct != nil {
		hash, rel = acct.SecretHash, acct.Relationship
	}
	sum := v.cacheKey(name, rel, hash, secret)
	now := v.opt.Now()
	v.mu.Lock()
	for {
		exp, hit := v.verified[sum]
		if hit && now.Before(exp) && acct != nil {
			v.mu.Unlock()
			return nil
		}
		f, ok := v.inflight[sum]
		if !ok {
			break
		}
		// The same name and secret are being verified for another
		// request (a partner's burst of first requests): share the
		// result, unless that request gave up waiting.
		v.mu.Unlock()
		select {
		case <-f.done:
		case <-ctx.Done():
			return ctx.Err()
		}
		if !errors.Is(f.err, context.Canceled) && !errors.Is(f.err, context.DeadlineExceeded) {
			return verdict(f.ok && acct != nil, f.err)
		}
		v.mu.Lock()
	}
	f := &flight{done: make(chan struct{})}
	v.inflight[sum] = f
	v.mu.Unlock()

	f.ok, f.err = v.verify(ctx, hash, secret)
	v.mu.Lock()
	delete(v.inflight, sum)
	if f.ok && acct != nil {
		v.remember(sum, now)
	}
	v.mu.Unlock()
	close(f.done)
	return verdict(f.ok && acct != nil, f.err)
}

func verdict(ok bool, err error) error {
	switch {
	case err != nil:
		return err
	case !ok:
		return ErrBadCredentials
	}
	return nil
}

// verify hashes in the fair queue under the context's source.
func (v *Verifier) verify(ctx context.Context, hash, secret string) (bool, error) {
	source, _ := identity.SourceFromContext(ctx)
	if err := v.queue.acquire(ctx, source); err != nil {
		return false, err
	}
	defer v.queue.release(source)
	return v.opt.Verify(hash, secret)
}

// remember caches a verified credential; v.mu is held.
func (v *Verifier) remember(sum [32]byte, now time.Time) {
	if len(v.verified) >= v.opt.MaxCached {
		for k, exp := range v.verified {
			if !now.Before(exp) {
				delete(v.verified, k)
			}
		}
		if len(v.verified) >= v.opt.MaxCached {
			clear(v.verified)
		}
	}
	v.verified[sum] = now.Add(v.opt.CacheTTL)
}

// cacheKey is the HMAC-SHA256, under the process's key, of the account
// name, its relationship and stored hash, each ended by a zero byte, and
// the secret. Computing it is on every authenticated request's path, so
// the keyed hashes and their input buffer are reused (macs) rather than
// made anew each time: one HMAC is keyed once, then reset to the same
// keyed state for each key.
func (v *Verifier) cacheKey(name, rel, hash, secret string) [32]byte {
	k, _ := v.macs.Get().(*keyer)
	if k == nil {
		k = &keyer{mac: hmac.New(sha256.New, v.key)}
	} else {
		k.mac.Reset()
	}
	b := k.buf[:0]
	for _, s := range []string{name, rel, hash} {
		b = append(append(b, s...), 0)
	}
	b = append(b, secret...)
	k.mac.Write(b)
	var sum [32]byte
	copy(sum[:], k.mac.Sum(b[:0]))
	// The buffer held the secret: cleared before it waits in the pool,
	// and not kept if a long name or secret grew it.
	clear(b[:cap(b)])
	if cap(b) <= maxKeyerBuf {
		k.buf = b[:0]
		v.macs.Put(k)
	}
	return sum
}

// keyer is a keyed HMAC and the buffer its input is gathered in.
type keyer struct {
	mac hash.Hash
	buf []byte
}

// maxKeyerBuf bounds the buffer a pooled keyer keeps.
const maxKeyerBuf = 1 << 10

// fairQueue admits at most workers holders at once; waiters are served
// round-robin by source, first come first served within a source, and a
// source (other than "", no source known) may have at most perSource
// waiting or running.
type fairQueue struct {
	mu        sync.Mutex
	free      int
	perSource int
	held      map[string]int             // per source: waiting + running
	waiting   map[string][]chan struct{} // per source, in arrival order
	ring      []string                   // sources with waiters, next to serve first
}

func newFairQueue(workers, perSource int) *fairQueue {
	return &fairQueue{free: workers, perSource: perSource, held: map[string]int{}, waiting: map[string][]chan struct{}{}}
}

// acquire waits for a turn for source; on success the caller must
// release(source).
func (q *fairQueue) acquire(ctx context.Context, source string) error {
	q.mu.Lock()
	if source != "" && q.held[source] >= q.perSource {
		q.mu.Unlock()
		return ErrBusy
	}
	q.held[source]++
	if q.free > 0 && len(q.ring) == 0 {
		q.free--
		q.mu.Unlock()
		return nil
	}
	ch := make(chan struct{})
	if len(q.waiting[source]) == 0 {
		q.ring = append(q.ring, source)
	}
	q.waiting[source] = append(q.waiting[source], ch)
	q.mu.Unlock()
	select {
	case <-ch:
		return nil
	case <-ctx.Done():
	}
	q.mu.Lock()
	select {
	case <-ch: // granted meanwhile: hand the turn on
		q.mu.Unlock()
		q.release(source)
		return ctx.Err()
	default:
	}
	defer q.mu.Unlock()
	q.unhold(source)
	w := q.waiting[source]
	for i, c := range w {
		if c == ch {
			w = append(w[:i:i], w[i+1:]...)
			break
		}
	}
	if len(w) > 0 {
		q.waiting[source] = w
		return ctx.Err()
	}
	delete(q.waiting, source)
	for i, s := range q.ring {
		if s == source {
			q.ring = append(q.ring[:i:i], q.ring[i+1:]...)
			break
		}
	}
	return ctx.Err()
}

// release ends source's turn and grants the next one: the first waiter of
// the source at the head of the ring, which then goes to the back.
func (q *fairQueue) release(source string) {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.unhold(source)
	if len(q.ring) == 0 {
		q.free++
		return
	}
	next := q.ring[0]
	q.ring = q.ring[1:]
	w := q.waiting[next]
	close(w[0])
	if len(w) == 1 {
		delete(q.waiting, next)
	} else {
		q.waiting[next] = w[1:]
		q.ring = append(q.ring, next)
	}
}

func (q *fairQueue) unhold(source string) {
	if q.held[source]--; q.held[source] <= 0 {
		delete(q.held, source)
	}
}
