package federation

import (
	"bytes"
	"fmt"
	"hash/maphash"
	"sync"
	"time"
)

// DefaultMaxCacheEntries bounds the validator's cache when
// Validator.MaxCacheEntries is not set: with tokens of some 5 KB, about
// 50 MB at most.
const DefaultMaxCacheEntries = 10_000

// cache is the validator's memory, one lock and one sweep for both of its
// indexes, each entry kept no longer than its token may be used: NotBefore
// + the offer's lifetime (+ skew), or NotOnOrAfter (+ skew) if sooner,
// never the gateway's 15-day NotOnOrAfter alone. Each index holds at most
// max entries.
//
//   - tokens: the exact bytes of every token accepted, with its claims, so
//     a token presented again is answered without XML, RSA or signature
//     work (accepted, or refused as a replay under RefuseReuse). The hash
//     only picks the bucket; a hit needs the bytes to be equal. A full
//     index forgets entries at random: a forgotten token is validated in
//     full again, nothing more.
//   - ids: under RefuseReuse only, the AssertionID of every token accepted,
//     so the same assertion encrypted anew is still a replay. A full index
//     refuses new tokens (errCacheFull) rather than forget what it
//     promised to refuse.
type cache struct {
	mu     sync.Mutex
	max    int
	seed   maphash.Seed
	tokens map[uint64][]cachedToken
	n      int // entries in tokens
	ids    map[string]time.Time
}

type cachedToken struct {
	raw   []byte
	c     Claims
	until time.Time
}

// errCacheFull: RefuseReuse is on and the assertion IDs still in their
// lifetime fill the cache.
var errCacheFull = fmt.Errorf("%w: the replay cache is full", ErrReplay)

func (k *cache) init(max int) {
	if k.tokens == nil {
		k.seed = maphash.MakeSeed()
		k.tokens = map[uint64][]cachedToken{}
		k.ids = map[string]time.Time{}
	}
	k.max = max
	if k.max <= 0 {
		k.max = DefaultMaxCacheEntries
	}
}

// token returns the claims of raw if it was accepted and may still be
// used.
func (k *cache) token(raw []byte, now time.Time, max int) (Claims, bool) {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.init(max)
	for _, e := range k.tokens[maphash.Bytes(k.seed, raw)] {
		if now.Before(e.until) && bytes.Equal(e.raw, raw) {
			return e.c, true
		}
	}
	return Claims{}, false
}

// admit records raw with its claims c until until. Under refuse it first
// records c's assertion ID, and returns ErrReplay if the ID was seen
// before (the same assertion encrypted anew) or errCacheFull.
func (k *cache) admit(raw []byte, c Claims, until, now time.Time, refuse bool, max int) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.init(max)
	if refuse {
		if seen, ok := k.ids[c.TokenID]; ok && now.Before(seen) {
			return ErrReplay
		}
		if len(k.ids) >= k.max {
			k.sweep(now)
			if len(k.ids) >= k.max {
				return errCacheFull
			}
		}
		k.ids[c.TokenID] = until
	}
	if k.n >= k.max {
		k.sweep(now)
		// Forget at random (map order) down to nine tenths, so the next
		// admissions do not each sweep again.
		for h, es := range k.tokens {
			if k.n <= k.max-k.max/10-1 {
				break
			}
			delete(k.tokens, h)
			k.n -= len(es)
		}
	}
	h := maphash.Bytes(k.seed, raw)
	k.tokens[h] = append(k.tokens[h], cachedToken{bytes.Clone(raw), c, until})
	k.n++
	return nil
}

// sweep drops what has expired.
func (k *cache) sweep(now time.Time) {
	for id, until := range k.ids {
		if !now.Before(until) {
			delete(k.ids, id)
		}
	}
	for h, es := range k.tokens {
		kept := es[:0]
		for _, e := range es {
			if now.Before(e.until) {
				kept = append(kept, e)
			}
		}
		k.n -= len(es) - len(kept)
		if len(kept) == 0 {
			delete(k.tokens, h)
		} else {
			k.tokens[h] = kept
		}
	}
}

// len is the number of entries in each index, for tests.
func (k *cache) len() (tokens, ids int) {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.n, len(k.ids)
}
