package store

// Schema migrations, in order; a database records how many it has applied.
// Never edit a released migration: append a new one.

var sqliteDialect = dialect{
	name: "sqlite",
	migrations: []string{`
CREATE TABLE relationships (
	key TEXT PRIMARY KEY,
	name TEXT NOT NULL,
	enabled INTEGER NOT NULL,
	free_busy_access_enabled INTEGER NOT NULL,
	free_busy_access_level TEXT NOT NULL,
	free_busy_access_scope TEXT NOT NULL,
	target_application_uri TEXT NOT NULL,
	target_autodiscover_epr TEXT NOT NULL,
	target_sharing_epr TEXT NOT NULL,
	organization_contact TEXT NOT NULL,
	onboarding TEXT NOT NULL,
	version INTEGER NOT NULL,
	created TEXT NOT NULL,
	updated TEXT NOT NULL
);
CREATE TABLE relationship_domains (
	domain TEXT PRIMARY KEY,
	relationship TEXT NOT NULL REFERENCES relationships(key) ON DELETE CASCADE
);
CREATE TABLE mailbox_sharing (
	address TEXT PRIMARY KEY,
	level TEXT NOT NULL,
	changed_by TEXT NOT NULL,
	changed_at TEXT NOT NULL,
	version INTEGER NOT NULL
);
CREATE TABLE service_accounts (
	key TEXT PRIMARY KEY,
	name TEXT NOT NULL,
	relationship TEXT NOT NULL REFERENCES relationships(key),
	secret_hash TEXT NOT NULL,
	created TEXT NOT NULL,
	rotated TEXT,
	revoked TEXT,
	version INTEGER NOT NULL
);
CREATE TABLE audit (
	id INTEGER PRIMARY KEY AUTOINCREMENT,
	at TEXT NOT NULL,
	actor TEXT NOT NULL,
	action TEXT NOT NULL,
	object TEXT NOT NULL,
	before TEXT,
	after TEXT
);
CREATE INDEX audit_at ON audit(at);
CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
CREATE TABLE changes (counter INTEGER NOT NULL);
INSERT INTO changes (counter) VALUES (0);
`,
		// 2: the federation trust (docs/protocol.md §2.2, §5): one row, and our
		// federated domains.
		`
CREATE TABLE federation_trust (
	id INTEGER PRIMARY KEY CHECK (id = 1),
	account_namespace TEXT NOT NULL,
	application_uri TEXT NOT NULL,
	token_issuer_uri TEXT NOT NULL,
	token_issuer_endpoint TEXT NOT NULL,
	disclose_all_domains BOOLEAN NOT NULL,
	version BIGINT NOT NULL,
	updated TEXT NOT NULL
);
CREATE TABLE federated_domains (domain TEXT PRIMARY KEY);
`,
		// 3: the token issuer's signing certificates and metadata source,
		// and the thumbprint of our current federation certificate.
		`
ALTER TABLE federation_trust ADD COLUMN token_issuer_certificates TEXT NOT NULL DEFAULT '';
ALTER TABLE federation_trust ADD COLUMN metadata_url TEXT NOT NULL DEFAULT '';
ALTER TABLE federation_trust ADD COLUMN metadata_refreshed TEXT NOT NULL DEFAULT '';
ALTER TABLE federation_trust ADD COLUMN certificate_thumbprint TEXT NOT NULL DEFAULT '';
`,
		// 4: the last check of each domain's proof, ours and partners'.
		`
CREATE TABLE domain_checks (
	domain TEXT NOT NULL,
	kind TEXT NOT NULL,
	relationship TEXT NOT NULL,
	status TEXT NOT NULL,
	detail TEXT NOT NULL,
	checked TEXT NOT NULL,
	PRIMARY KEY (kind, domain)
);
`,
		// 5: MailTips access over each relationship (docs/protocol.md §8.1); existing
		// relationships keep Exchange's default, none.
		`
ALTER TABLE relationships ADD COLUMN mail_tips_access_enabled INTEGER NOT NULL DEFAULT 0;
ALTER TABLE relationships ADD COLUMN mail_tips_access_level TEXT NOT NULL DEFAULT 'None';
`,
		// 6: our application's registration with the federation gateway
		// (docs/protocol.md §4.5, §4.7): one row, kept as JSON.
		`
CREATE TABLE gateway_registration (
	id INTEGER PRIMARY KEY CHECK (id = 1),
	data TEXT NOT NULL,
	version BIGINT NOT NULL,
	updated TEXT NOT NULL
);
`,
		// 7: the running servers and the change each has applied; not a
		// change itself (no audit entry, the counter does not move).
		`
CREATE TABLE live_servers (
	id TEXT PRIMARY KEY,
	started TEXT NOT NULL,
	applied INTEGER NOT NULL,
	applied_at TEXT NOT NULL,
	heartbeat TEXT NOT NULL,
	expires TEXT NOT NULL,
	error TEXT NOT NULL,
	failing_since TEXT
);
`,
		// 8: the delegation tokens used, under federation.refuse_token_reuse
		// (used_tokens.go): each assertion's replay key until its token
		// stops being usable.
		usedTokensTable,
		// 9: our users' tokens and the partners' credentials for us.
		userTables,
		// 10: a service account's previous secret, accepted until the
		// overlap after a rotation ends.
		previousSecretColumns,
		// 11: the information-governance access log (access.go): one row
		// per partner request, and the mailboxes each asked about.
		accessLogTable("INTEGER PRIMARY KEY AUTOINCREMENT")},
}

