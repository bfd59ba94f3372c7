package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/calfed/calfed/internal/domainname"
	"github.com/calfed/calfed/orgrel"
)

func key(name string) string { return strings.ToLower(strings.TrimSpace(name)) }

// normalizeRelationship checks r and puts its domains in canonical form.
func normalizeRelationship(r *orgrel.Relationship) error {
	r.Name = strings.TrimSpace(r.Name)
	if r.Name == "" {
		return fmt.Errorf("%w: name: required", ErrInvalid)
	}
	if len(r.Domains) == 0 {
		return fmt.Errorf("%w: domain_names: at least one domain is required", ErrInvalid)
	}
	seen := map[string]bool{}
	var doms []string
	for _, d := range r.Domains {
		d, err := canonicalDomain("domain_names", d)
		if err != nil {
			return err
		}
		if !seen[d] {
			seen[d] = true
			doms = append(doms, d)
		}
	}
	sort.Strings(doms)
	r.Domains = doms
	if r.FreeBusyAccessLevel < orgrel.None || r.FreeBusyAccessLevel > orgrel.LimitedDetails {
		return fmt.Errorf("%w: free_busy_access_level: %v", ErrInvalid, r.FreeBusyAccessLevel)
	}
	if r.MailTipsAccessLevel < orgrel.MailTipsNone || r.MailTipsAccessLevel > orgrel.MailTipsAll {
		return fmt.Errorf("%w: mail_tips_access_level: %v", ErrInvalid, r.MailTipsAccessLevel)
	}
	return nil
}

// canonicalDomain is d as the store keeps it, the canonical form of
// internal/domainname, or an error naming field: a federated or partner
// domain is a registered name, so it has at least two labels.
func canonicalDomain(field, d string) (string, error) {
	c, err := domainname.Canonical(strings.TrimSpace(d))
	if err != nil {
		return "", fmt.Errorf("%w: %s: %v; write a host name such as contoso.example (an internationalised name as it is, or as its xn-- form)", ErrInvalid, field, err)
	}
	if !strings.Contains(c, ".") {
		return "", fmt.Errorf("%w: %s: %q is a single label; write the whole domain, such as contoso.example", ErrInvalid, field, d)
	}
	return c, nil
}

const relColumns = `key, name, enabled, free_busy_access_enabled, free_busy_access_level, free_busy_access_scope,
	target_application_uri, target_autodiscover_epr, target_sharing_epr, organization_contact, onboarding, version, created, updated,
	mail_tips_access_enabled, mail_tips_access_level`

type scanner interface{ Scan(...any) error }

func scanRelationship(s scanner) (orgrel.Relationship, error) {
	var r orgrel.Relationship
	var k, level, onboarding, created, updated, mailTips string
	if err := s.Scan(&k, &r.Name, &r.Enabled, &r.FreeBusyAccessEnabled, &level, &r.FreeBusyAccessScope,
		&r.TargetApplicationURI, &r.TargetAutodiscoverEPR, &r.TargetSharingEPR, &r.OrganizationContact, &onboarding,
		&r.Version, &created, &updated, &r.MailTipsAccessEnabled, &mailTips); err != nil {
		return r, err
	}
	var err error
	if r.FreeBusyAccessLevel, err = orgrel.ParseLevel(level); err != nil {
		return r, err
	}
	if r.MailTipsAccessLevel, err = orgrel.ParseMailTipsLevel(mailTips); err != nil {
		return r, err
	}
	if err := json.Unmarshal([]byte(onboarding), &r.Onboarding); err != nil {
		return r, err
	}
	if r.Created, err = parseTS(created); err != nil {
		return r, err
	}
	r.Updated, err = parseTS(updated)
	return r, err
}

type querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

