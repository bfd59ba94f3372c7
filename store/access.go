package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/calfed/calfed/orgrel"
)

// The information-governance access log: one row per partner request
// (orgrel.AccessEntry). It is not a change: no audit entry, and the
// change counter does not move. Rows are kept for the configured
// retention and pruned (PruneAccessLog); nothing else deletes them.

// accessPartner is the partner an entry is counted under: its
// relationship, or its domain when none covered it.
func accessPartner(e orgrel.AccessEntry) string {
	if e.Relationship != "" {
		return e.Relationship
	}
	return e.Domain
}

// RecordAccess writes entries in one transaction, setting each one's ID.
func (d *DB) RecordAccess(ctx context.Context, entries []orgrel.AccessEntry) error {
	if len(entries) == 0 {
		return nil
	}
	tx, err := d.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("store: recording access: %w", err)
	}
	defer tx.Rollback()
	// Prepared once a batch: the server writes hundreds at a time.
	insEntry, err := tx.PrepareContext(ctx, d.q(`INSERT INTO access_log (at, server, partner, relationship, domain, account, user_address,
		requestor_domain, operation, remote, outcome, status, duration_ns, reason, mailboxes)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`))
	if err != nil {
		return fmt.Errorf("store: recording access: %w", err)
	}
	defer insEntry.Close()
	insMailbox, err := tx.PrepareContext(ctx, d.q(`INSERT INTO access_log_mailboxes (entry, mailbox) VALUES (?, ?)`))
	if err != nil {
		return fmt.Errorf("store: recording access: %w", err)
	}
	defer insMailbox.Close()
	for i := range entries {
		e := &entries[i]
		if e.Operation == "" || e.Outcome == "" {
			return fmt.Errorf("%w: an access entry needs an operation and an outcome", ErrInvalid)
		}
		mb, err := json.Marshal(e.Mailbox)
		if err != nil {
			return err
		}
		if err := insEntry.QueryRowContext(ctx,
			ts(e.At), e.Server, accessPartner(*e), e.Relationship, e.Domain, e.Account, e.User, e.RequestorDomain, e.Operation,
			e.Remote, e.Outcome, e.Status, int64(e.Duration), e.Reason, string(mb)).Scan(&e.ID); err != nil {
			return fmt.Errorf("store: recording access: %w", err)
		}
		seen := map[string]bool{}
		for _, m := range e.Mailbox {
			a := strings.ToLower(m.Address)
			if seen[a] {
				continue
			}
			seen[a] = true
			if _, err := insMailbox.ExecContext(ctx, e.ID, a); err != nil {
				return fmt.Errorf("store: recording access: %w", err)
			}
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("store: recording access: %w", err)
	}
	return nil
}

