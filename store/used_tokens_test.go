package store

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"
)

// A token's first use is recorded once, for every handle on the database
// and across a restart, without touching the change counter.
func TestUseToken(t *testing.T) {
	each(t, func(t *testing.T, b backend, d *DB) {
		ctx := context.Background()
		until := time.Now().Add(10 * time.Minute)
		before, _ := d.Counter(ctx)
		if first, err := d.UseToken(ctx, "k1", until); err != nil || !first {
			t.Fatalf("UseToken(k1) = %v, %v, want first", first, err)
		}
		if first, err := d.UseToken(ctx, "k1", until); err != nil || first {
			t.Errorf("UseToken(k1) again = %v, %v, want a replay", first, err)
		}
		other := open(t, b) // another server on the same database
		if first, err := other.UseToken(ctx, "k1", until); err != nil || first {
			t.Errorf("another server: UseToken(k1) = %v, %v, want a replay", first, err)
		}
		if first, err := other.UseToken(ctx, "k2", until); err != nil || !first {
			t.Errorf("another server: UseToken(k2) = %v, %v, want first", first, err)
		}
		d.Close()
		again := open(t, b) // a restart
		if first, err := again.UseToken(ctx, "k2", until); err != nil || first {
			t.Errorf("after a restart: UseToken(k2) = %v, %v, want a replay", first, err)
		}
		if after, _ := again.Counter(ctx); after != before {
			t.Errorf("the change counter moved from %d to %d: recording tokens would reload every server", before, after)
		}
		for _, k := range []string{"", strings.Repeat("k", MaxUsedTokenKey+1)} {
			if _, err := again.UseToken(ctx, k, until); !errors.Is(err, ErrInvalid) {
				t.Errorf("UseToken(%d characters) = %v, want ErrInvalid", len(k), err)
			}
		}
	})
}

// Of many concurrent first uses of one key through two handles, exactly
// one is first.
func TestUseTokenRace(t *testing.T) {
	each(t, func(t *testing.T, b backend, d *DB) {
		ctx := context.Background()
		handles := []*DB{d, open(t, b)}
		until := time.Now().Add(10 * time.Minute)
		for round := range 5 {
			key := fmt.Sprint("race-", round)
			var wg sync.WaitGroup
			var mu sync.Mutex
			firsts, errs := 0, []error{}
			start := make(chan struct{})
			for i := range 16 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					<-start
					first, err := handles[i%2].UseToken(ctx, key, until)
					mu.Lock()
					defer mu.Unlock()
					if err != nil {
						errs = append(errs, err)
					}
					if first {
						firsts++
					}
				}()
			}
			close(start)
			wg.Wait()
			if firsts != 1 || len(errs) > 0 {
				t.Errorf("round %d: %d first uses of 16, errors %v; want exactly one", round, firsts, errs)
			}
		}
	})
}

// Purging deletes only what stopped being usable, earliest first, in
// bounded batches; a purged key may be recorded anew.
func TestPurgeUsedTokens(t *testing.T) {
	each(t, func(t *testing.T, b backend, d *DB) {
		ctx := context.Background()
		now := time.Date(2026, 3, 24, 9, 0, 0, 0, time.UTC)
		for i := range 5 {
			d.UseToken(ctx, fmt.Sprint("old-", i), now.Add(-time.Duration(5-i)*time.Minute)) // old-0 the earliest
		}
		d.UseToken(ctx, "live", now.Add(time.Minute))
		if n, err := d.PurgeUsedTokens(ctx, now, 2); err != nil || n != 2 {
			t.Fatalf("PurgeUsedTokens(limit 2) = %d, %v, want 2", n, err)
		}
		for i, want := range []bool{true, true, false, false, false} { // true: purged, recordable anew
			if first, _ := d.UseToken(ctx, fmt.Sprint("old-", i), now.Add(-time.Minute)); first != want {
				t.Errorf("old-%d recordable anew after the first batch: %v, want %v", i, first, want)
			}
		}
		if n, err := d.purgeRound(ctx, now, 2, 10); err != nil || n != 5 {
			t.Errorf("purgeRound = %d, %v, want the 5 left past their use", n, err)
		}
		if first, _ := d.UseToken(ctx, "live", now.Add(time.Minute)); first {
			t.Errorf("a token still usable was purged")
		}
		if _, err := d.PurgeUsedTokens(ctx, now, 0); !errors.Is(err, ErrInvalid) {
			t.Errorf("PurgeUsedTokens(limit 0) = %v, want ErrInvalid", err)
		}
	})
}

// The periodic purge keeps tokens for Margin past their use.
func TestPurgeUsedTokensEvery(t *testing.T) {
	each(t, func(t *testing.T, b backend, d *DB) {
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		now := time.Now()
		d.UseToken(ctx, "past-margin", now.Add(-10*time.Minute))
		d.UseToken(ctx, "within-margin", now.Add(-time.Minute))
		done := make(chan struct{})
		go func() {
			defer close(done)
			d.PurgeUsedTokensEvery(ctx, UsedTokenPurge{Interval: time.Millisecond, Margin: 5 * time.Minute, Batch: 1})
		}()
		for deadline := time.Now().Add(20 * time.Second); ; {
			var n int
			if err := d.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM used_tokens`).Scan(&n); err != nil {
				t.Fatal(err)
			}
			if n == 1 {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("%d used tokens left, want 1", n)
			}
			time.Sleep(5 * time.Millisecond) // pacing the polls, not timing anything
		}
		if first, _ := d.UseToken(ctx, "within-margin", now.Add(-time.Minute)); first {
			t.Errorf("a token within the margin was purged")
		}
		cancel()
		<-done
	})
}
