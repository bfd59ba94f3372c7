// Package orgrel holds organisation relationships, mailbox sharing and
// service accounts, and makes the access decision of NOTES §1.5: what a
// partner organisation may see of one of our mailboxes.
//
// The objects mirror Exchange's New-OrganizationRelationship (NOTES §5) so
// that an Exchange administrator recognises them.
package orgrel
