package federation

import (
	"crypto/x509"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/calfed/calfed/certs"
	"github.com/calfed/calfed/sts"
)

// countingKeys counts the key look-ups, which only a full validation
// makes: a token answered from the cache makes none.
type countingKeys struct {
	ring
	mu sync.Mutex
	n  int
}

func (k *countingKeys) ForKeyIdentifier(ski []byte) (*certs.Certificate, bool) {
	k.mu.Lock()
	k.n++
	k.mu.Unlock()
	return k.ring.ForKeyIdentifier(ski)
}

// Under RefuseReuse the Replay store decides the first use; the cache
// remembers what it answered, so a replay it remembers, however the
// assertion is encrypted, costs no round trip, and a restart (a new
// validator on the same store) still refuses.
func TestRefuseReuse(t *testing.T) {
	w := newWorld(t)
	store := &memReplay{}
	v := &Validator{Trust: w.v.Trust, RefuseReuse: true, Replay: store}
	a, err := w.issue().Assertion()
	if err != nil {
		t.Fatal(err)
	}
	enc := func() []byte {
		tok, err := sts.EncryptAssertion(a, w.ours.Cert, "", "")
		if err != nil {
			t.Fatal(err)
		}
		return xmlOf(t, roundTrip(t, tok))
	}
	now := t0.Add(time.Minute)
	tok := enc()
	if _, err := v.Validate(tok, OfferFreeBusy, now); err != nil {
		t.Fatal(err)
	}
	if _, err := v.Validate(tok, OfferFreeBusy, now); !errors.Is(err, ErrReplay) {
		t.Errorf("the same token again: %v, want ErrReplay", err)
	}
	if _, err := v.Validate(enc(), OfferFreeBusy, now); !errors.Is(err, ErrReplay) {
		t.Errorf("the same assertion encrypted anew: %v, want ErrReplay", err)
	}
	if store.calls != 1 {
		t.Errorf("%d calls to the store, want 1: the cache answers the replays it remembers", store.calls)
	}
	restarted := &Validator{Trust: w.v.Trust, RefuseReuse: true, Replay: store}
	if _, err := restarted.Validate(tok, OfferFreeBusy, now); !errors.Is(err, ErrReplay) {
		t.Errorf("after a restart: %v, want ErrReplay", err)
	}
	// The key is the issuer's and the AssertionID's, whatever the
	// encryption.
	c, err := (&Validator{Trust: w.v.Trust}).Validate(enc(), OfferFreeBusy, now)
	if err != nil || c.Issuer != "urn:federation:MicrosoftOnline" || store.used[ReplayKey(c)].IsZero() || len(ReplayKey(c)) != 64 {
		t.Errorf("claims %+v, %v; the store holds %v", c, err, store.used)
	}
	// A small cache forgets, and the store still refuses.
	small := &Validator{Trust: w.v.Trust, RefuseReuse: true, Replay: store, MaxCacheEntries: 2}
	for range 3 {
		if _, err := small.Validate(xmlOf(t, w.mint(t, w.issue(), nil)), OfferFreeBusy, now); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := small.Validate(tok, OfferFreeBusy, now); !errors.Is(err, ErrReplay) {
		t.Errorf("forgotten by the cache: %v, want ErrReplay from the store", err)
	}
}

// Without an answer from the store no token passes under RefuseReuse, and
// none is remembered: once the store answers, the token's first use is
// accepted.
func TestReplayStoreFailure(t *testing.T) {
	w := newWorld(t)
	store := &memReplay{err: errors.New("connection refused")}
	v := &Validator{Trust: w.v.Trust, RefuseReuse: true, Replay: store}
	tok := xmlOf(t, w.mint(t, w.issue(), nil))
	if _, err := v.Validate(tok, OfferFreeBusy, t0.Add(time.Minute)); !errors.Is(err, ErrReplayStore) || errors.Is(err, ErrReplay) {
		t.Errorf("store down: %v, want ErrReplayStore", err)
	}
	store.err = nil
	if _, err := v.Validate(tok, OfferFreeBusy, t0.Add(time.Minute)); err != nil {
		t.Errorf("store back: %v", err)
	}
	if _, err := (&Validator{Trust: w.v.Trust, RefuseReuse: true}).Validate(tok, OfferFreeBusy, t0.Add(time.Minute)); !errors.Is(err, ErrReplayStore) {
		t.Errorf("RefuseReuse without a Replay store: %v, want ErrReplayStore", err)
	}
}

// Of one token presented at once to two validators sharing a store, as
// to two servers on one database, exactly one presentation is accepted.
func TestReplayRaceAcrossValidators(t *testing.T) {
	w := newWorld(t)
	store := &memReplay{}
	vs := []*Validator{{Trust: w.v.Trust, RefuseReuse: true, Replay: store}, {Trust: w.v.Trust, RefuseReuse: true, Replay: store}}
	tok := xmlOf(t, w.mint(t, w.issue(), nil))
	var wg sync.WaitGroup
	var mu sync.Mutex
	accepted, replays := 0, 0
	start := make(chan struct{})
	for i := range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			_, err := vs[i%2].Validate(tok, OfferFreeBusy, t0.Add(time.Minute))
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				accepted++
			case errors.Is(err, ErrReplay):
				replays++
			default:
				t.Errorf("Validate = %v", err)
			}
		}()
	}
	close(start)
	wg.Wait()
	if accepted != 1 || replays != 15 {
		t.Errorf("%d accepted and %d replays of 16, want 1 and 15", accepted, replays)
	}
}

