package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/calfed/calfed/orgrel"
)

// Registration returns our registration with the federation gateway;
// ErrNotFound before there is one.
func (d *DB) Registration(ctx context.Context) (orgrel.Registration, error) {
	return d.registration(ctx, d.db)
}

func (d *DB) registration(ctx context.Context, q querier) (orgrel.Registration, error) {
	var r orgrel.Registration
	var data, updated string
	err := q.QueryRowContext(ctx, `SELECT data, version, updated FROM gateway_registration WHERE id = 1`).Scan(&data, &r.Version, &updated)
	if errors.Is(err, sql.ErrNoRows) {
		return r, fmt.Errorf("%w: not registered with a federation gateway (calfed trust register)", ErrNotFound)
	}
	if err != nil {
		return r, err
	}
	version := r.Version
	if err := json.Unmarshal([]byte(data), &r); err != nil {
		return r, fmt.Errorf("store: the gateway registration: %w", err)
	}
	r.Version = version
	r.Updated, err = parseTS(updated)
	return r, err
}

// SetRegistration creates (version 0) or replaces (the version read) the
// registration, recorded in the audit log as action.
func (d *DB) SetRegistration(ctx context.Context, actor, action string, r orgrel.Registration) (orgrel.Registration, error) {
	if r.Gateway == "" || r.AppID == "" {
		return r, fmt.Errorf("%w: a registration needs its gateway and AppId", ErrInvalid)
	}
	err := d.change(ctx, actor, action, "trust.registration", func(tx *sql.Tx) (any, any, error) {
		before, err := d.registration(ctx, tx)
		exists := err == nil
		if err != nil && !errors.Is(err, ErrNotFound) {
			return nil, nil, err
		}
		if cur := before.Version; cur != r.Version {
			return nil, nil, fmt.Errorf("%w: the registration is at version %d, the change was made to version %d", ErrConflict, cur, r.Version)
		}
		stored := r
		stored.Version, stored.Updated = 0, d.now()
		data, err := json.Marshal(stored)
		if err != nil {
			return nil, nil, err
		}
		if exists {
			_, err = tx.ExecContext(ctx, d.q(`UPDATE gateway_registration SET data = ?, version = version + 1, updated = ? WHERE id = 1`), string(data), ts(d.now()))
		} else {
			_, err = tx.ExecContext(ctx, d.q(`INSERT INTO gateway_registration (id, data, version, updated) VALUES (1, ?, 1, ?)`), string(data), ts(d.now()))
		}
		if err != nil {
			return nil, nil, err
		}
		after, err := d.registration(ctx, tx)
		if !exists {
			return nil, after, err
		}
		return before, after, err
	})
	if err != nil {
		return orgrel.Registration{}, err
	}
	return d.Registration(ctx)
}
