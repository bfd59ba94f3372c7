// Package mailtips answers MailTips questions ([MS-OXWSMTIP]) independently
// of any wire protocol: for each recipient a partner's sender is writing
// to, it decides which MailTips the sender's organisation may see (the
// organisation relationship's MailTipsAccessEnabled and MailTipsAccessLevel)
// and works them out from the mailbox directory: whether the address is a
// recipient of ours at all, and the recipient's automatic reply, configured
// or derived from an out-of-office event in their calendar.
//
// Every front (EWS GetMailTips) renders these results; none of them
// applies the access rules itself. The rules are docs/protocol.md §8.
package mailtips
