package partner

import (
	"errors"
	"fmt"
	"strings"

	"github.com/calfed/calfed/orgrel"
)

// ErrNoPartner is returned when no enabled relationship names the
// domain, or the one that does has no TargetApplicationUri to ask for a
// token for.
var ErrNoPartner = errors.New("partner: no enabled organisation relationship with a TargetApplicationUri")

// For returns the partner organisation our relationships name for
// address's domain, with the endpoints the relationship records.
func For(rels []orgrel.Relationship, address string) (Partner, error) {
	domain := strings.ToLower(address[strings.LastIndexByte(address, '@')+1:])
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
