// Package dnstest is an authoritative DNS server on loopback for tests:
// TXT records set at run time, and the failures a resolver must survive
// (truncation, SERVFAIL, silence).
package dnstest

import (
	"net"
	"strings"
	"sync"
	"testing"

	"github.com/miekg/dns"
)

// Server answers for the names it is given; other names are NXDOMAIN.
type Server struct {
	Addr string // host:port, UDP and TCP

	mu        sync.Mutex
	txt       map[string][]string
	rrs       map[string][]dns.RR // NS and A records
	norecurse map[string]bool
	rcode     map[string]int
	silent    map[string]bool
	truncate  map[string]bool
	tcp       map[string]bool
}

func key(name string) string { return strings.TrimSuffix(strings.ToLower(name), ".") }

// SetTXT replaces name's TXT records.
func (s *Server) SetTXT(name string, records ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.txt[key(name)] = records
}

// AddTXT adds TXT records to name.
func (s *Server) AddTXT(name string, records ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.txt[key(name)] = append(s.txt[key(name)], records...)
}

// Fail makes name answer with rcode; dns.RcodeSuccess answers normally
// again.
func (s *Server) Fail(name string, rcode int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if rcode == dns.RcodeSuccess {
		delete(s.rcode, key(name))
		return
	}
	s.rcode[key(name)] = rcode
}

// Silence makes name never answered.
func (s *Server) Silence(name string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.silent[key(name)] = true
}

// Truncate makes UDP answers for name truncated, so resolvers must use TCP.
func (s *Server) Truncate(name string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.truncate[key(name)] = true
}

// SetNS names zone's name servers.
func (s *Server) SetNS(zone string, hosts ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, h := range hosts {
		s.rrs[key(zone)] = append(s.rrs[key(zone)], &dns.NS{Hdr: dns.RR_Header{Name: dns.Fqdn(zone), Rrtype: dns.TypeNS, Class: dns.ClassINET, Ttl: 60}, Ns: dns.Fqdn(h)})
	}
}

// SetA gives host an IPv4 address.
func (s *Server) SetA(host, ip string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.rrs[key(host)] = append(s.rrs[key(host)], &dns.A{Hdr: dns.RR_Header{Name: dns.Fqdn(host), Rrtype: dns.TypeA, Class: dns.ClassINET, Ttl: 60}, A: net.ParseIP(ip)})
}

// AskedWithoutRecursion reports whether name was asked with recursion
// not desired, as a resolver asks a zone's own name server.
func (s *Server) AskedWithoutRecursion(name string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.norecurse[key(name)]
}

// AskedOverTCP reports whether name was asked over TCP.
func (s *Server) AskedOverTCP(name string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.tcp[key(name)]
}

func (s *Server) ServeDNS(w dns.ResponseWriter, r *dns.Msg) {
	q := r.Question[0]
	name := key(q.Name)
	s.mu.Lock()
	silent, rc, hasRC, trunc := s.silent[name], s.rcode[name], false, s.truncate[name]
	if _, ok := s.rcode[name]; ok {
		hasRC = true
	}
	records, known := s.txt[name]
	rrs, hasRRs := s.rrs[name]
	known = known || hasRRs
	if !r.RecursionDesired {
		s.norecurse[name] = true
	}
	_, udp := w.RemoteAddr().(*net.UDPAddr)
	if !udp {
		s.tcp[name] = true
	}
	s.mu.Unlock()
	if silent {
		return
	}
	m := new(dns.Msg)
	m.SetReply(r)
	m.Authoritative = true
	switch {
	case hasRC:
		m.Rcode = rc
	case udp && trunc:
		m.Truncated = true
	case !known:
		m.Rcode = dns.RcodeNameError
	case q.Qtype != dns.TypeTXT:
		for _, rr := range rrs {
			if rr.Header().Rrtype == q.Qtype {
				m.Answer = append(m.Answer, rr)
			}
		}
	case q.Qtype == dns.TypeTXT:
		for _, v := range records {
			var parts []string // long values travel as several strings
			for len(v) > 40 {
				parts, v = append(parts, v[:40]), v[40:]
			}
			parts = append(parts, v)
			m.Answer = append(m.Answer, &dns.TXT{Hdr: dns.RR_Header{Name: q.Name, Rrtype: dns.TypeTXT, Class: dns.ClassINET, Ttl: 60}, Txt: parts})
		}
	}
	w.WriteMsg(m)
}

// Start serves on 127.0.0.1 until the test ends.
func Start(t testing.TB) *Server {
	t.Helper()
	s := &Server{txt: map[string][]string{}, rcode: map[string]int{}, silent: map[string]bool{}, truncate: map[string]bool{}, tcp: map[string]bool{}, rrs: map[string][]dns.RR{}, norecurse: map[string]bool{}}
	// UDP and TCP on one port: a port free for UDP may be taken for TCP,
	// so try others until both are had.
	var pc net.PacketConn
	var ln net.Listener
	for try := 0; ; try++ {
		var err error
		if pc, err = net.ListenPacket("udp", "127.0.0.1:0"); err != nil {
			t.Fatal(err)
		}
		if ln, err = net.Listen("tcp", pc.LocalAddr().String()); err == nil {
			break
		}
		pc.Close()
		if try == 50 {
			t.Fatalf("no port free for both UDP and TCP: %v", err)
		}
	}
	udp := &dns.Server{PacketConn: pc, Handler: s}
	tcp := &dns.Server{Listener: ln, Handler: s}
	go udp.ActivateAndServe()
	go tcp.ActivateAndServe()
	t.Cleanup(func() { udp.Shutdown(); tcp.Shutdown() })
	s.Addr = pc.LocalAddr().String()
	return s
}

// TXT returns the TXT records of name.
func (s *Server) TXT(name string) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.txt[key(name)]...)
}
