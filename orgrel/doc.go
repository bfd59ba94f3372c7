// Package orgrel holds the federation's records — organisation
// relationships with their onboarding record, mailbox sharing, service
// accounts, the federation trust, audit entries and domain-proof checks —
// and makes the access decision of docs/protocol.md §1.5: what a partner organisation
// may see of one of our mailboxes.
//
// The objects mirror Exchange's New-OrganizationRelationship (docs/protocol.md §5) so
// that an Exchange administrator recognises them. Persistence is package
// store's; orgrel imports no storage and no protocol package.
package orgrel
