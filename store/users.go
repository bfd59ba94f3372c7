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

const userTokenColumns = `id, address, label, created, expires, revoked`

func scanUserToken(s scanner) (orgrel.UserToken, error) {
	var t orgrel.UserToken
	var created string
	var expires, revoked sql.NullString
	if err := s.Scan(&t.ID, &t.Address, &t.Label, &created, &expires, &revoked); err != nil {
		return t, err
	}
	var err error
	if t.Created, err = parseTS(created); err != nil {
		return t, err
	}
	if t.Expires, err = parseNullTS(expires); err != nil {
		return t, err
	}
	t.Revoked, err = parseNullTS(revoked)
	return t, err
}

func nullTS(t *time.Time) sql.NullString {
	if t == nil {
		return sql.NullString{}
	}
	return sql.NullString{String: ts(*t), Valid: true}
}

// CreateUserToken records a user's token by the SHA-256 hash of its
// secret (hex); t.ID, t.Address and the hash are required. Audited as
// user.token.new, without the hash.
func (d *DB) CreateUserToken(ctx context.Context, actor string, t orgrel.UserToken, hash string) (orgrel.UserToken, error) {
	if t.ID == "" || t.Address == "" || len(hash) != 64 {
		return orgrel.UserToken{}, fmt.Errorf("%w: a user token needs an id, an address and a SHA-256 hash", ErrInvalid)
	}
	t.Created = d.now()
	err := d.change(ctx, actor, "user.token.new", "user/"+t.Address+"/token/"+t.ID, func(tx *sql.Tx) (any, any, error) {
		if _, err := tx.ExecContext(ctx, d.q(`INSERT INTO user_tokens (id, address, label, hash, created, expires) VALUES (?, ?, ?, ?, ?, ?)`),
			t.ID, t.Address, t.Label, hash, ts(t.Created), nullTS(t.Expires)); err != nil {
			return nil, nil, err
		}
		after, err := d.userToken(ctx, tx, `WHERE id = ?`, t.ID)
		return nil, after, err
	})
	if err != nil {
		return orgrel.UserToken{}, err
	}
	return d.userToken(ctx, d.db, `WHERE id = ?`, t.ID)
}

func (d *DB) userToken(ctx context.Context, q querier, where string, args ...any) (orgrel.UserToken, error) {
	t, err := scanUserToken(q.QueryRowContext(ctx, d.q(`SELECT `+userTokenColumns+` FROM user_tokens `+where), args...))
	if errors.Is(err, sql.ErrNoRows) {
		return t, fmt.Errorf("%w: user token", ErrNotFound)
	}
	return t, err
}

// UserTokenByHash finds the token whose secret hashes to hash, revoked
// and expired ones included (the caller decides: orgrel.UserToken.Usable).
func (d *DB) UserTokenByHash(ctx context.Context, hash string) (orgrel.UserToken, error) {
	return d.userToken(ctx, d.db, `WHERE hash = ?`, hash)
}

// UserTokens lists the tokens of address (every user's when empty),
// oldest first, revoked ones included.
func (d *DB) UserTokens(ctx context.Context, address string) ([]orgrel.UserToken, error) {
	query, args := `SELECT `+userTokenColumns+` FROM user_tokens`, []any{}
	if address != "" {
		query += ` WHERE address = ?`
		args = append(args, address)
	}
	rows, err := d.db.QueryContext(ctx, d.q(query+` ORDER BY created, id`), args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []orgrel.UserToken
	for rows.Next() {
		t, err := scanUserToken(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, t)
	}
	return out, rows.Err()
}

// RevokeUserToken revokes a token for good. Audited as user.token.revoke.
func (d *DB) RevokeUserToken(ctx context.Context, actor, id string) (orgrel.UserToken, error) {
	id = strings.TrimSpace(id)
	var out orgrel.UserToken
	err := d.change(ctx, actor, "user.token.revoke", "user/token/"+id, func(tx *sql.Tx) (any, any, error) {
		before, err := d.userToken(ctx, tx, `WHERE id = ?`, id)
		if err != nil {
			return nil, nil, fmt.Errorf("%w %q (calfed user token list)", err, id)
		}
		if before.Revoked != nil {
			return nil, nil, fmt.Errorf("%w: user token %q is already revoked", ErrInvalid, id)
		}
		if _, err := tx.ExecContext(ctx, d.q(`UPDATE user_tokens SET revoked = ? WHERE id = ?`), ts(d.now()), id); err != nil {
			return nil, nil, err
		}
		out, err = d.userToken(ctx, tx, `WHERE id = ?`, id)
		return before, out, err
	})
	return out, err
}

// SetOutboundCredential records the account and secret the partner of
// relationship gave us for asking it cross-forest; an empty account
// removes them. Audited as orgrel.outbound, with the account only.
func (d *DB) SetOutboundCredential(ctx context.Context, actor, relationship, account, secret string) error {
	account = strings.TrimSpace(account)
	if account != "" && secret == "" {
		return fmt.Errorf("%w: outbound secret: empty; give the partner's secret in a file (-outbound-secret-file)", ErrInvalid)
	}
	return d.change(ctx, actor, "orgrel.outbound", "orgrel/"+relationship, func(tx *sql.Tx) (any, any, error) {
		rel, err := d.relationship(ctx, tx, relationship)
		if err != nil {
			return nil, nil, err
		}
		before, err := d.outboundCredential(ctx, tx, rel.Name)
		var b any
		if err == nil {
			b = before
		} else if !errors.Is(err, ErrNotFound) {
			return nil, nil, err
		}
		if _, err := tx.ExecContext(ctx, d.q(`DELETE FROM outbound_credentials WHERE relationship = ?`), key(rel.Name)); err != nil {
			return nil, nil, err
		}
		if account == "" {
			return b, nil, nil
		}
		if _, err := tx.ExecContext(ctx, d.q(`INSERT INTO outbound_credentials (relationship, account, secret, updated) VALUES (?, ?, ?, ?)`),
			key(rel.Name), account, secret, ts(d.now())); err != nil {
			return nil, nil, err
		}
		after, err := d.outboundCredential(ctx, tx, rel.Name)
		return b, after, err
	})
}

// OutboundCredential is what the partner of relationship gave us for
// asking it cross-forest; ErrNotFound when it gave nothing.
func (d *DB) OutboundCredential(ctx context.Context, relationship string) (orgrel.OutboundCredential, error) {
	return d.outboundCredential(ctx, d.db, relationship)
}

func (d *DB) outboundCredential(ctx context.Context, q querier, relationship string) (orgrel.OutboundCredential, error) {
	c := orgrel.OutboundCredential{Relationship: relationship}
	var updated string
	err := q.QueryRowContext(ctx, d.q(`SELECT account, secret, updated FROM outbound_credentials WHERE relationship = ?`), key(relationship)).
		Scan(&c.Account, &c.Secret, &updated)
	if errors.Is(err, sql.ErrNoRows) {
		return c, fmt.Errorf("%w: no outbound credentials for relationship %q", ErrNotFound, relationship)
	}
	if err != nil {
		return c, err
	}
	c.Updated, err = parseTS(updated)
	return c, err
}
