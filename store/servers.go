package store

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"github.com/calfed/calfed/orgrel"
)

// ServerRetention is how long the record of a server that stopped
// reporting is kept after it expired; Servers ignores it from its
// expiry on, ReportServer deletes it after this.
const ServerRetention = time.Hour

// ReportServer records what a running server has applied, replacing its
// previous report, and deletes the records of servers gone for longer
// than ServerRetention. It is not a change: no audit entry, and the
// change counter does not move.
func (d *DB) ReportServer(ctx context.Context, s orgrel.Server) error {
	if strings.TrimSpace(s.ID) == "" {
		return fmt.Errorf("%w: a server report needs an id", ErrInvalid)
	}
	var failing sql.NullString
	if s.FailingSince != nil {
		failing = sql.NullString{String: ts(*s.FailingSince), Valid: true}
	}
	if _, err := d.db.ExecContext(ctx, d.q(`INSERT INTO live_servers (id, started, applied, applied_at, heartbeat, expires, error, failing_since)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (id) DO UPDATE SET applied = excluded.applied, applied_at = excluded.applied_at, heartbeat = excluded.heartbeat,
			expires = excluded.expires, error = excluded.error, failing_since = excluded.failing_since`),
		s.ID, ts(s.Started), s.Applied, ts(s.AppliedAt), ts(s.Heartbeat), ts(s.Expires), s.Error, failing); err != nil {
		return fmt.Errorf("store: recording server %s: %w", s.ID, err)
	}
	if _, err := d.db.ExecContext(ctx, d.q(`DELETE FROM live_servers WHERE expires < ?`), ts(d.now().Add(-ServerRetention))); err != nil {
		return fmt.Errorf("store: deleting the records of servers gone: %w", err)
	}
	return nil
}

// RemoveServer deletes a server's record, as it stops.
func (d *DB) RemoveServer(ctx context.Context, id string) error {
	_, err := d.db.ExecContext(ctx, d.q(`DELETE FROM live_servers WHERE id = ?`), id)
	return err
}

// Servers lists the running servers: those whose last report has not
// expired, by id. Expiry is the reporting server's clock against this
// process's.
func (d *DB) Servers(ctx context.Context) ([]orgrel.Server, error) {
	rows, err := d.db.QueryContext(ctx, d.q(`SELECT id, started, applied, applied_at, heartbeat, expires, error, failing_since
		FROM live_servers WHERE expires >= ? ORDER BY id`), ts(d.now()))
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []orgrel.Server
	for rows.Next() {
		var s orgrel.Server
		var started, appliedAt, heartbeat, expires string
		var failing sql.NullString
		if err := rows.Scan(&s.ID, &started, &s.Applied, &appliedAt, &heartbeat, &expires, &s.Error, &failing); err != nil {
			return nil, err
		}
		for _, f := range []struct {
			s   string
			dst *time.Time
		}{{started, &s.Started}, {appliedAt, &s.AppliedAt}, {heartbeat, &s.Heartbeat}, {expires, &s.Expires}} {
			if *f.dst, err = parseTS(f.s); err != nil {
				return nil, err
			}
		}
		if s.FailingSince, err = parseNullTS(failing); err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, rows.Err()
}
