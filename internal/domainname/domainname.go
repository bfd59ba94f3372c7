// Package domainname is the one place calfed puts a domain name, or a mail
// address, into the form it stores and compares. Relationship and
// federated domains, mailbox addresses, a token's EmailAddress and
// RequestorDomain claims, domain proofs, Autodiscover's addresses and
// domains and the configuration all go through Canonical or Address, so
// two spellings are the same name exactly when their canonical forms are
// equal, and a spelling with no canonical form names nothing.
//
// A domain's canonical form is its ASCII form (IDNA2008, RFC 5890–5893):
// U-labels become A-labels (bücher.example is xn--bcher-kva.example),
// ASCII letters are lower-cased, one trailing dot (the root) is dropped.
// Anything that is not a valid host name is refused: empty labels, labels
// or names too long, characters outside letters, digits and hyphen,
// hyphens at a label's ends or in its third and fourth places (except
// A-labels), an all-numeric last label (an IP address is not a domain),
// A-labels that do not decode to valid U-labels.
//
// The profile is x/net/idna's Registration, after lower-casing ASCII
// letters, not Lookup: Lookup applies the UTS #46 mapping, under which
// characters that are not letters of a domain name map onto ones that
// are (KELVIN SIGN U+212A onto k, fullwidth letters onto ASCII, capital
// letters of every script onto small ones), so that \u212Aelvin.example
// and kelvin.example would be one domain. A caller choosing the spelling
// of its own address — a token's EmailAddress, a request's mailbox — could
// then reach another organisation's relationship or mailbox with a name no
// registry would issue. Registration accepts only what IDNA2008 lets a
// domain be registered with, so every domain has one spelling up to the
// case of ASCII letters, and the rest is refused.
//
// An address's local part is compared as calfed always compared it,
// without regard to case, but only for ASCII letters: A–Z become a–z and
// every other byte is kept as it is, with no Unicode case folding or
// normalisation, so \u212Aim@contoso.example is not kim@contoso.example
// (strings.ToLower would make it so) and a non-ASCII local part matches
// only itself. Exchange resolves SMTP addresses the same way for the
// ASCII addresses it knows; docs/protocol.md §1.5.
package domainname

import (
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"golang.org/x/net/idna"
)

// ErrInvalid is the error of every refusal; the message names the input
// and what is wrong with it.
var ErrInvalid = errors.New("domainname: invalid")

// profile is IDNA2008 registration (see the package documentation):
// STD3 host-name rules, DNS length limits, hyphen rules, CONTEXTJ, the
// bidi rule, no mapping.
var profile = idna.Registration

// Canonical returns name's canonical form, or an error naming name when
// it is not a valid host name.
func Canonical(name string) (string, error) {
	a, reason := canonical(name)
	if reason != "" {
		return "", fmt.Errorf("%w: domain name %+q %s", ErrInvalid, name, reason)
	}
	return a, nil
}

// canonical is Canonical, with the reason for a refusal.
func canonical(name string) (string, string) {
	s := strings.TrimSuffix(name, ".")
	if s == "" {
		return "", "is empty"
	}
	if !utf8.ValidString(s) {
		return "", "is not UTF-8"
	}
	a, err := profile.ToASCII(lowerASCII(s))
	if err != nil {
		reason := fmt.Sprintf("is not a valid host name (%v)", err)
		// A spelling the lookup mapping would turn into a valid name:
		// say which, for the operator to write instead.
		if m, err := idna.Lookup.ToASCII(s); err == nil {
			if c, err := profile.ToASCII(m); err == nil && c != "" {
				reason += fmt.Sprintf("; the domain it resembles is written %s", c)
			}
		}
		return "", reason
	}
	last := a[strings.LastIndexByte(a, '.')+1:]
	if strings.Trim(last, "0123456789") == "" {
		return "", "is not a domain name: its last label is a number"
	}
	return a, ""
}

// Address returns the canonical form of a mail address, local@domain: the
// local part with its ASCII letters lower-cased and every other byte kept,
// the domain Canonical. It refuses, naming addr, anything but exactly one
// @ after a local part of printable characters, and a domain Canonical
// refuses.
func Address(addr string) (string, error) {
	bad := func(format string, args ...any) (string, error) {
		return "", fmt.Errorf("%w: mail address %+q %s", ErrInvalid, addr, fmt.Sprintf(format, args...))
	}
	at := strings.LastIndexByte(addr, '@')
	if at < 0 {
		return bad("has no @")
	}
	local := addr[:at]
	switch {
	case local == "":
		return bad("has nothing before the @")
	case strings.IndexByte(local, '@') >= 0:
		return bad("has more than one @")
	case !utf8.ValidString(local):
		return bad("is not UTF-8")
	}
	for _, r := range local {
		if r <= ' ' || r == 0x7f || r >= 0x80 && r < 0xa0 {
			return bad("holds %U before the @", r)
		}
	}
	d, reason := canonical(addr[at+1:])
	if reason != "" {
		return bad("has a domain that %s", reason)
	}
	return lowerASCII(local) + "@" + d, nil
}

// DomainOf returns the canonical domain of a mail address, as Address
// reads it.
func DomainOf(addr string) (string, error) {
	a, err := Address(addr)
	if err != nil {
		return "", err
	}
	return a[strings.LastIndexByte(a, '@')+1:], nil
}

// lowerASCII lower-cases the ASCII letters of s and leaves every other
// byte as it is.
func lowerASCII(s string) string {
	i := 0
	for i < len(s) && !('A' <= s[i] && s[i] <= 'Z') {
		i++
	}
	if i == len(s) {
		return s
	}
	b := []byte(s)
	for ; i < len(b); i++ {
		if 'A' <= b[i] && b[i] <= 'Z' {
			b[i] += 'a' - 'A'
		}
	}
	return string(b)
}

// EqualFoldASCII reports whether a and b are equal without regard to the
// case of ASCII letters, byte for byte otherwise: how identifiers that are
// not domain names (URIs, distinguished names) are compared, where
// strings.EqualFold's Unicode folding would make KELVIN SIGN a k.
func EqualFoldASCII(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := 0; i < len(a); i++ {
		x, y := a[i], b[i]
		if 'A' <= x && x <= 'Z' {
			x += 'a' - 'A'
		}
		if 'A' <= y && y <= 'Z' {
			y += 'a' - 'A'
		}
		if x != y {
			return false
		}
	}
	return true
}
