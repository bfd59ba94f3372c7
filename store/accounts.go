package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/calfed/calfed/orgrel"
)

const accountColumns = `a.name, r.name, a.secret_hash, a.created, a.rotated, a.revoked, a.version, a.previous_secret_hash, a.previous_valid_until`

func scanAccount(s scanner) (orgrel.ServiceAccount, error) {
	var a orgrel.ServiceAccount
	var created string
	var rotated, revoked, previousUntil sql.NullString
	if err := s.Scan(&a.Name, &a.Relationship, &a.SecretHash, &created, &rotated, &revoked, &a.Version, &a.PreviousSecretHash, &previousUntil); err != nil {
		return a, err
	}
	var err error
	if a.Created, err = parseTS(created); err != nil {
		return a, err
	}
	if a.Rotated, err = parseNullTS(rotated); err != nil {
		return a, err
	}
	if a.PreviousValidUntil, err = parseNullTS(previousUntil); err != nil {
		return a, err
	}
	a.Revoked, err = parseNullTS(revoked)
	return a, err
}

// Accounts lists every service account, revoked ones included.
func (d *DB) Accounts(ctx context.Context) ([]orgrel.ServiceAccount, error) {
	rows, err := d.db.QueryContext(ctx, `SELECT `+accountColumns+` FROM service_accounts a JOIN relationships r ON r.key = a.relationship ORDER BY a.key`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []orgrel.ServiceAccount
	for rows.Next() {
		a, err := scanAccount(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, a)
	}
	return out, rows.Err()
}

// Account finds one by name, case-insensitively.
func (d *DB) Account(ctx context.Context, name string) (orgrel.ServiceAccount, error) {
	return d.account(ctx, d.db, name)
}

func (d *DB) account(ctx context.Context, q querier, name string) (orgrel.ServiceAccount, error) {
	a, err := scanAccount(q.QueryRowContext(ctx, d.q(`SELECT `+accountColumns+` FROM service_accounts a JOIN relationships r ON r.key = a.relationship WHERE a.key = ?`), key(name)))
	if errors.Is(err, sql.ErrNoRows) {
		return a, fmt.Errorf("%w: service account %q", ErrNotFound, name)
	}
	return a, err
}

// CreateAccount adds a service account for an existing relationship.
func (d *DB) CreateAccount(ctx context.Context, actor, name, relationship, secretHash string) (orgrel.ServiceAccount, error) {
	name = strings.TrimSpace(name)
	if name == "" || strings.ContainsAny(name, ": \t") {
		return orgrel.ServiceAccount{}, fmt.Errorf("%w: account name %q (no spaces or colons)", ErrInvalid, name)
	}
	err := d.change(ctx, actor, "account.new", "account/"+name, func(tx *sql.Tx) (any, any, error) {
		if _, err := d.account(ctx, tx, name); err == nil {
			return nil, nil, fmt.Errorf("%w: service account %q", ErrExists, name)
		} else if !errors.Is(err, ErrNotFound) {
			return nil, nil, err
		}
		if _, err := d.relationship(ctx, tx, relationship); err != nil {
			return nil, nil, err
		}
		if _, err := tx.ExecContext(ctx, d.q(`INSERT INTO service_accounts (key, name, relationship, secret_hash, created, version) VALUES (?, ?, ?, ?, ?, 1)`),
			key(name), name, key(relationship), secretHash, ts(d.now())); err != nil {
			return nil, nil, err
		}
		after, err := d.account(ctx, tx, name)
		return nil, after, err
	})
	if err != nil {
		return orgrel.ServiceAccount{}, err
	}
	return d.Account(ctx, name)
}

// RotateAccount replaces the secret hash, keeping the one it replaces
// valid for overlap (0: not at all; a secret kept from an earlier
// rotation is forgotten either way); RevokeAccount disables the account
// for good. Both need the version read.
func (d *DB) RotateAccount(ctx context.Context, actor, name, secretHash string, overlap time.Duration, version int64) (orgrel.ServiceAccount, error) {
	if overlap < 0 || overlap > orgrel.MaxRotationOverlap {
		return orgrel.ServiceAccount{}, fmt.Errorf("%w: overlap %v: want 0 to %v (%d days)", ErrInvalid, overlap, orgrel.MaxRotationOverlap, orgrel.MaxRotationOverlap/(24*time.Hour))
	}
	return d.updateAccount(ctx, actor, "account.rotate", name, version, func(tx *sql.Tx, a orgrel.ServiceAccount) error {
		if a.Revoked != nil {
			return fmt.Errorf("%w: service account %q is revoked; create a new one", ErrInvalid, name)
		}
		now := d.now()
		prev, until := "", sql.NullString{}
		if overlap > 0 {
			prev, until = a.SecretHash, sql.NullString{String: ts(now.Add(overlap)), Valid: true}
		}
		_, err := tx.ExecContext(ctx, d.q(`UPDATE service_accounts SET secret_hash = ?, rotated = ?, previous_secret_hash = ?, previous_valid_until = ?, version = version + 1 WHERE key = ?`),
			secretHash, ts(now), prev, until, key(name))
		return err
	})
}

func (d *DB) RevokeAccount(ctx context.Context, actor, name string, version int64) (orgrel.ServiceAccount, error) {
	return d.updateAccount(ctx, actor, "account.revoke", name, version, func(tx *sql.Tx, a orgrel.ServiceAccount) error {
		if a.Revoked != nil {
			return fmt.Errorf("%w: service account %q is already revoked", ErrInvalid, name)
		}
		_, err := tx.ExecContext(ctx, d.q(`UPDATE service_accounts SET revoked = ?, previous_secret_hash = '', previous_valid_until = NULL, version = version + 1 WHERE key = ?`), ts(d.now()), key(name))
		return err
	})
}

func (d *DB) updateAccount(ctx context.Context, actor, action, name string, version int64, fn func(*sql.Tx, orgrel.ServiceAccount) error) (orgrel.ServiceAccount, error) {
	err := d.change(ctx, actor, action, "account/"+name, func(tx *sql.Tx) (any, any, error) {
		before, err := d.account(ctx, tx, name)
		if err != nil {
			return nil, nil, err
		}
		if before.Version != version {
			return nil, nil, fmt.Errorf("%w: service account %q is at version %d, not %d", ErrConflict, name, before.Version, version)
		}
		if err := fn(tx, before); err != nil {
			return nil, nil, err
		}
		after, err := d.account(ctx, tx, name)
		return before, after, err
	})
	if err != nil {
		return orgrel.ServiceAccount{}, err
	}
	return d.Account(ctx, name)
}
