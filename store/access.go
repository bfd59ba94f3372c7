package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"sync"
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
// Rows go in a few multi-row statements rather than one a row: the server
// writes hundreds at a time, and each statement has a fixed cost.
func (d *DB) RecordAccess(ctx context.Context, entries []orgrel.AccessEntry) error {
	if len(entries) == 0 {
		return nil
	}
	for i := range entries {
		if e := &entries[i]; e.Operation == "" || e.Outcome == "" {
			return fmt.Errorf("%w: an access entry needs an operation and an outcome", ErrInvalid)
		}
	}
	tx, err := d.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("store: recording access: %w", err)
	}
	defer tx.Rollback()
	ids, err := d.accessIDs(ctx, tx, len(entries))
	if err != nil {
		return fmt.Errorf("store: recording access: %w", err)
	}
	var mailboxes []any // entry, mailbox, ...
	args := make([]any, 0, accessRowsPerInsert*accessColumns)
	for start := 0; start < len(entries); {
		n := rowsPerStatement(len(entries) - start)
		args = args[:0]
		for i := start; i < start+n; i++ {
			e := &entries[i]
			mb, err := json.Marshal(e.Mailbox)
			if err != nil {
				return err
			}
			args = append(args, ids[i], ts(e.At), e.Server, accessPartner(*e), e.Relationship, e.Domain, e.Account, e.User, e.RequestorDomain,
				e.Operation, e.Remote, e.Outcome, e.Status, int64(e.Duration), e.Reason, string(mb))
			for j, m := range e.Mailbox {
				a := strings.ToLower(m.Address)
				if slices.ContainsFunc(e.Mailbox[:j], func(o orgrel.MailboxAccess) bool { return strings.EqualFold(o.Address, a) }) {
					continue
				}
				mailboxes = append(mailboxes, ids[i], a)
			}
		}
		if err := d.insertAccess(ctx, tx, accessLogInsert, n, args); err != nil {
			return fmt.Errorf("store: recording access: %w", err)
		}
		start += n
	}
	for len(mailboxes) > 0 {
		n := rowsPerStatement(len(mailboxes) / 2)
		if err := d.insertAccess(ctx, tx, accessMailboxInsert, n, mailboxes[:2*n]); err != nil {
			return fmt.Errorf("store: recording access: %w", err)
		}
		mailboxes = mailboxes[2*n:]
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("store: recording access: %w", err)
	}
	for i := range entries {
		entries[i].ID = ids[i]
	}
	return nil
}

// accessColumns is how many columns an access_log row has;
// accessRowsPerInsert bounds the rows of one statement (a power of two),
// well within both backends' limits on parameters (SQLite's 32766,
// PostgreSQL's 65535).
const (
	accessColumns       = 16
	accessRowsPerInsert = 256
)

// The access log's two inserts.
const (
	accessLogInsert = iota
	accessMailboxInsert
)

// accessStatements are the access log's inserts, prepared once for each
// number of rows that is a power of two up to accessRowsPerInsert: a
// batch of any size is written by a few of them, and no statement is
// parsed again.
type accessStatements struct {
	mu    sync.Mutex
	stmts map[[2]int]*sql.Stmt // by insert and rows
}

// rowsPerStatement is how many of n rows the next statement writes: the
// largest power of two not above n or accessRowsPerInsert.
func rowsPerStatement(n int) int {
	r := accessRowsPerInsert
	for r > n {
		r /= 2
	}
	return r
}

// insertAccess runs insert for rows rows with args in tx.
func (d *DB) insertAccess(ctx context.Context, tx *sql.Tx, insert, rows int, args []any) error {
	s := &d.access
	s.mu.Lock()
	stmt, ok := s.stmts[[2]int{insert, rows}]
	if !ok {
		var query string
		switch insert {
		case accessLogInsert:
			query = insertRows(`INSERT INTO access_log (id, at, server, partner, relationship, domain, account, user_address,
				requestor_domain, operation, remote, outcome, status, duration_ns, reason, mailboxes) VALUES `, accessColumns, rows)
		default:
			query = insertRows(`INSERT INTO access_log_mailboxes (entry, mailbox) VALUES `, 2, rows)
		}
		var err error
		if stmt, err = d.db.PrepareContext(ctx, d.q(query)); err != nil {
			s.mu.Unlock()
			return err
		}
		if s.stmts == nil {
			s.stmts = map[[2]int]*sql.Stmt{}
		}
		s.stmts[[2]int{insert, rows}] = stmt
	}
	s.mu.Unlock()
	_, err := tx.StmtContext(ctx, stmt).ExecContext(ctx, args...)
	return err
}

// close closes the prepared statements.
func (s *accessStatements) close() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, stmt := range s.stmts {
		stmt.Close()
	}
	s.stmts = nil
}

// accessIDs reserves n new access_log ids, ascending, in tx: the ids the
// backend's auto-increment would have given n rows inserted one by one.
// PostgreSQL takes them from the column's sequence, safe beside other
// servers' transactions; SQLite's write transaction holds the database
// (_txlock=immediate), so the ids after the highest ever given
// (AUTOINCREMENT's sqlite_sequence) or held are free.
func (d *DB) accessIDs(ctx context.Context, tx *sql.Tx, n int) ([]int64, error) {
	ids := make([]int64, 0, n)
	if d.dialect.name == "postgres" {
		rows, err := tx.QueryContext(ctx, `SELECT nextval(pg_get_serial_sequence('access_log', 'id')) FROM generate_series(1, $1)`, n)
		if err != nil {
			return nil, err
		}
		defer rows.Close()
		for rows.Next() {
			var id int64
			if err := rows.Scan(&id); err != nil {
				return nil, err
			}
			ids = append(ids, id)
		}
		if err := rows.Err(); err != nil {
			return nil, err
		}
		if len(ids) != n {
			return nil, fmt.Errorf("%d ids reserved, want %d", len(ids), n)
		}
		slices.Sort(ids)
		return ids, nil
	}
	var last int64
	if err := tx.QueryRowContext(ctx, `SELECT MAX(COALESCE((SELECT seq FROM sqlite_sequence WHERE name = 'access_log'), 0),
		COALESCE((SELECT MAX(id) FROM access_log), 0))`).Scan(&last); err != nil {
		return nil, err
	}
	for i := range n {
		ids = append(ids, last+1+int64(i))
	}
	return ids, nil
}

// insertRows is head followed by rows tuples of cols placeholders.
func insertRows(head string, cols, rows int) string {
	var b strings.Builder
	b.Grow(len(head) + rows*(2*cols+3))
	b.WriteString(head)
	for r := range rows {
		if r > 0 {
			b.WriteByte(',')
		}
		b.WriteByte('(')
		for c := range cols {
			if c > 0 {
				b.WriteByte(',')
			}
			b.WriteByte('?')
		}
		b.WriteByte(')')
	}
	return b.String()
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
