package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"sort"
	"strings"

	"github.com/calfed/calfed/orgrel"
)

func normalizeTrust(t *orgrel.Trust) error {
	ns, err := canonicalDomain("account_namespace", t.AccountNamespace)
	if err != nil {
		return err
	}
	t.AccountNamespace = ns
	if t.ApplicationURI = strings.TrimSpace(t.ApplicationURI); t.ApplicationURI == "" {
		t.ApplicationURI = orgrel.DefaultApplicationURI(t.AccountNamespace)
	}
	if _, err := url.Parse(t.ApplicationURI); err != nil || strings.ContainsAny(t.ApplicationURI, " \t") {
		return fmt.Errorf("%w: application_uri: %q is not a URI", ErrInvalid, t.ApplicationURI)
	}
	seen := map[string]bool{}
	var doms []string
	for _, d := range append([]string{t.AccountNamespace}, t.Domains...) {
		d, err := canonicalDomain("domains", d)
		if err != nil {
			return err
		}
		if !seen[d] {
			seen[d] = true
			doms = append(doms, d)
		}
	}
	sort.Strings(doms)
	t.Domains = doms
	for name, v := range map[string]string{"token_issuer_uri": t.TokenIssuerURI, "token_issuer_endpoint": t.TokenIssuerEndpoint} {
		if strings.TrimSpace(v) == "" {
			return fmt.Errorf("%w: %s: required", ErrInvalid, name)
		}
	}
	if u, err := url.Parse(t.TokenIssuerEndpoint); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return fmt.Errorf("%w: token_issuer_endpoint: %q is not an http(s) URL", ErrInvalid, t.TokenIssuerEndpoint)
	}
	return nil
}

// Trust returns the federation trust; ErrNotFound before one is set.
func (d *DB) Trust(ctx context.Context) (orgrel.Trust, error) {
	return d.trust(ctx, d.db)
}

func (d *DB) trust(ctx context.Context, q querier) (orgrel.Trust, error) {
	var t orgrel.Trust
	var updated, refreshed string
	err := q.QueryRowContext(ctx, `SELECT account_namespace, application_uri, token_issuer_uri, token_issuer_endpoint, disclose_all_domains,
		token_issuer_certificates, metadata_url, metadata_refreshed, certificate_thumbprint, version, updated FROM federation_trust WHERE id = 1`).
		Scan(&t.AccountNamespace, &t.ApplicationURI, &t.TokenIssuerURI, &t.TokenIssuerEndpoint, &t.DiscloseAllDomains,
			&t.TokenIssuerCertificates, &t.MetadataURL, &refreshed, &t.CertificateThumbprint, &t.Version, &updated)
	if errors.Is(err, sql.ErrNoRows) {
		return t, fmt.Errorf("%w: no federation trust is set up (calfed trust set)", ErrNotFound)
	}
	if err != nil {
		return t, err
	}
	if t.Updated, err = parseTS(updated); err != nil {
		return t, err
	}
	if refreshed != "" {
		r, err := parseTS(refreshed)
		if err != nil {
			return t, err
		}
		t.MetadataRefreshed = &r
	}
	rows, err := q.QueryContext(ctx, `SELECT domain FROM federated_domains ORDER BY domain`)
	if err != nil {
		return t, err
	}
	defer rows.Close()
	for rows.Next() {
		var dom string
		if err := rows.Scan(&dom); err != nil {
			return t, err
		}
		t.Domains = append(t.Domains, dom)
	}
	return t, rows.Err()
}

// SetTrust creates (version 0) or replaces (the version read) the trust.
func (d *DB) SetTrust(ctx context.Context, actor string, t orgrel.Trust) (orgrel.Trust, error) {
	return d.SetTrustAction(ctx, actor, "trust.set", t)
}

