package store

import (
	"context"
	"database/sql"
	"time"

	"github.com/calfed/calfed/orgrel"
)

// Audit returns the entries at or after since, oldest first, at most limit
// (0: no limit).
func (d *DB) Audit(ctx context.Context, since time.Time, limit int) ([]orgrel.AuditEntry, error) {
	query := `SELECT id, at, actor, action, object, before, after FROM audit WHERE at >= ? ORDER BY id`
	args := []any{ts(since)}
	if limit > 0 {
		query += ` LIMIT ?`
		args = append(args, limit)
	}
	rows, err := d.db.QueryContext(ctx, d.q(query), args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []orgrel.AuditEntry
	for rows.Next() {
		var e orgrel.AuditEntry
		var at string
		var before, after sql.NullString
		if err := rows.Scan(&e.ID, &at, &e.Actor, &e.Action, &e.Object, &before, &after); err != nil {
			return nil, err
		}
		if e.At, err = parseTS(at); err != nil {
			return nil, err
		}
		if before.Valid {
			e.Before = []byte(before.String)
		}
		if after.Valid {
			e.After = []byte(after.String)
		}
		out = append(out, e)
	}
	return out, rows.Err()
}

// RecordChange records a change made outside the store, such as a
// federation certificate put into a slot, in the audit log (before and
// after as JSON; nil leaves one out), and counts it as a change so that
// running servers reload.
func (d *DB) RecordChange(ctx context.Context, actor, action, object string, before, after any) error {
	return d.change(ctx, actor, action, object, func(*sql.Tx) (any, any, error) { return before, after, nil })
}
