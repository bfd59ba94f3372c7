package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"github.com/calfed/calfed/internal/domainname"
	"github.com/calfed/calfed/orgrel"
)

func scanSharing(s scanner) (orgrel.MailboxSharing, error) {
	var m orgrel.MailboxSharing
	var level, at string
	if err := s.Scan(&m.Address, &level, &m.ChangedBy, &at, &m.Version); err != nil {
		return m, err
	}
	var err error
	if m.Level, err = orgrel.ParseLevel(level); err != nil {
		return m, err
	}
	m.ChangedAt, err = parseTS(at)
	return m, err
}

// Sharing lists every mailbox's recorded sharing choice.
func (d *DB) Sharing(ctx context.Context) ([]orgrel.MailboxSharing, error) {
	rows, err := d.db.QueryContext(ctx, `SELECT address, level, changed_by, changed_at, version FROM mailbox_sharing ORDER BY address`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []orgrel.MailboxSharing
	for rows.Next() {
		m, err := scanSharing(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, m)
	}
	return out, rows.Err()
}

// MailboxSharing returns one mailbox's recorded choice; ErrNotFound when
// it never made one.
func (d *DB) MailboxSharing(ctx context.Context, address string) (orgrel.MailboxSharing, error) {
	return d.mailboxSharing(ctx, d.db, address)
}

func (d *DB) mailboxSharing(ctx context.Context, q querier, address string) (orgrel.MailboxSharing, error) {
	a, err := domainname.Address(strings.TrimSpace(address))
	if err != nil {
		return orgrel.MailboxSharing{}, fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	m, err := scanSharing(q.QueryRowContext(ctx, d.q(`SELECT address, level, changed_by, changed_at, version FROM mailbox_sharing WHERE address = ?`), a))
	if errors.Is(err, sql.ErrNoRows) {
		return m, fmt.Errorf("%w: no sharing choice recorded for %s", ErrNotFound, address)
	}
	return m, err
}

// SetSharing records a mailbox's choice. version is the version read (0
// when none was recorded); a different current version is a conflict.
func (d *DB) SetSharing(ctx context.Context, actor, address string, level orgrel.Level, version int64) (orgrel.MailboxSharing, error) {
	address, err := domainname.Address(strings.TrimSpace(address))
	if err != nil {
		return orgrel.MailboxSharing{}, fmt.Errorf("%w: address: %v", ErrInvalid, err)
	}
	var out orgrel.MailboxSharing
	err = d.change(ctx, actor, "mailbox.share", "mailbox/"+address, func(tx *sql.Tx) (any, any, error) {
		before, err := d.mailboxSharing(ctx, tx, address)
		var prev any
		switch {
		case errors.Is(err, ErrNotFound):
			if version != 0 {
				return nil, nil, fmt.Errorf("%w: no choice is recorded for %s any more", ErrConflict, address)
			}
		case err != nil:
			return nil, nil, err
		default:
			if before.Version != version {
				return nil, nil, fmt.Errorf("%w: the sharing of %s is at version %d, not %d", ErrConflict, address, before.Version, version)
			}
			prev = before
		}
		now := d.now()
		out = orgrel.MailboxSharing{Address: address, Level: level, ChangedBy: actor, ChangedAt: now.UTC(), Version: version + 1}
		if prev == nil {
			_, err = tx.ExecContext(ctx, d.q(`INSERT INTO mailbox_sharing (address, level, changed_by, changed_at, version) VALUES (?, ?, ?, ?, ?)`),
				address, level.String(), actor, ts(now), out.Version)
		} else {
			_, err = tx.ExecContext(ctx, d.q(`UPDATE mailbox_sharing SET level = ?, changed_by = ?, changed_at = ?, version = ? WHERE address = ? AND version = ?`),
				level.String(), actor, ts(now), out.Version, address, version)
		}
		return prev, out, err
	})
	return out, err
}
