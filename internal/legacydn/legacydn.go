// Package legacydn makes and reads the Exchange legacy distinguished names
// calfed hands out for its mailboxes (POX Autodiscover's LegacyDN,
// GetUserSettings' UserDN), so that a client sending one back, as an EX
// address or an X500 proxy address, reaches the mailbox. docs/protocol.md §1.2, §3.
package legacydn

import (
	"crypto/sha1"
	"fmt"
	"strings"

	"github.com/calfed/calfed/calendar"
	"github.com/calfed/calfed/internal/domainname"
)

// prefix is the organisation and recipients container of every DN calfed
// makes, in Exchange's form.
const prefix = "/o=calfed/ou=Exchange Administrative Group (FYDIBOHF23SPDLT)/cn=Recipients/cn="

// Format returns the legacy DN of a mailbox address: stable, unique per
// address (a hash of its canonical form, internal/domainname), and ending
// in the address's local part, as Exchange's end in the alias. A string
// that is no address is hashed as it is.
func Format(address string) string {
	address = strings.TrimSpace(address)
	if a, err := domainname.Address(address); err == nil {
		address = a
	}
	at := strings.LastIndexByte(address, '@')
	sum := sha1.Sum([]byte(address))
	return fmt.Sprintf("%s%x-%s", prefix, sum[:8], address[:max(at, 0)])
}

// Directory is what Resolver needs of the mailbox directory
// (*calendar.Directory).
type Directory interface {
	Lookup(address string) (*calendar.Mailbox, bool)
	Domains() []string
}

// Resolver returns a function mapping our legacy DNs (bare or as X500:
// addresses) to the addresses of d's mailboxes.
func Resolver(d Directory) func(dn string) (string, bool) {
	return func(dn string) (string, bool) {
		return Resolve(dn, d.Domains(), func(a string) bool { _, ok := d.Lookup(a); return ok })
	}
}

// Resolve returns the mailbox address whose DN is dn, trying the DN's local
// part in each domain of the directory; exists reports whether an address
// is one of its mailboxes. DNs are compared without regard to the case of
// ASCII letters, as Exchange compares them, and nothing else is folded: a
// DN spelt with KELVIN SIGN is not the DN spelt with K. dn may carry the
// X500: prefix of a proxy address.
func Resolve(dn string, domains []string, exists func(address string) bool) (string, bool) {
	dn = strings.TrimSpace(dn)
	if len(dn) > 5 && domainname.EqualFoldASCII(dn[:5], "X500:") {
		dn = dn[5:]
	}
	if len(dn) <= len(prefix)+17 || !domainname.EqualFoldASCII(dn[:len(prefix)], prefix) || dn[len(prefix)+16] != '-' {
		return "", false
	}
	local := dn[len(prefix)+17:]
	for _, d := range domains {
		addr, err := domainname.Address(local + "@" + d)
		if err != nil {
			continue // no address: no mailbox's DN
		}
		if domainname.EqualFoldASCII(Format(addr), dn) && exists(addr) {
			return addr, true
		}
	}
	return "", false
}

// IsDN reports whether an EWS address names a mailbox by legacy DN: an EX
// routing type, an X500: proxy address, or an address that is a DN.
func IsDN(address, routingType string) bool {
	address = strings.TrimSpace(address)
	return strings.EqualFold(strings.TrimSpace(routingType), "EX") ||
		len(address) > 5 && strings.EqualFold(address[:5], "X500:") ||
		len(address) > 3 && strings.EqualFold(address[:3], "/o=")
}
