// Package trust is our federation trust and everything that keeps it
// sound: the trust itself (account namespace, ApplicationUri, federated
// domains, token issuer), the domain proofs that admit a domain to it and
// their periodic re-checks, the checks of partners' domain proofs, the
// token issuer's metadata and its refresh, and our federation
// certificates' slots and rollover (kept by package certs).
//
// Its rule, held here once for the command line and the admin API alike:
// no domain joins the trust until the proof of our current federation
// certificate is found in the domain's TXT records over DNS
// (Get-FederatedDomainProof, docs/protocol.md §5), unless the caller explicitly skips
// the check, which the audit log then records as a skip-proof action.
package trust
