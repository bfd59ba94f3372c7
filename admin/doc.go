// Package admin is how federation engineers change calfed's federation
// objects: organisation relationships, mailbox sharing choices, service
// accounts, the federation trust (through package trust, whose rules hold
// here as on the command line), and reading the audit log. Service applies
// the rules to a store; Handler serves Service as a JSON API; Client
// speaks to that API and offers the same methods, so the command line
// works the same locally and against a remote server.
package admin