// A trust change empties the cache: a token accepted and cached is
// refused once the issuer has rolled its certificate over twice (neither
// of its certificates signed it), or once our certificate is gone; while
// the trust stays the same, it is answered from the cache.
func TestTrustChangeEmptiesCache(t *testing.T) {
	w := newWorld(t)
	keys := &countingKeys{ring: ring{w.ours}}
	cur := &Trust{Keys: keys, Issuers: []*x509.Certificate{w.issuer.Cert, w.prevIssuer.Cert}, ApplicationURI: "FYDIBOHF25SPDLT.contoso.example"}
	trust := cur
	v := &Validator{Trust: func() *Trust { return trust }}
	tok := xmlOf(t, w.mint(t, w.issue(), nil))
	now := t0.Add(time.Minute)
	for range 2 {
		if _, err := v.Validate(tok, OfferFreeBusy, now); err != nil {
			t.Fatal(err)
		}
	}
	if keys.n != 1 {
		t.Fatalf("%d full validations of one token under one trust, want 1", keys.n)
	}
	for _, tt := range []struct {
		name  string
		trust *Trust
		want  error
	}{
		{"the issuer rolled over twice", &Trust{Keys: keys, Issuers: []*x509.Certificate{w.rogue.Cert, w.other.Cert}, ApplicationURI: cur.ApplicationURI}, ErrUntrustedIssuer},
		{"our certificate removed", &Trust{Keys: ring{w.other}, Issuers: cur.Issuers, ApplicationURI: cur.ApplicationURI}, ErrUnknownKey},
		{"another ApplicationUri", &Trust{Keys: keys, Issuers: cur.Issuers, ApplicationURI: "FYDIBOHF25SPDLT.other.example"}, ErrAudience},
	} {
		// Accepted and cached under the current trust, then refused under
		// the changed one.
		trust = cur
		if _, err := v.Validate(tok, OfferFreeBusy, now); err != nil {
			t.Fatalf("%s: before the change: %v", tt.name, err)
		}
		if n, _, _ := v.cache.stats(); n != 1 {
			t.Fatalf("%s: %d tokens cached before the change, want 1", tt.name, n)
		}
		trust = tt.trust
		if _, err := v.Validate(tok, OfferFreeBusy, now); !errors.Is(err, tt.want) {
			t.Errorf("%s: %v, want %v", tt.name, err, tt.want)
		}
		if n, _, _ := v.cache.stats(); n != 0 {
			t.Errorf("%s: %d tokens cached after the change, want none", tt.name, n)
		}
	}
	// The trust gone and back, even the same one, is a change too.
	trust = cur
	if _, err := v.Validate(tok, OfferFreeBusy, now); err != nil {
		t.Fatal(err)
	}
	trust = nil
	if _, err := v.Validate(tok, OfferFreeBusy, now); !errors.Is(err, ErrNotFederated) {
		t.Errorf("without a trust: %v, want ErrNotFederated", err)
	}
	trust = cur
	before := keys.n
	if _, err := v.Validate(tok, OfferFreeBusy, now); err != nil || keys.n != before+1 {
		t.Errorf("the trust back: %v, %d full validations, want 1", err, keys.n-before)
	}
}

