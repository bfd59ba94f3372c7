package config

import (
	"fmt"
	"net/netip"
	"time"

	"github.com/calfed/calfed/internal/httpauth"
	"github.com/calfed/calfed/orgrel"
)

// AuthLimits is how failing service-account sign-ins are throttled.
func (c *Config) AuthLimits() httpauth.LimitOptions {
	return httpauth.LimitOptions{
		MaxFailures: c.Auth.MaxFailures,
		Window:      time.Duration(c.Auth.FailureWindow),
		Lockout:     time.Duration(c.Auth.Lockout),
		MaxLockout:  time.Duration(c.Auth.MaxLockout),
		MaxTracked:  c.Auth.MaxTracked,
	}
}

// AuthSources is how a request's source is found. Build has checked the
// trusted proxies.
func (c *Config) AuthSources() httpauth.Sources {
	p, _ := c.trustedProxies()
	return httpauth.Sources{TrustedProxies: p}
}

// Verifier is how service-account secrets are checked.
func (c *Config) Verifier() orgrel.VerifierOptions {
	return orgrel.VerifierOptions{Workers: c.Auth.VerifyWorkers, PerSource: c.Auth.PerSource}
}

func (c *Config) trustedProxies() ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, s := range c.Auth.TrustedProxies {
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
