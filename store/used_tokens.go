package store

import (
	"context"
	"fmt"
	"time"
)

// The delegation tokens used, when servers refuse a token's reuse
// (federation.refuse_token_reuse): a row per assertion accepted, by its
// replay key, kept until its token stops being usable. Being in the
// store, the record outlives a restart and is shared by every server on
// the same database. These rows are not federation records: writing them
// is neither audited nor a change the servers reload for.

// MaxUsedTokenKey bounds a replay key's length.
const MaxUsedTokenKey = 128

// UseToken records key as used until until and reports whether this is
// its first use: false when it is recorded already, by this server or
// another, before a restart or concurrently. Of concurrent first uses
// of one key exactly one is first: the key is the table's primary key,
// and an insert that meets it inserts nothing.
func (d *DB) UseToken(ctx context.Context, key string, until time.Time) (bool, error) {
	if key == "" || len(key) > MaxUsedTokenKey {
		return false, fmt.Errorf("%w: a used token's key must have 1 to %d characters, not %d", ErrInvalid, MaxUsedTokenKey, len(key))
	}
	res, err := d.db.ExecContext(ctx, d.q(`INSERT INTO used_tokens (key, usable_until) VALUES (?, ?) ON CONFLICT (key) DO NOTHING`), key, ts(until))
	if err != nil {
		return false, fmt.Errorf("store: recording a used token: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("store: recording a used token: %w", err)
	}
	return n == 1, nil
}

// PurgeUsedTokens deletes at most limit used tokens that stopped being
// usable before before, earliest first, and returns how many it deleted.
// The bound keeps each statement short, so that it never holds up the
// servers recording tokens.
func (d *DB) PurgeUsedTokens(ctx context.Context, before time.Time, limit int) (int64, error) {
	if limit <= 0 {
		return 0, fmt.Errorf("%w: purge limit %d: want a positive number of rows", ErrInvalid, limit)
	}
	res, err := d.db.ExecContext(ctx, d.q(`DELETE FROM used_tokens WHERE key IN (SELECT key FROM used_tokens WHERE usable_until < ? ORDER BY usable_until LIMIT ?)`), ts(before), limit)
	if err != nil {
		return 0, fmt.Errorf("store: purging used tokens: %w", err)
	}
	return res.RowsAffected()
}

// UsedTokenPurge is how PurgeUsedTokensEvery deletes: batches of Batch
// rows (default 1000), at most MaxBatches of them (default 100) a round.
type UsedTokenPurge struct {
	Interval time.Duration // between rounds; default 1m
	// Margin is how long after its token stops being usable a row is
	// kept, for servers whose clocks run behind; default 5m (the default
	// clock skew).
	Margin     time.Duration
	Batch      int
	MaxBatches int
}

// PurgeUsedTokensEvery deletes the used tokens past their use, a bounded
// round every p.Interval, until ctx ends. Servers sharing a database may
// all run it: they delete the same rows, which costs nothing more.
func (d *DB) PurgeUsedTokensEvery(ctx context.Context, p UsedTokenPurge) {
	if p.Interval <= 0 {
		p.Interval = time.Minute
	}
	if p.Margin <= 0 {
		p.Margin = 5 * time.Minute
	}
	if p.Batch <= 0 {
		p.Batch = 1000
	}
	if p.MaxBatches <= 0 {
		p.MaxBatches = 100
	}
	tick := time.NewTicker(p.Interval)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		n, err := d.purgeRound(ctx, d.now().Add(-p.Margin), p.Batch, p.MaxBatches)
		switch {
		case err != nil && ctx.Err() == nil:
			d.log.Warn("store: purging used tokens", "deleted", n, "err", err)
		case n > 0:
			d.log.Debug("store: used tokens purged", "deleted", n)
		}
	}
}

// purgeRound deletes batches until one comes back short, at most max.
func (d *DB) purgeRound(ctx context.Context, before time.Time, batch, max int) (int64, error) {
	var total int64
	for range max {
		n, err := d.PurgeUsedTokens(ctx, before, batch)
		total += n
		if err != nil || n < int64(batch) {
			return total, err
		}
	}
	return total, nil
}
