package store

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/calfed/calfed/orgrel"
)

// Snapshot reads everything access decisions need, consistently: it
// retries when a change lands while it reads.
func (d *DB) Snapshot(ctx context.Context) (*orgrel.Snapshot, error) {
	for attempt := 0; ; attempt++ {
		c1, err := d.Counter(ctx)
		if err != nil {
			return nil, err
		}
		s := &orgrel.Snapshot{Counter: c1}
		// Every change writes its audit entry with it (change), so the
		// newest entry is the change's time.
		var at sql.NullString
		if err := d.db.QueryRowContext(ctx, `SELECT MAX(at) FROM audit`).Scan(&at); err != nil {
			return nil, err
		}
		if at.Valid {
			if s.ChangedAt, err = parseTS(at.String); err != nil {
				return nil, err
			}
		}
		if s.Relationships, err = d.Relationships(ctx); err != nil {
			return nil, err
		}
		if s.Sharing, err = d.Sharing(ctx); err != nil {
			return nil, err
		}
		if s.Accounts, err = d.Accounts(ctx); err != nil {
			return nil, err
		}
		switch t, err := d.Trust(ctx); {
		case err == nil:
			s.Trust = &t
		case !errors.Is(err, ErrNotFound):
			return nil, err
		}
		c2, err := d.Counter(ctx)
		if err != nil {
			return nil, err
		}
		if c1 == c2 || attempt >= 20 {
			return s, nil
		}
	}
}

// Watch sends on the returned channel after every committed change, from
// any process using the same database, and closes it when ctx ends.
// Notifications coalesce: one send may stand for several changes.
func (d *DB) Watch(ctx context.Context) <-chan struct{} {
	ch := make(chan struct{}, 1)
	signal := func() {
		select {
		case ch <- struct{}{}:
		default:
		}
	}
	last, err := d.Counter(ctx)
	if err != nil {
		d.log.Warn("store: reading change counter", "err", err)
	}
	poke := make(chan struct{}, 1)
	if d.dialect.name == "postgres" {
		go d.listen(ctx, poke)
	}
	go func() {
		defer close(ch)
		t := time.NewTicker(d.cfg.PollInterval)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			case <-poke:
			}
			n, err := d.Counter(ctx)
			if err != nil {
				if ctx.Err() == nil {
					d.log.Warn("store: reading change counter", "err", err)
				}
				continue
			}
			if n != last {
				last = n
				signal()
			}
		}
	}()
	return ch
}

// listen receives PostgreSQL notifications on a dedicated connection,
// reconnecting after failures; the counter poll covers any gap.
func (d *DB) listen(ctx context.Context, poke chan<- struct{}) {
	for ctx.Err() == nil {
		conn, err := pgx.Connect(ctx, d.cfg.DSN)
		if err == nil {
			_, err = conn.Exec(ctx, "LISTEN calfed_changes")
			for err == nil {
				_, err = conn.WaitForNotification(ctx)
				if err == nil {
					select {
					case poke <- struct{}{}:
					default:
					}
				}
			}
			conn.Close(context.Background())
		}
		if ctx.Err() != nil {
			return
		}
		d.log.Warn("store: listening for changes", "err", err)
		select {
		case <-ctx.Done():
		case <-time.After(time.Second):
		}
	}
}
