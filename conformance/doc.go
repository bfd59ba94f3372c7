// Package conformance replays captured EWS and Autodiscover exchanges
// against a server and reports, case by case, where its answers differ
// in meaning from the captured ones. A corpus is a directory of cases
// (FORMAT.md describes them); the comparison is XML-semantic, free/busy
// semantic or status-only; the recorder turns live traffic into cases
// with its secrets redacted.
package conformance
