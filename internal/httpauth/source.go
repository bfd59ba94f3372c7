package httpauth

import (
	"net"
	"net/http"
	"net/netip"
	"strings"
)

// Sources finds the network source a request is throttled under. The zero
// value uses the peer address and trusts no forwarding header.
type Sources struct {
	// TrustedProxies are the networks of reverse proxies in front of us.
	// A request from one of them is attributed to the rightmost
	// X-Forwarded-For address that is not itself a trusted proxy. Empty:
	// X-Forwarded-For is ignored, as any client can send it.
	TrustedProxies []netip.Prefix
}

// Source returns the request's source: an IPv4 address, or an IPv6
// address's /64 (one subscriber's network, which holds more addresses
// than anyone could throttle one by one).
func (s Sources) Source(r *http.Request) string {
	ip := s.Client(r)
	if !ip.IsValid() {
		return r.RemoteAddr
	}
	if ip.Is6() {
		p, _ := ip.Prefix(64)
		return p.String()
	}
	return ip.String()
}

// Client returns the request's client address: the peer's, or, when the
// peer is a trusted proxy, the rightmost X-Forwarded-For address that is
// not one; invalid when the peer address cannot be read.
func (s Sources) Client(r *http.Request) netip.Addr {
	ip := peer(r.RemoteAddr)
	if ip.IsValid() && s.trusted(ip) {
		hops := r.Header.Values("X-Forwarded-For")
		var addrs []string
		for _, h := range hops {
			addrs = append(addrs, strings.Split(h, ",")...)
		}
		for i := len(addrs) - 1; i >= 0; i-- {
			a, err := netip.ParseAddr(strings.TrimSpace(addrs[i]))
			if err != nil {
				break // a garbled hop: stop at the last address we can vouch for
			}
			ip = a.Unmap().WithZone("")
			if !s.trusted(ip) {
				break
			}
		}
	}
	return ip
}

// Peer is the address the request's connection comes from, whatever it
// forwards; invalid when it cannot be read.
func Peer(r *http.Request) netip.Addr { return peer(r.RemoteAddr) }

func (s Sources) trusted(ip netip.Addr) bool {
	for _, p := range s.TrustedProxies {
		if p.Contains(ip) {
			return true
		}
	}
	return false
}

func peer(remote string) netip.Addr {
	host, _, err := net.SplitHostPort(remote)
	if err != nil {
		host = remote
	}
	ip, err := netip.ParseAddr(host)
	if err != nil {
		return netip.Addr{}
	}
	return ip.Unmap().WithZone("")
}
