package dnsproof

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"time"

	"github.com/miekg/dns"
)

// Resolver looks up TXT records. Each returned record is its strings
// joined. ErrNXDomain means the name does not exist; ErrTemporary any
// failure that may pass.
type Resolver interface {
	TXT(ctx context.Context, name string) ([]string, error)
}

// Errors of resolvers; match with errors.Is.
var (
	ErrNXDomain  = errors.New("dnsproof: no such domain")
	ErrTemporary = errors.New("dnsproof: temporary DNS failure")
	ErrDNS       = errors.New("dnsproof: DNS answer unusable")
)

// DNS is a Resolver over miekg/dns: UDP with EDNS0, TCP when the answer
// is truncated, each server tried Attempts times within Timeout.
type DNS struct {
	// Servers are host:port; empty: the system's (/etc/resolv.conf).
	Servers []string
	// Authoritative asks the zone's own name servers, found through
	// Servers, without recursion: no cache between the record and us.
	Authoritative bool
	Timeout       time.Duration // per query; default 3s
	Attempts      int           // per server; default 2
	// NameServerPort is the port the zone's name servers are asked on in
	// authoritative mode; default 53 (tests use another).
	NameServerPort string
}

func (d *DNS) servers() ([]string, error) {
	if len(d.Servers) > 0 {
		return d.Servers, nil
	}
	conf, err := dns.ClientConfigFromFile("/etc/resolv.conf")
	if err != nil {
		return nil, fmt.Errorf("%w: no resolvers configured and /etc/resolv.conf unreadable: %v", ErrTemporary, err)
	}
	var out []string
	for _, s := range conf.Servers {
		out = append(out, net.JoinHostPort(s, conf.Port))
	}
	return out, nil
}

// TXT implements Resolver.
func (d *DNS) TXT(ctx context.Context, name string) ([]string, error) {
	servers, err := d.servers()
	if err != nil {
		return nil, err
	}
	recurse := true
	if d.Authoritative {
		if servers, err = d.authorities(ctx, servers, name); err != nil {
			return nil, err
		}
		recurse = false
	}
	msg, err := d.query(ctx, servers, dns.Fqdn(name), dns.TypeTXT, recurse)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, rr := range msg.Answer {
		if txt, ok := rr.(*dns.TXT); ok && strings.EqualFold(txt.Hdr.Name, dns.Fqdn(name)) {
			out = append(out, strings.Join(txt.Txt, ""))
		}
	}
	return out, nil
}

// query asks servers in turn until one answers authoritatively enough.
func (d *DNS) query(ctx context.Context, servers []string, name string, qtype uint16, recurse bool) (*dns.Msg, error) {
	timeout := d.Timeout
	if timeout <= 0 {
		timeout = 3 * time.Second
	}
	attempts := d.Attempts
	if attempts <= 0 {
		attempts = 2
	}
	m := new(dns.Msg)
	m.SetQuestion(name, qtype)
	m.RecursionDesired = recurse
	m.SetEdns0(4096, false)
	var last error = fmt.Errorf("%w: no server to ask", ErrTemporary)
	for _, srv := range servers {
	tries:
		for try := 0; try < attempts; try++ {
			if err := ctx.Err(); err != nil {
				return nil, fmt.Errorf("%w: %v", ErrTemporary, err)
			}
			c := &dns.Client{Net: "udp", Timeout: timeout}
			r, _, err := c.ExchangeContext(ctx, m, srv)
			if err == nil && r.Truncated {
				c.Net = "tcp"
				r, _, err = c.ExchangeContext(ctx, m, srv)
			}
			if err != nil {
				last = fmt.Errorf("%w: %s: %v", ErrTemporary, srv, err)
				continue
			}
			switch r.Rcode {
			case dns.RcodeSuccess:
				return r, nil
			case dns.RcodeNameError:
				return nil, fmt.Errorf("%w: %s", ErrNXDomain, strings.TrimSuffix(name, "."))
			case dns.RcodeServerFailure, dns.RcodeRefused:
				last = fmt.Errorf("%w: %s answered %s", ErrTemporary, srv, dns.RcodeToString[r.Rcode])
			default:
				last = fmt.Errorf("%w: %s answered %s", ErrDNS, srv, dns.RcodeToString[r.Rcode])
			}
			break tries // the server answered; another try would not change it
		}
	}
	return nil, last
}

// authorities finds the name servers of the zone holding name, walking up
// its labels, and their addresses.
func (d *DNS) authorities(ctx context.Context, servers []string, name string) ([]string, error) {
	labels := dns.SplitDomainName(name)
	for i := range labels {
		zone := dns.Fqdn(strings.Join(labels[i:], "."))
		r, err := d.query(ctx, servers, zone, dns.TypeNS, true)
		if err != nil { // NXDOMAIN included: the name is not there to prove
			return nil, err
		}
		var hosts []string
		for _, rr := range r.Answer {
			if ns, ok := rr.(*dns.NS); ok {
				hosts = append(hosts, ns.Ns)
			}
		}
		if len(hosts) == 0 {
			continue
		}
		port := d.NameServerPort
		if port == "" {
			port = "53"
		}
		var out []string
		for _, h := range hosts {
			for _, qt := range []uint16{dns.TypeA, dns.TypeAAAA} {
				ar, err := d.query(ctx, servers, h, qt, true)
				if err != nil {
					continue
				}
				for _, rr := range ar.Answer {
					switch a := rr.(type) {
					case *dns.A:
						out = append(out, net.JoinHostPort(a.A.String(), port))
					case *dns.AAAA:
						out = append(out, net.JoinHostPort(a.AAAA.String(), port))
					}
				}
			}
		}
		if len(out) == 0 {
			return nil, fmt.Errorf("%w: the name servers of %s have no addresses", ErrTemporary, zone)
		}
		return out, nil
	}
	return nil, fmt.Errorf("%w: no zone found for %s", ErrDNS, name)
}
