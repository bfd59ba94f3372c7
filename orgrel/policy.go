package orgrel

import (
	"fmt"
	"strings"

	"github.com/calfed/calfed/internal/domainname"
	"github.com/calfed/calfed/internal/identity"
)

// Policy answers access questions from a fixed set of relationships and
// mailbox sharing choices. It is immutable; build a new one to change it.
type Policy struct {
	byDomain map[string]*Relationship
	byName   map[string]*Relationship
	sharing  map[string]Level // by mailbox address, canonical (internal/domainname)
}

// NewPolicy checks that names are unique and that each domain belongs to
// at most one relationship. sharing gives each mailbox's external sharing;
// a mailbox not in it shares AvailabilityOnly, Exchange's default.
func NewPolicy(rels []Relationship, sharing map[string]Level) (*Policy, error) {
	p := &Policy{byDomain: map[string]*Relationship{}, byName: map[string]*Relationship{}, sharing: map[string]Level{}}
	for i := range rels {
		r := rels[i]
		key := strings.ToLower(r.Name)
		if r.Name == "" {
			return nil, fmt.Errorf("orgrel: relationship %d has no name", i+1)
		}
		if _, dup := p.byName[key]; dup {
			return nil, fmt.Errorf("orgrel: relationship %q is defined twice", r.Name)
		}
		if len(r.Domains) == 0 {
			return nil, fmt.Errorf("orgrel: relationship %q has no domains", r.Name)
		}
		doms := make([]string, len(r.Domains))
		for j, d := range r.Domains {
			d, err := domainname.Canonical(strings.TrimSpace(d))
			if err != nil {
				return nil, fmt.Errorf("orgrel: relationship %q: %w", r.Name, err)
			}
			if other, dup := p.byDomain[d]; dup {
				return nil, fmt.Errorf("orgrel: domain %s belongs to both %q and %q", d, other.Name, r.Name)
			}
			doms[j] = d
			p.byDomain[d] = &r
		}
		r.Domains = doms
		p.byName[key] = &r
	}
	for addr, l := range sharing {
		a, err := domainname.Address(addr)
		if err != nil {
			return nil, fmt.Errorf("orgrel: mailbox sharing: %w", err)
		}
		p.sharing[a] = l
	}
	return p, nil
}

// Relationship returns the relationship covering domain, if any; a domain
// with no canonical form (internal/domainname) has none.
func (p *Policy) Relationship(domain string) (*Relationship, bool) {
	d, err := domainname.Canonical(domain)
	if err != nil {
		return nil, false
	}
	r, ok := p.byDomain[d]
	return r, ok
}

// RelationshipByName finds a relationship by name, case-insensitively.
func (p *Policy) RelationshipByName(name string) (*Relationship, bool) {
	r, ok := p.byName[strings.ToLower(name)]
	return r, ok
}

// Sharing returns a mailbox's external sharing level: its recorded or
// configured choice, else AvailabilityOnly, Exchange's default.
func (p *Policy) Sharing(mailbox string) Level {
	if a, err := domainname.Address(mailbox); err == nil {
		if l, ok := p.sharing[a]; ok {
			return l
		}
	}
	return AvailabilityOnly
}

// MailTips decides which MailTips caller gets for our recipients.
func (p *Policy) MailTips(caller identity.Caller) MailTipsLevel {
	return DecideMailTips(p.byDomain[caller.Domain])
}

// Access decides what caller may see of mailbox, a member of groups.
func (p *Policy) Access(caller identity.Caller, mailbox string, groups []string) Decision {
	rel := p.byDomain[caller.Domain]
	return Decide(rel, p.Sharing(mailbox), groups)
}
