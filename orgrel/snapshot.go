package orgrel

import (
	"fmt"
	"time"

	"github.com/calfed/calfed/internal/domainname"
)

// Snapshot is everything a server needs to decide access, read at one
// change counter value.
type Snapshot struct {
	Counter int64
	// ChangedAt is when the change at Counter was made (its audit
	// entry's time, by the clock of the process that made it); zero
	// before the first change.
	ChangedAt     time.Time
	Trust         *Trust // nil until one is set
	Relationships []Relationship
	Sharing       []MailboxSharing
	Accounts      []ServiceAccount
}

// Policy turns the snapshot into the access policy: relationships, and
// each mailbox's sharing, recorded choices first, then defaults (the
// directory's configuration), then Exchange's AvailabilityOnly.
func (s *Snapshot) Policy(defaults map[string]Level) (*Policy, error) {
	sharing := make(map[string]Level, len(defaults)+len(s.Sharing))
	// Both in canonical form, so that a recorded choice replaces the
	// default however either was written.
	for a, l := range defaults {
		c, err := domainname.Address(a)
		if err != nil {
			return nil, fmt.Errorf("orgrel: mailbox sharing default: %w", err)
		}
		sharing[c] = l
	}
	for _, m := range s.Sharing {
		c, err := domainname.Address(m.Address)
		if err != nil {
			return nil, fmt.Errorf("orgrel: recorded mailbox sharing: %w", err)
		}
		sharing[c] = m.Level
	}
	return NewPolicy(s.Relationships, sharing)
}

// ServiceAccounts returns the accounts that may sign in: all but the
// revoked. They check secrets with v (nil: a fresh Verifier).
func (s *Snapshot) ServiceAccounts(p *Policy, v *Verifier) (*Accounts, error) {
	var accts []ServiceAccount
	for _, a := range s.Accounts {
		if a.Revoked == nil {
			accts = append(accts, a)
		}
	}
	return NewAccounts(accts, p, v)
}