// The cache holds at most MaxCacheEntries entries, and forgets the oldest
// first.
func TestCacheBoundedInEntries(t *testing.T) {
	w := newWorld(t)
	v := &Validator{Trust: w.v.Trust, MaxCacheEntries: 4}
	var toks [][]byte
	for range 10 {
		tok := xmlOf(t, w.mint(t, w.issue(), nil))
		toks = append(toks, tok)
		if _, err := v.Validate(tok, OfferFreeBusy, t0.Add(time.Minute)); err != nil {
			t.Fatal(err)
		}
		if n, used, _ := v.cache.stats(); n > 4 || used != 0 {
			t.Fatalf("cache holds %d tokens and %d used keys, want at most 4 and 0", n, used)
		}
	}
	for i, tok := range toks {
		if _, cached := v.cache.tokens[digest(tok)]; cached != (i >= 6) {
			t.Errorf("token %d cached: %v, want only the newest 4", i, cached)
		}
	}
}

// The cache holds at most MaxCacheBytes bytes, used replay keys included,
// and forgets the oldest first.
func TestCacheBoundedInBytes(t *testing.T) {
	w := newWorld(t)
	one := &Validator{Trust: w.v.Trust, RefuseReuse: true, Replay: &memReplay{}}
	if _, err := one.Validate(xmlOf(t, w.mint(t, w.issue(), nil)), OfferFreeBusy, t0.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	_, _, size := one.cache.stats() // a token and its used key
	if size < entryOverhead*2 {
		t.Fatalf("a token and its key count %d bytes, less than two entries", size)
	}
	bound := 3*size + size/2
	v := &Validator{Trust: w.v.Trust, RefuseReuse: true, Replay: &memReplay{}, MaxCacheBytes: bound}
	var toks [][]byte
	for range 10 {
		tok := xmlOf(t, w.mint(t, w.issue(), nil))
		toks = append(toks, tok)
		if _, err := v.Validate(tok, OfferFreeBusy, t0.Add(time.Minute)); err != nil {
			t.Fatal(err)
		}
		if n, used, bytes := v.cache.stats(); bytes > bound || n > 3 || used > 4 {
			t.Fatalf("cache holds %d tokens, %d used keys, %d bytes; bound %d bytes", n, used, bytes, bound)
		}
	}
	for i, tok := range toks {
		if _, cached := v.cache.tokens[digest(tok)]; cached != (i >= 7) {
			t.Errorf("token %d cached: %v, want only the newest 3", i, cached)
		}
	}
}

// Entries past their token's use are dropped as the cache goes on, not
// kept to the 15-day NotOnOrAfter.
func TestCacheDropsExpiredEntries(t *testing.T) {
	w := newWorld(t)
	v := &Validator{Trust: w.v.Trust}
	if _, err := v.Validate(xmlOf(t, w.mint(t, w.issue(), nil)), OfferFreeBusy, t0.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	later := w.issue()
	later.NotBefore = t0.Add(time.Hour)
	if _, err := v.Validate(xmlOf(t, w.mint(t, later, nil)), OfferFreeBusy, t0.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if n, _, _ := v.cache.stats(); n != 1 {
		t.Errorf("%d tokens cached an hour on, want only the fresh one (free/busy tokens last 10 minutes)", n)
	}
}
