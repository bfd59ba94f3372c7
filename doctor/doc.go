// Package doctor checks a federation step by step, as Exchange's
// Test-OrganizationRelationship and Microsoft's connectivity analyser do:
// Relationship tests one of our organisation relationships from our side
// to the partner and back (discovery, TLS, the partner's WS-Security
// endpoints, tokens, a real free/busy query, the partner's relationship
// with us), and Domain checks a domain's readiness for calendar
// federation, ours before going live or a partner's before onboarding.
//
// Each step is a Result: pass, fail with the exact error and what fixes
// it, or skip when a step it needs failed. The checks reuse what calfed
// already has — the Autodiscover clients, the partner client, the trust's
// domain proofs and tokens — and compute nothing of their own that those
// compute. The command line (calfed orgrel test, calfed doctor) and the
// console show the same Reports.
package doctor
