package partner

import (
	"errors"
	"fmt"
	"strings"

	"github.com/calfed/calfed/internal/domainname"
	"github.com/calfed/calfed/orgrel"
)

// ErrNoPartner is returned when no enabled relationship names the
// domain, or the one that does has no TargetApplicationUri to ask for a
// token for.
var ErrNoPartner = errors.New("partner: no enabled organisation relationship with a TargetApplicationUri")

// For returns the partner organisation our relationships name for
// address's domain, with the endpoints the relationship records.
func For(rels []orgrel.Relationship, address string) (Partner, error) {
	// Compared in canonical form (internal/domainname), as the store
	// keeps relationship domains.
	domain, err := domainname.DomainOf(strings.TrimSpace(address))
	if err != nil {
		return Partner{}, fmt.Errorf("%w: %v", ErrNoPartner, err)
	}
	for _, r := range rels {
		if !r.Enabled || r.TargetApplicationURI == "" {
			continue
		}
		for _, d := range r.Domains {
			if d == domain {
				return Partner{ApplicationURI: r.TargetApplicationURI, AutodiscoverEPR: r.TargetAutodiscoverEPR, SharingEPR: r.TargetSharingEPR}, nil
			}
		}
	}
	return Partner{}, fmt.Errorf("%w for %s (calfed orgrel set … -target-application-uri)", ErrNoPartner, domain)
}
