// Package outbound is the one way calfed reaches other servers: partners'
// Autodiscover and EWS, the token issuer, its metadata, the federation
// gateway's registration service, ACME. Every outbound client is built
// here, so that a configured HTTP(S) proxy, or the standard proxy
// environment variables, and the list of destinations reached directly
// apply to all of them alike.
package outbound

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"golang.org/x/net/http/httpproxy"
)

// Config says how to reach other servers. The zero value follows the
// environment: HTTPS_PROXY, HTTP_PROXY and NO_PROXY (and their lower-case
// forms), as curl and Go's own clients read them.
type Config struct {
	// Proxy is the URL of the HTTP(S) proxy every outbound request goes
	// through (http://proxy.internal:3128; https:// for a proxy spoken to
	// over TLS; user:password@ in it for a proxy that asks for Basic
	// credentials). Empty: the environment's.
	Proxy string
	// NoProxy are destinations reached directly, in NO_PROXY's forms: a
	// host name (itself and its subdomains), .domain (its subdomains only),
	// an IP address, a CIDR network, any of them with :port, or * for
	// every destination. They add to the environment's NO_PROXY when
	// Proxy is empty. Loopback destinations are always reached directly.
	NoProxy []string
}

// ErrConfig: the outbound settings cannot be used.
var ErrConfig = errors.New("outbound: invalid settings")

// Check reports every problem with c, naming the setting.
func (c Config) Check() error {
	var errs []error
	if c.Proxy != "" {
		u, err := url.Parse(c.Proxy)
		switch {
		case err != nil:
			errs = append(errs, fmt.Errorf("%w: outbound.proxy: %v", ErrConfig, err))
		case u.Scheme != "http" && u.Scheme != "https" || u.Host == "":
			errs = append(errs, fmt.Errorf("%w: outbound.proxy: %q is not a proxy URL such as http://proxy.internal:3128", ErrConfig, redact(c.Proxy)))
		case u.Path != "" && u.Path != "/" || u.RawQuery != "":
			errs = append(errs, fmt.Errorf("%w: outbound.proxy: %q has a path or query; write only scheme, host and port", ErrConfig, redact(c.Proxy)))
		}
	}
	for i, d := range c.NoProxy {
		if err := checkNoProxy(strings.TrimSpace(d)); err != nil {
			errs = append(errs, fmt.Errorf("%w: outbound.no_proxy[%d]: %v", ErrConfig, i, err))
		}
	}
	return errors.Join(errs...)
}

func checkNoProxy(d string) error {
	switch {
	case d == "":
		return errors.New("empty; write a host name, .domain, an IP address or a CIDR network")
	case d == "*":
		return nil
	case strings.Contains(d, "/"):
		if _, _, err := net.ParseCIDR(d); err != nil {
			return fmt.Errorf("%q is not a CIDR network such as 10.0.0.0/8", d)
		}
		return nil
	case strings.ContainsAny(d, " ,;\t"):
		return fmt.Errorf("%q: one destination per entry", d)
	case strings.Contains(d, "://"):
		return fmt.Errorf("%q: write the host name without a scheme", d)
	}
	return nil
}

// redact hides a password in a proxy URL.
func redact(s string) string {
	u, err := url.Parse(s)
	if err != nil || u.User == nil {
		return s
	}
	if _, has := u.User.Password(); has {
		u.User = url.UserPassword(u.User.Username(), "***")
	}
	return u.String()
}

// String describes c for logs, without a proxy's password.
func (c Config) String() string {
	p := "the environment's proxy settings"
	if c.Proxy != "" {
		p = "proxy " + redact(c.Proxy)
	}
	if len(c.NoProxy) > 0 {
		p += ", directly to " + strings.Join(c.NoProxy, ", ")
	}
	return p
}

// ProxyFunc is the proxy, if any, for each request's URL; c must pass
// Check.
func (c Config) ProxyFunc() func(*url.URL) (*url.URL, error) {
	var pc *httpproxy.Config
	if c.Proxy != "" {
		pc = &httpproxy.Config{HTTPProxy: c.Proxy, HTTPSProxy: c.Proxy}
	} else {
		pc = httpproxy.FromEnvironment()
	}
	extra := make([]string, 0, len(c.NoProxy))
	for _, d := range c.NoProxy {
		extra = append(extra, strings.TrimSpace(d))
	}
	if len(extra) > 0 {
		if pc.NoProxy != "" {
			extra = append([]string{pc.NoProxy}, extra...)
		}
		pc.NoProxy = strings.Join(extra, ",")
	}
	return pc.ProxyFunc()
}

// Transport is a transport with http.DefaultTransport's settings that
// reaches destinations through c's proxy.
func (c Config) Transport() *http.Transport {
	t := http.DefaultTransport.(*http.Transport).Clone()
	f := c.ProxyFunc()
	t.Proxy = func(r *http.Request) (*url.URL, error) { return f(r.URL) }
	return t
}

// Client is an outbound client over one shared transport, so that
// connections to a destination are reused across calls.
type Client struct {
	cfg       Config
	transport *http.Transport
}

// New returns the outbound client of c, after Check.
func New(c Config) (*Client, error) {
	if err := c.Check(); err != nil {
		return nil, err
	}
	return &Client{cfg: c, transport: c.Transport()}, nil
}

// Config is what the client was built from.
func (o *Client) Config() Config { return o.cfg }

// HTTP returns an http.Client with the given overall timeout (0: none)
// over the shared transport.
func (o *Client) HTTP(timeout time.Duration) *http.Client {
	return &http.Client{Transport: o.transport, Timeout: timeout}
}

// Default is the outbound client of the zero Config, for code used with
// no configuration: the environment's proxy settings.
func Default() *Client {
	return &Client{transport: Config{}.Transport()}
}
