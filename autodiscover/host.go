package autodiscover

import (
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"strings"

	"github.com/calfed/calfed/internal/domainname"
)

// base is the public URL prefix for r: PublicURL when it is set;
// otherwise the scheme r came over and publicHost. A Host header that
// does not name this server never appears in an answer: whoever sends
// it, directly or through a caching proxy, would otherwise choose where
// partners are sent.
func (h *Handler) base(r *http.Request) string {
	if h.opt.PublicURL != "" {
		return strings.TrimRight(h.opt.PublicURL, "/")
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	local, _ := r.Context().Value(http.LocalAddrContextKey).(net.Addr)
	return scheme + "://" + publicHost(h.hosts, r.Host, local, scheme)
}

// publicHost is the host (and port) of the URLs handed out for a request
// to scheme that named reqHost in its Host header and arrived at local
// (nil when not known). reqHost is used, in canonical form, when it names
// this server: one of hosts (a name, or a *.domain wildcard matching one
// label), on the port the request arrived at or with none; or the address
// the request arrived at, with its port (none for the scheme's default).
// Any other Host gives way to the first of hosts, with the port the
// request arrived at unless it is the scheme's default, or with no hosts
// to that address itself; with no address either, localhost (a handler
// called outside net/http).
func publicHost(hosts []string, reqHost string, local net.Addr, scheme string) string {
	defPort := uint16(80)
	if scheme == "https" {
		defPort = 443
	}
	var at netip.AddrPort
	if local != nil {
		at, _ = netip.ParseAddrPort(local.String())
		at = netip.AddrPortFrom(at.Addr().Unmap(), at.Port())
	}
	name, port := reqHost, ""
	if h, p, err := net.SplitHostPort(reqHost); err == nil {
		name, port = h, p
	}
	portIs := func(want uint16) bool {
		n, err := strconv.ParseUint(port, 10, 16)
		return err == nil && uint16(n) == want
	}
	// withPort is host (a name, or an address unbracketed) with the port
	// the request arrived at, unless it is the scheme's default.
	withPort := func(host string) string {
		if !at.IsValid() || at.Port() == defPort {
			if strings.Contains(host, ":") {
				return "[" + host + "]"
			}
			return host
		}
		return net.JoinHostPort(host, strconv.Itoa(int(at.Port())))
	}
	if ip, err := netip.ParseAddr(strings.TrimSuffix(strings.TrimPrefix(name, "["), "]")); err == nil {
		if at.IsValid() && ip.Unmap() == at.Addr() && (portIs(at.Port()) || port == "" && at.Port() == defPort) {
			return withPort(at.Addr().String())
		}
	} else if c, err := domainname.Canonical(name); err == nil && hostIn(hosts, c) && (port == "" || at.IsValid() && portIs(at.Port())) {
		if port == "" {
			return c
		}
		return net.JoinHostPort(c, port)
	}
	for _, h := range hosts {
		if !strings.HasPrefix(h, "*.") {
			return withPort(h)
		}
	}
	if at.IsValid() {
		return withPort(at.Addr().String())
	}
	return "localhost"
}

// hostIn reports whether name, canonical, is one of hosts or matches one
// of their *.domain wildcards in its first label.
func hostIn(hosts []string, name string) bool {
	for _, h := range hosts {
		if h == name {
			return true
		}
		if suffix, ok := strings.CutPrefix(h, "*"); ok {
			if first, rest, ok := strings.Cut(name, "."); ok && first != "" && "."+rest == suffix {
				return true
			}
		}
	}
	return false
}
