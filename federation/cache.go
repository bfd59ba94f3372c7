package federation

import (
	"crypto/sha256"
	"sync"
	"time"
	"unsafe"
)

// Default bounds of the validator's cache, when Validator.MaxCacheEntries
// and MaxCacheBytes are not set. An entry holds a digest and the claims,
// some 400 bytes, so the entries bound is the one met first unless the
// claims are unusually long.
const (
	DefaultMaxCacheEntries = 10_000
	DefaultMaxCacheBytes   = 16 << 20
)

// sweepEvery is how often, in the validator's time, the cache drops its
// expired entries when it admits one.
const sweepEvery = time.Minute

// cache is the validator's memory, one lock for its two indexes. Each
// entry is kept no longer than its token may be used: NotBefore + the
// offer's lifetime (+ skew), or NotOnOrAfter (+ skew) if sooner, never
// the gateway's 15-day NotOnOrAfter alone. Together the indexes hold at
// most max entries and maxBytes bytes (as size counts them); beyond
// either the oldest entries are forgotten first. Every entry was
// validated under trust: a Validator whose Trust returns another *Trust
// empties the cache first, so that no token is accepted on the strength
// of certificates or an audience no longer trusted.
//
//   - tokens: every token accepted, by the SHA-256 of its bytes, with its
//     claims, so a token presented again is answered without XML, RSA or
//     signature work (accepted, or refused as a replay under
//     RefuseReuse). SHA-256 is collision resistant: a hit is the same
//     token.
//   - used: under RefuseReuse only, the replay keys (ReplayKey) the
//     Replay store has recorded as used, so that the same assertion
//     encrypted anew is refused here without asking the store again.
//     Forgetting one costs a round trip to the store, which decides.
type cache struct {
	mu        sync.Mutex
	trust     *Trust
	tokens    map[[32]byte]*entry
	used      map[[32]byte]*entry
	head      entry // sentinel of the list in admission order: head.next the oldest
	n, bytes  int
	nextSweep time.Time
}

// entry is one cached token or used replay key.
type entry struct {
	key        [32]byte
	used       bool // in used, else in tokens
	c          Claims
	until      time.Time
	size       int
	prev, next *entry
}

// entryOverhead is what an entry costs beyond its claims' text: the
// entry itself and its slot in a map.
const entryOverhead = int(unsafe.Sizeof(entry{})) + 64

func (e *entry) sizeOf() int {
	c := &e.c
	return entryOverhead + len(c.Email) + len(c.Domain) + len(c.NameID) + len(c.Offer) + len(c.RequestorDomain) + len(c.TokenID) + len(c.Issuer)
}

// digest is the tokens index's key for raw.
func digest(raw []byte) [32]byte { return sha256.Sum256(raw) }

// reset empties the cache for t unless it already holds t's entries.
func (k *cache) reset(t *Trust) {
	if k.tokens != nil && k.trust == t {
		return
	}
	k.trust = t
	k.tokens = map[[32]byte]*entry{}
	k.used = map[[32]byte]*entry{}
	k.head.prev, k.head.next = &k.head, &k.head
	k.n, k.bytes = 0, 0
}

// empty empties the cache for t unless it already holds t's entries.
func (k *cache) empty(t *Trust) {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.reset(t)
}

// token returns the claims of the token whose digest is sum, if it was
// accepted under t and may still be used at now.
func (k *cache) token(t *Trust, sum [32]byte, now time.Time) (Claims, bool) {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.reset(t)
	if e, ok := k.tokens[sum]; ok && now.Before(e.until) {
		return e.c, true
	}
	return Claims{}, false
}

// isUsed reports whether the store has recorded key as used, as far as
// the cache remembers.
func (k *cache) isUsed(t *Trust, key [32]byte, now time.Time) bool {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.reset(t)
	e, ok := k.used[key]
	return ok && now.Before(e.until)
}

// admit records the token whose digest is sum with its claims c until
// c.UsableUntil (unless it carries a DoNotCacheCondition), and, under
// RefuseReuse, its replay key as used. Entries
// validated under another trust than the cache's are not kept: the trust
// changed while they were validated.
func (k *cache) admit(t *Trust, sum [32]byte, replay *[32]byte, c Claims, now time.Time, max, maxBytes int) {
	if max <= 0 {
		max = DefaultMaxCacheEntries
	}
	if maxBytes <= 0 {
		maxBytes = DefaultMaxCacheBytes
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.tokens == nil {
		k.reset(t)
	}
	if k.trust != t {
		return
	}
	if !now.Before(k.nextSweep) {
		k.sweep(now)
		k.nextSweep = now.Add(sweepEvery)
	}
	if replay != nil {
		k.add(&entry{key: *replay, used: true, c: Claims{TokenID: c.TokenID, Issuer: c.Issuer}, until: c.UsableUntil}, max, maxBytes)
	}
	if c.DoNotCache {
		return // a DoNotCacheCondition: validated in full at every presentation
	}
	k.add(&entry{key: sum, c: c, until: c.UsableUntil}, max, maxBytes)
}

// add puts e in its index, newest, and forgets the oldest entries beyond
// the bounds. An entry larger than the byte bound on its own is not kept.
func (k *cache) add(e *entry, max, maxBytes int) {
	e.size = e.sizeOf()
	if e.size > maxBytes {
		return
	}
	idx := k.tokens
	if e.used {
		idx = k.used
	}
	if old, ok := idx[e.key]; ok {
		k.remove(old)
	}
	idx[e.key] = e
	e.prev, e.next = k.head.prev, &k.head
	e.prev.next, k.head.prev = e, e
	k.n++
	k.bytes += e.size
	for k.n > max || k.bytes > maxBytes {
		k.remove(k.head.next)
	}
}

// remove takes e out of its index and the list.
func (k *cache) remove(e *entry) {
	if e.used {
		delete(k.used, e.key)
	} else {
		delete(k.tokens, e.key)
	}
	e.prev.next, e.next.prev = e.next, e.prev
	e.prev, e.next = nil, nil
	k.n--
	k.bytes -= e.size
}

// sweep drops what has expired.
func (k *cache) sweep(now time.Time) {
	for e := k.head.next; e != &k.head; {
		next := e.next
		if !now.Before(e.until) {
			k.remove(e)
		}
		e = next
	}
}

// stats are the cache's entries in each index and their bytes, for tests.
func (k *cache) stats() (tokens, used, bytes int) {
	k.mu.Lock()
	defer k.mu.Unlock()
	return len(k.tokens), len(k.used), k.bytes
}
