package store

import (
	"strings"
	"time"

	"github.com/calfed/calfed/orgrel"
)

// Policy turns the snapshot into the access policy: relationships, and
// each mailbox's sharing, recorded choices first, then defaults (the
// directory's configuration), then Exchange's AvailabilityOnly.
func (s *Snapshot) Policy(defaults map[string]orgrel.Level) (*orgrel.Policy, error) {
	rels := make([]orgrel.Relationship, len(s.Relationships))
	for i, r := range s.Relationships {
		rels[i] = orgrel.Relationship{Name: r.Name, Domains: r.DomainNames, Enabled: r.Enabled,
			FreeBusyAccessEnabled: r.FreeBusyAccessEnabled, FreeBusyAccessLevel: r.FreeBusyAccessLevel,
			FreeBusyAccessScope: r.FreeBusyAccessScope}
	}
	sharing := make(map[string]orgrel.Level, len(defaults)+len(s.Sharing))
	for a, l := range defaults {
		sharing[strings.ToLower(a)] = l
	}
	for _, m := range s.Sharing {
		sharing[m.Address] = m.Level
	}
	return orgrel.NewPolicy(rels, sharing)
}

// ServiceAccounts returns the accounts that may sign in: all but the
// revoked.
func (s *Snapshot) ServiceAccounts(p *orgrel.Policy, now func() time.Time) (*orgrel.Accounts, error) {
	var accts []orgrel.ServiceAccount
	for _, a := range s.Accounts {
		if a.Revoked != nil {
			continue
		}
		accts = append(accts, orgrel.ServiceAccount{Name: a.Name, Relationship: a.Relationship, SecretHash: a.SecretHash})
	}
	return orgrel.NewAccounts(accts, p, now)
}
