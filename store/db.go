package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // driver "pgx"
	_ "modernc.org/sqlite"             // driver "sqlite", pure Go
)

// Config selects and tunes a backend. The zero value is not usable: set
// Driver and DSN (or use OpenSQLite).
type Config struct {
	Driver string // "sqlite" or "postgres"
	DSN    string // SQLite: a file path; PostgreSQL: a connection string
	// PollInterval is how often Watch reads the change counter; default
	// 250ms. On PostgreSQL notifications arrive sooner; the poll is the
	// safety net.
	PollInterval time.Duration
	Logger       *slog.Logger     // nil discards
	Now          func() time.Time // default time.Now
}

// DB is an open store.
type DB struct {
	db      *sql.DB
	dialect dialect
	cfg     Config
	log     *slog.Logger
	now     func() time.Time
	access  accessStatements // the access log's prepared inserts
}

type dialect struct {
	name       string
	migrations []string
	rebind     bool // ? placeholders become $n
	notify     string
}

// Open connects, applies pending schema migrations and refuses a schema
// newer than it knows.
func Open(ctx context.Context, cfg Config) (*DB, error) {
	if cfg.PollInterval <= 0 {
		cfg.PollInterval = 250 * time.Millisecond
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	d := &DB{cfg: cfg, log: cfg.Logger, now: cfg.Now}
	if d.log == nil {
		d.log = slog.New(slog.DiscardHandler)
	}
	var err error
	switch cfg.Driver {
	case "sqlite":
		d.dialect = sqliteDialect
		// WAL with full synchronisation: a committed change survives a
		// crash; IMMEDIATE transactions take the write lock up front, so
		// concurrent writers queue instead of failing on upgrade.
		dsn := "file:" + cfg.DSN + "?_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)&_pragma=synchronous(FULL)&_pragma=foreign_keys(1)&_txlock=immediate"
		d.db, err = sql.Open("sqlite", dsn)
	case "postgres":
		d.dialect = postgresDialect
		d.db, err = sql.Open("pgx", cfg.DSN)
	default:
		return nil, fmt.Errorf("%w: driver %q (want sqlite or postgres)", ErrInvalid, cfg.Driver)
	}
	if err != nil {
		return nil, err
	}
	if err := d.db.PingContext(ctx); err != nil {
		d.db.Close()
		return nil, fmt.Errorf("store: connecting to %s: %w", cfg.Driver, err)
	}
	if err := d.migrate(ctx); err != nil {
		d.db.Close()
		return nil, err
	}
	return d, nil
}

// Close releases the connection pool.
func (d *DB) Close() error {
	d.access.close()
	return d.db.Close()
}

// Driver names the backend.
func (d *DB) Driver() string { return d.dialect.name }

// q adapts ? placeholders to the backend.
func (d *DB) q(query string) string {
	if !d.dialect.rebind {
		return query
	}
	var b strings.Builder
	n := 0
	for _, c := range query {
		if c == '?' {
			n++
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(n))
			continue
		}
		b.WriteRune(c)
	}
	return b.String()
}

// SchemaVersion is the number of migrations this calfed knows.
func (d *DB) SchemaVersion() int { return len(d.dialect.migrations) }

func (d *DB) migrate(ctx context.Context) error {
	if _, err := d.db.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)`); err != nil {
		return fmt.Errorf("store: creating schema_version: %w", err)
	}
	tx, err := d.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if d.dialect.name == "postgres" {
		// One migrator at a time when several instances start together.
		if _, err := tx.ExecContext(ctx, `LOCK TABLE schema_version IN ACCESS EXCLUSIVE MODE`); err != nil {
			return err
		}
	}
	var have int
	err = tx.QueryRowContext(ctx, `SELECT version FROM schema_version`).Scan(&have)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		if _, err := tx.ExecContext(ctx, `INSERT INTO schema_version (version) VALUES (0)`); err != nil {
			return err
		}
	case err != nil:
		return err
	}
	known := len(d.dialect.migrations)
	if have > known {
		return fmt.Errorf("%w: the database is at version %d, this calfed knows up to %d", ErrSchemaTooNew, have, known)
	}
	for v := have; v < known; v++ {
		if _, err := tx.ExecContext(ctx, d.dialect.migrations[v]); err != nil {
			return fmt.Errorf("store: migration %d: %w", v+1, err)
		}
		d.log.Info("store schema migrated", "version", v+1)
	}
	if _, err := tx.ExecContext(ctx, d.q(`UPDATE schema_version SET version = ?`), known); err != nil {
		return err
	}
	return tx.Commit()
}

// timestamps are stored as fixed-width UTC text, which sorts and compares
// the same way in both backends.
const tsLayout = "2006-01-02T15:04:05.000000000Z"

func ts(t time.Time) string { return t.UTC().Format(tsLayout) }

func parseTS(s string) (time.Time, error) { return time.Parse(tsLayout, s) }

func parseNullTS(s sql.NullString) (*time.Time, error) {
	if !s.Valid {
		return nil, nil
	}
	t, err := parseTS(s.String)
	return &t, err
}

// change runs fn in a transaction that also records the audit entry and
// advances the change counter, so a change and its record are one.
func (d *DB) change(ctx context.Context, actor, action, object string, fn func(tx *sql.Tx) (before, after any, err error)) error {
	if strings.TrimSpace(actor) == "" {
		return fmt.Errorf("%w: a change needs an actor", ErrInvalid)
	}
	tx, err := d.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	before, after, err := fn(tx)
	if err != nil {
		return err
	}
	bj, err := marshalNullable(before)
	if err != nil {
		return err
	}
	aj, err := marshalNullable(after)
	if err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, d.q(`INSERT INTO audit (at, actor, action, object, before, after) VALUES (?, ?, ?, ?, ?, ?)`),
		ts(d.now()), actor, action, object, bj, aj); err != nil {
		return fmt.Errorf("store: writing audit entry: %w", err)
	}
	if _, err := tx.ExecContext(ctx, `UPDATE changes SET counter = counter + 1`); err != nil {
		return err
	}
	if d.dialect.notify != "" {
		if _, err := tx.ExecContext(ctx, d.dialect.notify); err != nil {
			return err
		}
	}
	return tx.Commit()
}

func marshalNullable(v any) (sql.NullString, error) {
	if v == nil {
		return sql.NullString{}, nil
	}
	b, err := json.Marshal(v)
	if err != nil {
		return sql.NullString{}, err
	}
	return sql.NullString{String: string(b), Valid: true}, nil
}

// Counter returns the change counter.
func (d *DB) Counter(ctx context.Context) (int64, error) {
	var n int64
	err := d.db.QueryRowContext(ctx, `SELECT counter FROM changes`).Scan(&n)
	return n, err
}

// Ping checks that the database answers.
func (d *DB) Ping(ctx context.Context) error {
	if err := d.db.PingContext(ctx); err != nil {
		return fmt.Errorf("store: %s does not answer: %w", d.dialect.name, err)
	}
	return nil
}