// AccessLog returns the entries q selects, oldest first; with a Limit,
// the newest Limit of them.
func (d *DB) AccessLog(ctx context.Context, q orgrel.AccessQuery) ([]orgrel.AccessEntry, error) {
	var where []string
	var args []any
	if !q.Since.IsZero() {
		where = append(where, "at >= ?")
		args = append(args, ts(q.Since))
	}
	if !q.Until.IsZero() {
		where = append(where, "at < ?")
		args = append(args, ts(q.Until))
	}
	if p := strings.ToLower(strings.TrimSpace(q.Partner)); p != "" {
		where = append(where, "(LOWER(partner) = ? OR LOWER(domain) = ? OR LOWER(account) = ? OR LOWER(user_address) = ?)")
		args = append(args, p, p, p, p)
	}
	if m := strings.ToLower(strings.TrimSpace(q.Mailbox)); m != "" {
		where = append(where, "id IN (SELECT entry FROM access_log_mailboxes WHERE mailbox = ?)")
		args = append(args, m)
	}
	query := `SELECT id, at, server, relationship, domain, account, user_address, requestor_domain, operation, remote, outcome,
		status, duration_ns, reason, mailboxes FROM access_log`
	if len(where) > 0 {
		query += " WHERE " + strings.Join(where, " AND ")
	}
	query += " ORDER BY id DESC"
	if q.Limit > 0 {
		query += " LIMIT ?"
		args = append(args, q.Limit)
	}
	rows, err := d.db.QueryContext(ctx, d.q(query), args...)
	if err != nil {
		return nil, fmt.Errorf("store: reading the access log: %w", err)
	}
	defer rows.Close()
	var out []orgrel.AccessEntry
	for rows.Next() {
		var e orgrel.AccessEntry
		var at, mb string
		var dur int64
		if err := rows.Scan(&e.ID, &at, &e.Server, &e.Relationship, &e.Domain, &e.Account, &e.User, &e.RequestorDomain, &e.Operation,
			&e.Remote, &e.Outcome, &e.Status, &dur, &e.Reason, &mb); err != nil {
			return nil, err
		}
		if e.At, err = parseTS(at); err != nil {
			return nil, err
		}
		e.Duration = time.Duration(dur)
		if err := json.Unmarshal([]byte(mb), &e.Mailbox); err != nil {
			return nil, fmt.Errorf("store: access entry %d: mailboxes: %w", e.ID, err)
		}
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	slices.Reverse(out)
	return out, nil
}

// PruneAccessLog deletes up to limit entries older than before, oldest
// first, and returns how many it deleted; the bound keeps each statement
// short, so that it never holds up the servers recording requests.
func (d *DB) PruneAccessLog(ctx context.Context, before time.Time, limit int) (int64, error) {
	if limit <= 0 {
		return 0, fmt.Errorf("%w: prune limit %d: want a positive number of rows", ErrInvalid, limit)
	}
	res, err := d.db.ExecContext(ctx, d.q(`DELETE FROM access_log WHERE id IN (SELECT id FROM access_log WHERE at < ? ORDER BY at LIMIT ?)`), ts(before), limit)
	if err != nil {
		return 0, fmt.Errorf("store: pruning the access log: %w", err)
	}
	return res.RowsAffected()
}

// PartnerActivity sums up each partner's requests in the access log:
// its last success, its last failure with the reason, and its requests
// at or after since by outcome; partners by name.
func (d *DB) PartnerActivity(ctx context.Context, since time.Time) ([]orgrel.PartnerActivity, error) {
	by := map[string]*orgrel.PartnerActivity{}
	get := func(p string) *orgrel.PartnerActivity {
		a, ok := by[p]
		if !ok {
			a = &orgrel.PartnerActivity{Partner: p, Since: since, ByOutcome: map[string]int{}}
			by[p] = a
		}
		return a
	}
	each := func(query string, args []any, scan func(rows *sql.Rows) error) error {
		rows, err := d.db.QueryContext(ctx, d.q(query), args...)
		if err != nil {
			return fmt.Errorf("store: reading partner activity: %w", err)
		}
		defer rows.Close()
		for rows.Next() {
			if err := scan(rows); err != nil {
				return err
			}
		}
		return rows.Err()
	}
	if err := each(`SELECT partner, outcome, COUNT(*) FROM access_log WHERE at >= ? GROUP BY partner, outcome`, []any{ts(since)},
		func(rows *sql.Rows) error {
			var p, o string
			var n int
			if err := rows.Scan(&p, &o, &n); err != nil {
				return err
			}
			a := get(p)
			a.ByOutcome[o] += n
			a.Requests += int64(n)
			return nil
		}); err != nil {
		return nil, err
	}
	ok := []any{orgrel.AccessOK, orgrel.AccessPartial}
	if err := each(`SELECT partner, MAX(at) FROM access_log WHERE outcome IN (?, ?) GROUP BY partner`, ok,
		func(rows *sql.Rows) error {
			var p, at string
			if err := rows.Scan(&p, &at); err != nil {
				return err
			}
			t, err := parseTS(at)
			get(p).LastSuccess = &t
			return err
		}); err != nil {
		return nil, err
	}
	// The last failure's reason is the newest failed row's, so one
	// query: each partner's failed rows newest first, the first taken.
	if err := each(`SELECT partner, at, outcome, reason FROM access_log a WHERE outcome NOT IN (?, ?)
		AND at = (SELECT MAX(at) FROM access_log b WHERE b.partner = a.partner AND b.outcome NOT IN (?, ?)) ORDER BY id DESC`,
		append(ok, ok...), func(rows *sql.Rows) error {
			var p, at, outcome, reason string
			if err := rows.Scan(&p, &at, &outcome, &reason); err != nil {
				return err
			}
			a := get(p)
			if a.LastFailure != nil {
				return nil
			}
			t, err := parseTS(at)
			a.LastFailure = &t
			a.FailureWhy = outcome
			if reason != "" {
				a.FailureWhy += ": " + reason
			}
			return err
		}); err != nil {
		return nil, err
	}
	out := make([]orgrel.PartnerActivity, 0, len(by))
	for _, a := range by {
		out = append(out, *a)
	}
	slices.SortFunc(out, func(a, b orgrel.PartnerActivity) int { return strings.Compare(a.Partner, b.Partner) })
	return out, nil
}
