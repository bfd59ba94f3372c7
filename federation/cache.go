package federation

import (
	"bytes"
	"hash/maphash"
	"sync"
	"time"
)

// cache is the validator's memory, one lock and one sweep for both of its
// indexes, each entry kept until its token expires (plus skew):
//
//   - tokens: the exact bytes of every token accepted, with its claims, so
//     a token presented again is answered without XML, RSA or signature
//     work (refused as a replay, or accepted under AllowReuse). The hash
//     only picks the bucket; a hit needs the bytes to be equal.
//   - ids: the AssertionID of every token accepted, so the same assertion
//     encrypted anew is still a replay.
type cache struct {
	mu     sync.Mutex
	seed   maphash.Seed
	tokens map[uint64][]cachedToken
	ids    map[string]time.Time
	n      int
}

type cachedToken struct {
	raw   []byte
	c     Claims
	until time.Time
}

func (k *cache) init() {
	if k.tokens == nil {
		k.seed = maphash.MakeSeed()
		k.tokens = map[uint64][]cachedToken{}
		k.ids = map[string]time.Time{}
	}
}

// token returns the claims of raw if it was accepted and has not expired.
func (k *cache) token(raw []byte, now time.Time) (Claims, bool) {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.init()
	for _, e := range k.tokens[maphash.Bytes(k.seed, raw)] {
		if now.Before(e.until) && bytes.Equal(e.raw, raw) {
			return e.c, true
		}
	}
	return Claims{}, false
}

// admit records the assertion ID of c until until, and raw with c when
// the ID is new or reuse is allowed. It reports whether the ID was new.
func (k *cache) admit(raw []byte, c Claims, until, now time.Time, reuse bool) bool {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.init()
	fresh := true
	if seen, ok := k.ids[c.TokenID]; ok && now.Before(seen) {
		fresh = false
	} else {
		k.ids[c.TokenID] = until
	}
	if fresh || reuse {
		h := maphash.Bytes(k.seed, raw)
		k.tokens[h] = append(k.tokens[h], cachedToken{bytes.Clone(raw), c, until})
	}
	if k.n++; k.n%1024 == 0 {
		k.sweep(now)
	}
	return fresh
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
		if len(kept) == 0 {
			delete(k.tokens, h)
		} else {
			k.tokens[h] = kept
		}
	}
}
