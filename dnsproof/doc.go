// Package dnsproof makes and checks the domain proofs of Exchange
// federation (Get-FederatedDomainProof, docs/protocol.md §5): the owner of a domain
// publishes, as a DNS TXT record on it, a value only the holder of the
// federation certificate's key can compute.
package dnsproof
