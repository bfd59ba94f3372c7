// Package store keeps calfed's federation records — organisation
// relationships, mailbox sharing choices, service accounts, the federation
// trust, domain-proof checks — and the audit log of every change to them,
// in SQLite (the embedded default, a file in the data directory) or
// PostgreSQL (for several instances sharing one database). The records are
// orgrel's types; store maps them to rows and back, and checks what it is
// asked to write.
//
// Every change runs in one transaction that also appends its audit entry
// and advances a change counter; running servers watch the counter (and,
// on PostgreSQL, LISTEN for a notification) and reload. Updates carry the
// version they were read at, so two administrators cannot overwrite each
// other's changes unknowingly.
//
// Beside the records, the store keeps the delegation tokens used when
// servers refuse a token's reuse (used_tokens.go), so that a restart or
// another server on the same database refuses the token's second use;
// those rows are neither audited nor changes.
package store
