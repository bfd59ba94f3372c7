package config

import (
	"fmt"
	"net/netip"
	"time"

	"github.com/calfed/calfed/userauth"
)

// prefixes reads addresses and CIDR networks.
func prefixes(list []string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, s := range list {
		if p, err := netip.ParsePrefix(s); err == nil {
			out = append(out, p.Masked())
			continue
		}
		a, err := netip.ParseAddr(s)
		if err != nil {
			return nil, fmt.Errorf("%q is neither an address nor a CIDR network", s)
		}
		out = append(out, netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen()))
	}
	return out, nil
}

// UserAuth is the users section as userauth takes it (without Tokens,
// Directory and Logger); Build refuses what it cannot read.
func (c *Config) UserAuth() userauth.Options {
	proxy, _ := prefixes(c.Users.ProxySources)
	anon, _ := prefixes(c.Users.AnonymousSources)
	return userauth.Options{ProxyHeader: c.Users.ProxyHeader, ProxySources: proxy, AnonymousSources: anon, Sources: c.AuthSources()}
}

// PartnerTimeouts are the partners section with its defaults: per-partner
// timeout, cache, failures before the breaker opens, and its cooldown.
func (c *Config) PartnerTimeouts() (timeout, cache time.Duration, failures int, cooldown time.Duration) {
	return time.Duration(c.Partners.Timeout), time.Duration(c.Partners.Cache), c.Partners.BreakerFailures, time.Duration(c.Partners.BreakerCooldown)
}