var postgresDialect = dialect{
	name:   "postgres",
	rebind: true,
	notify: `NOTIFY calfed_changes`,
	migrations: []string{`
CREATE TABLE relationships (
	key TEXT PRIMARY KEY,
	name TEXT NOT NULL,
	enabled BOOLEAN NOT NULL,
	free_busy_access_enabled BOOLEAN NOT NULL,
	free_busy_access_level TEXT NOT NULL,
	free_busy_access_scope TEXT NOT NULL,
	target_application_uri TEXT NOT NULL,
	target_autodiscover_epr TEXT NOT NULL,
	target_sharing_epr TEXT NOT NULL,
	organization_contact TEXT NOT NULL,
	onboarding TEXT NOT NULL,
	version BIGINT NOT NULL,
	created TEXT NOT NULL,
	updated TEXT NOT NULL
);
CREATE TABLE relationship_domains (
	domain TEXT PRIMARY KEY,
	relationship TEXT NOT NULL REFERENCES relationships(key) ON DELETE CASCADE
);
CREATE TABLE mailbox_sharing (
	address TEXT PRIMARY KEY,
	level TEXT NOT NULL,
	changed_by TEXT NOT NULL,
	changed_at TEXT NOT NULL,
	version BIGINT NOT NULL
);
CREATE TABLE service_accounts (
	key TEXT PRIMARY KEY,
	name TEXT NOT NULL,
	relationship TEXT NOT NULL REFERENCES relationships(key),
	secret_hash TEXT NOT NULL,
	created TEXT NOT NULL,
	rotated TEXT,
	revoked TEXT,
	version BIGINT NOT NULL
);
CREATE TABLE audit (
	id BIGSERIAL PRIMARY KEY,
	at TEXT NOT NULL,
	actor TEXT NOT NULL,
	action TEXT NOT NULL,
	object TEXT NOT NULL,
	before TEXT,
	after TEXT
);
CREATE INDEX audit_at ON audit(at);
CREATE FUNCTION calfed_audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN RAISE EXCEPTION 'the audit log is append-only'; END $$;
CREATE TRIGGER audit_append_only BEFORE UPDATE OR DELETE ON audit FOR EACH ROW EXECUTE FUNCTION calfed_audit_append_only();
CREATE TABLE changes (counter BIGINT NOT NULL);
INSERT INTO changes (counter) VALUES (0);
`,
		// 2: the federation trust (docs/protocol.md §2.2, §5): one row, and our
		// federated domains.
		`
CREATE TABLE federation_trust (
	id INTEGER PRIMARY KEY CHECK (id = 1),
	account_namespace TEXT NOT NULL,
	application_uri TEXT NOT NULL,
	token_issuer_uri TEXT NOT NULL,
	token_issuer_endpoint TEXT NOT NULL,
	disclose_all_domains BOOLEAN NOT NULL,
	version BIGINT NOT NULL,
	updated TEXT NOT NULL
);
CREATE TABLE federated_domains (domain TEXT PRIMARY KEY);
`,
		// 3: the token issuer's signing certificates and metadata source,
		// and the thumbprint of our current federation certificate.
		`
ALTER TABLE federation_trust ADD COLUMN token_issuer_certificates TEXT NOT NULL DEFAULT '';
ALTER TABLE federation_trust ADD COLUMN metadata_url TEXT NOT NULL DEFAULT '';
ALTER TABLE federation_trust ADD COLUMN metadata_refreshed TEXT NOT NULL DEFAULT '';
ALTER TABLE federation_trust ADD COLUMN certificate_thumbprint TEXT NOT NULL DEFAULT '';
`,
		// 4: the last check of each domain's proof, ours and partners'.
		`
CREATE TABLE domain_checks (
	domain TEXT NOT NULL,
	kind TEXT NOT NULL,
	relationship TEXT NOT NULL,
	status TEXT NOT NULL,
	detail TEXT NOT NULL,
	checked TEXT NOT NULL,
	PRIMARY KEY (kind, domain)
);
`,
		// 5: MailTips access over each relationship (docs/protocol.md §8.1); existing
		// relationships keep Exchange's default, none.
		`
ALTER TABLE relationships ADD COLUMN mail_tips_access_enabled BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE relationships ADD COLUMN mail_tips_access_level TEXT NOT NULL DEFAULT 'None';
`,
		// 6: our application's registration with the federation gateway
		// (docs/protocol.md §4.5, §4.7): one row, kept as JSON.
		`
CREATE TABLE gateway_registration (
	id INTEGER PRIMARY KEY CHECK (id = 1),
	data TEXT NOT NULL,
	version BIGINT NOT NULL,
	updated TEXT NOT NULL
);
`,
		// 7: the running servers and the change each has applied; not a
		// change itself (no audit entry, the counter does not move).
		`
CREATE TABLE live_servers (
	id TEXT PRIMARY KEY,
	started TEXT NOT NULL,
	applied BIGINT NOT NULL,
	applied_at TEXT NOT NULL,
	heartbeat TEXT NOT NULL,
	expires TEXT NOT NULL,
	error TEXT NOT NULL,
	failing_since TEXT
);
`,
		// 8: as SQLite's.
		usedTokensTable,
		// 9: as SQLite's.
		userTables,
		// 10: as SQLite's.
		previousSecretColumns,
		// 11: as SQLite's, with a serial id.
		accessLogTable("BIGSERIAL PRIMARY KEY")},
}