func (d *DB) relationships(ctx context.Context, q querier, where string, args ...any) ([]orgrel.Relationship, error) {
	rows, err := q.QueryContext(ctx, d.q(`SELECT `+relColumns+` FROM relationships `+where+` ORDER BY key`), args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []orgrel.Relationship
	byKey := map[string]int{}
	for rows.Next() {
		r, err := scanRelationship(rows)
		if err != nil {
			return nil, err
		}
		byKey[key(r.Name)] = len(out)
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	drows, err := q.QueryContext(ctx, `SELECT relationship, domain FROM relationship_domains ORDER BY domain`)
	if err != nil {
		return nil, err
	}
	defer drows.Close()
	for drows.Next() {
		var k, dom string
		if err := drows.Scan(&k, &dom); err != nil {
			return nil, err
		}
		if i, ok := byKey[k]; ok {
			out[i].Domains = append(out[i].Domains, dom)
		}
	}
	return out, drows.Err()
}

// Relationships lists every relationship, by name.
func (d *DB) Relationships(ctx context.Context) ([]orgrel.Relationship, error) {
	return d.relationships(ctx, d.db, "")
}

// Relationship finds one by name, case-insensitively.
func (d *DB) Relationship(ctx context.Context, name string) (orgrel.Relationship, error) {
	return d.relationship(ctx, d.db, name)
}

func (d *DB) relationship(ctx context.Context, q querier, name string) (orgrel.Relationship, error) {
	rs, err := d.relationships(ctx, q, "WHERE key = ?", key(name))
	if err != nil {
		return orgrel.Relationship{}, err
	}
	if len(rs) == 0 {
		return orgrel.Relationship{}, fmt.Errorf("%w: relationship %q", ErrNotFound, name)
	}
	return rs[0], nil
}

// CreateRelationship adds r. Its domains must belong to no other
// relationship.
func (d *DB) CreateRelationship(ctx context.Context, actor string, r orgrel.Relationship) (orgrel.Relationship, error) {
	if err := normalizeRelationship(&r); err != nil {
		return r, err
	}
	err := d.change(ctx, actor, "orgrel.new", "orgrel/"+r.Name, func(tx *sql.Tx) (any, any, error) {
		if _, err := d.relationship(ctx, tx, r.Name); err == nil {
			return nil, nil, fmt.Errorf("%w: relationship %q", ErrExists, r.Name)
		} else if !errors.Is(err, ErrNotFound) {
			return nil, nil, err
		}
		now := d.now()
		r.Version, r.Created, r.Updated = 1, now.UTC().Truncate(0), now.UTC()
		ob, _ := json.Marshal(r.Onboarding)
		if _, err := tx.ExecContext(ctx, d.q(`INSERT INTO relationships (`+relColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`),
			key(r.Name), r.Name, r.Enabled, r.FreeBusyAccessEnabled, r.FreeBusyAccessLevel.String(), r.FreeBusyAccessScope,
			r.TargetApplicationURI, r.TargetAutodiscoverEPR, r.TargetSharingEPR, r.OrganizationContact, string(ob),
			r.Version, ts(now), ts(now), r.MailTipsAccessEnabled, r.MailTipsAccessLevel.String()); err != nil {
			return nil, nil, err
		}
		if err := d.putDomains(ctx, tx, r); err != nil {
			return nil, nil, err
		}
		return nil, r, nil
	})
	if err != nil {
		return orgrel.Relationship{}, err
	}
	return d.Relationship(ctx, r.Name)
}

func (d *DB) putDomains(ctx context.Context, tx *sql.Tx, r orgrel.Relationship) error {
	for _, dom := range r.Domains {
		var other string
		err := tx.QueryRowContext(ctx, d.q(`SELECT r.name FROM relationship_domains rd JOIN relationships r ON r.key = rd.relationship WHERE rd.domain = ? AND rd.relationship <> ?`),
			dom, key(r.Name)).Scan(&other)
		if err == nil {
			return fmt.Errorf("%w: %s belongs to %q", ErrDomainTaken, dom, other)
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return err
		}
	}
	if _, err := tx.ExecContext(ctx, d.q(`DELETE FROM relationship_domains WHERE relationship = ?`), key(r.Name)); err != nil {
		return err
	}
	for _, dom := range r.Domains {
		if _, err := tx.ExecContext(ctx, d.q(`INSERT INTO relationship_domains (domain, relationship) VALUES (?, ?)`), dom, key(r.Name)); err != nil {
			return err
		}
	}
	return nil
}

// UpdateRelationship replaces the relationship named r.Name, which must
// still be at r.Version; the name itself cannot change.
func (d *DB) UpdateRelationship(ctx context.Context, actor, action string, r orgrel.Relationship) (orgrel.Relationship, error) {
	if err := normalizeRelationship(&r); err != nil {
		return r, err
	}
	err := d.change(ctx, actor, action, "orgrel/"+r.Name, func(tx *sql.Tx) (any, any, error) {
		before, err := d.relationship(ctx, tx, r.Name)
		if err != nil {
			return nil, nil, err
		}
		if before.Version != r.Version {
			return nil, nil, fmt.Errorf("%w: relationship %q is at version %d, the change was made to version %d", ErrConflict, r.Name, before.Version, r.Version)
		}
		now := d.now()
		ob, _ := json.Marshal(r.Onboarding)
		res, err := tx.ExecContext(ctx, d.q(`UPDATE relationships SET enabled = ?, free_busy_access_enabled = ?, free_busy_access_level = ?,
			free_busy_access_scope = ?, target_application_uri = ?, target_autodiscover_epr = ?, target_sharing_epr = ?,
			organization_contact = ?, onboarding = ?, mail_tips_access_enabled = ?, mail_tips_access_level = ?,
			version = version + 1, updated = ? WHERE key = ? AND version = ?`),
			r.Enabled, r.FreeBusyAccessEnabled, r.FreeBusyAccessLevel.String(), r.FreeBusyAccessScope, r.TargetApplicationURI,
			r.TargetAutodiscoverEPR, r.TargetSharingEPR, r.OrganizationContact, string(ob),
			r.MailTipsAccessEnabled, r.MailTipsAccessLevel.String(), ts(now), key(r.Name), r.Version)
		if err != nil {
			return nil, nil, err
		}
		if n, _ := res.RowsAffected(); n != 1 {
			return nil, nil, fmt.Errorf("%w: relationship %q", ErrConflict, r.Name)
		}
		if err := d.putDomains(ctx, tx, r); err != nil {
			return nil, nil, err
		}
		after, err := d.relationship(ctx, tx, r.Name)
		return before, after, err
	})
	if err != nil {
		return orgrel.Relationship{}, err
	}
	return d.Relationship(ctx, r.Name)
}

// DeleteRelationship removes a relationship at version, and revokes the
// service accounts acting for it.
func (d *DB) DeleteRelationship(ctx context.Context, actor, name string, version int64) error {
	return d.change(ctx, actor, "orgrel.remove", "orgrel/"+name, func(tx *sql.Tx) (any, any, error) {
		before, err := d.relationship(ctx, tx, name)
		if err != nil {
			return nil, nil, err
		}
		if before.Version != version {
			return nil, nil, fmt.Errorf("%w: relationship %q is at version %d, not %d", ErrConflict, name, before.Version, version)
		}
		if _, err := tx.ExecContext(ctx, d.q(`DELETE FROM service_accounts WHERE relationship = ?`), key(name)); err != nil {
			return nil, nil, err
		}
		if _, err := tx.ExecContext(ctx, d.q(`DELETE FROM relationship_domains WHERE relationship = ?`), key(name)); err != nil {
			return nil, nil, err
		}
		if _, err := tx.ExecContext(ctx, d.q(`DELETE FROM relationships WHERE key = ?`), key(name)); err != nil {
			return nil, nil, err
		}
		return before, nil, nil
	})
}