// SetTrustAction is SetTrust recorded in the audit log as action (for
// example domain.add, or domain.add.skip-proof).
func (d *DB) SetTrustAction(ctx context.Context, actor, action string, t orgrel.Trust) (orgrel.Trust, error) {
	if err := normalizeTrust(&t); err != nil {
		return t, err
	}
	err := d.change(ctx, actor, action, "trust", func(tx *sql.Tx) (any, any, error) {
		before, err := d.trust(ctx, tx)
		exists := err == nil
		if err != nil && !errors.Is(err, ErrNotFound) {
			return nil, nil, err
		}
		cur := int64(0)
		if exists {
			cur = before.Version
		}
		if cur != t.Version {
			return nil, nil, fmt.Errorf("%w: the trust is at version %d, the change was made to version %d", ErrConflict, cur, t.Version)
		}
		now := ts(d.now())
		refreshedText := ""
		if t.MetadataRefreshed != nil {
			refreshedText = ts(*t.MetadataRefreshed)
		}
		if exists {
			_, err = tx.ExecContext(ctx, d.q(`UPDATE federation_trust SET account_namespace = ?, application_uri = ?, token_issuer_uri = ?,
				token_issuer_endpoint = ?, disclose_all_domains = ?, token_issuer_certificates = ?, metadata_url = ?,
				metadata_refreshed = ?, certificate_thumbprint = ?, version = version + 1, updated = ? WHERE id = 1`),
				t.AccountNamespace, t.ApplicationURI, t.TokenIssuerURI, t.TokenIssuerEndpoint, t.DiscloseAllDomains,
				t.TokenIssuerCertificates, t.MetadataURL, refreshedText, t.CertificateThumbprint, now)
		} else {
			_, err = tx.ExecContext(ctx, d.q(`INSERT INTO federation_trust (id, account_namespace, application_uri, token_issuer_uri,
				token_issuer_endpoint, disclose_all_domains, token_issuer_certificates, metadata_url, metadata_refreshed,
				certificate_thumbprint, version, updated) VALUES (1, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1, ?)`),
				t.AccountNamespace, t.ApplicationURI, t.TokenIssuerURI, t.TokenIssuerEndpoint, t.DiscloseAllDomains,
				t.TokenIssuerCertificates, t.MetadataURL, refreshedText, t.CertificateThumbprint, now)
		}
		if err != nil {
			return nil, nil, err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM federated_domains`); err != nil {
			return nil, nil, err
		}
		for _, dom := range t.Domains {
			if _, err := tx.ExecContext(ctx, d.q(`INSERT INTO federated_domains (domain) VALUES (?)`), dom); err != nil {
				return nil, nil, err
			}
		}
		after, err := d.trust(ctx, tx)
		if !exists {
			return nil, after, err
		}
		return before, after, err
	})
	if err != nil {
		return orgrel.Trust{}, err
	}
	return d.Trust(ctx)
}

// RecordDomainCheck stores a check's outcome. Checks are observations, not
// changes: they are not audited and do not wake the servers.
func (d *DB) RecordDomainCheck(ctx context.Context, c orgrel.DomainCheck) error {
	dom, err := canonicalDomain("domain", c.Domain)
	if err != nil {
		return err
	}
	_, err = d.db.ExecContext(ctx, d.q(`INSERT INTO domain_checks (domain, kind, relationship, status, detail, checked) VALUES (?, ?, ?, ?, ?, ?)
		ON CONFLICT (kind, domain) DO UPDATE SET relationship = excluded.relationship, status = excluded.status, detail = excluded.detail, checked = excluded.checked`),
		dom, c.Kind, c.Relationship, c.Status, c.Detail, ts(c.Checked))
	return err
}

// DomainChecks lists the recorded checks.
func (d *DB) DomainChecks(ctx context.Context) ([]orgrel.DomainCheck, error) {
	rows, err := d.db.QueryContext(ctx, `SELECT domain, kind, relationship, status, detail, checked FROM domain_checks ORDER BY kind, domain`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []orgrel.DomainCheck
	for rows.Next() {
		var c orgrel.DomainCheck
		var checked string
		if err := rows.Scan(&c.Domain, &c.Kind, &c.Relationship, &c.Status, &c.Detail, &checked); err != nil {
			return nil, err
		}
		if c.Checked, err = parseTS(checked); err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, rows.Err()
}