// usedTokensTable is migration 8 in both backends: an assertion's replay
// key (federation.ReplayKey) and when its token stops being usable
// (tsLayout).
const usedTokensTable = `
CREATE TABLE used_tokens (
	key TEXT PRIMARY KEY,
	usable_until TEXT NOT NULL
);
CREATE INDEX used_tokens_usable_until ON used_tokens(usable_until);
`

// userTables is migration 9 in both backends: our users' app passwords
// and tokens for the free/busy fronts (their SHA-256 hashes only), and
// the credentials partners gave us for asking them cross-forest.
const userTables = `
CREATE TABLE user_tokens (
	id TEXT PRIMARY KEY,
	address TEXT NOT NULL,
	label TEXT NOT NULL,
	hash TEXT NOT NULL UNIQUE,
	created TEXT NOT NULL,
	expires TEXT,
	revoked TEXT
);
CREATE INDEX user_tokens_address ON user_tokens(address);
CREATE TABLE outbound_credentials (
	relationship TEXT PRIMARY KEY REFERENCES relationships(key) ON DELETE CASCADE,
	account TEXT NOT NULL,
	secret TEXT NOT NULL,
	updated TEXT NOT NULL
);
`

// previousSecretColumns is migration 10 in both backends: the secret a
// rotation replaced and until when it is still accepted (tsLayout; NULL
// when it is not).
const previousSecretColumns = `
ALTER TABLE service_accounts ADD COLUMN previous_secret_hash TEXT NOT NULL DEFAULT '';
ALTER TABLE service_accounts ADD COLUMN previous_valid_until TEXT;
`

// accessLogTable is migration 11 in both backends, with the backend's
// auto-increment id. partner is the relationship's name, or the caller's
// domain when no relationship covered it; mailboxes holds each mailbox's
// granted view and outcome as JSON, and access_log_mailboxes indexes the
// addresses for calfed audit access -mailbox.
func accessLogTable(id string) string {
	return `
CREATE TABLE access_log (
	id ` + id + `,
	at TEXT NOT NULL,
	server TEXT NOT NULL,
	partner TEXT NOT NULL,
	relationship TEXT NOT NULL,
	domain TEXT NOT NULL,
	account TEXT NOT NULL,
	user_address TEXT NOT NULL,
	requestor_domain TEXT NOT NULL,
	operation TEXT NOT NULL,
	remote TEXT NOT NULL,
	outcome TEXT NOT NULL,
	status INTEGER NOT NULL,
	duration_ns BIGINT NOT NULL,
	reason TEXT NOT NULL,
	mailboxes TEXT NOT NULL
);
CREATE INDEX access_log_at ON access_log(at);
CREATE INDEX access_log_partner ON access_log(partner, at);
CREATE TABLE access_log_mailboxes (
	entry BIGINT NOT NULL REFERENCES access_log(id) ON DELETE CASCADE,
	mailbox TEXT NOT NULL,
	PRIMARY KEY (mailbox, entry)
);
CREATE INDEX access_log_mailboxes_entry ON access_log_mailboxes(entry);
`
}
