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

	mu       sync.Mutex
	txt      map[string][]string
	rcode    map[string]int
	silent   map[string]bool
	truncate map[string]bool
	tcp      map[string]bool
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
	s := &Server{txt: map[string][]string{}, rcode: map[string]int{}, silent: map[string]bool{}, truncate: map[string]bool{}, tcp: map[string]bool{}}
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", pc.LocalAddr().String())
	if err != nil {
		t.Fatal(err)
	}
	udp := &dns.Server{PacketConn: pc, Handler: s}
	tcp := &dns.Server{Listener: ln, Handler: s}
	go udp.ActivateAndServe()
	go tcp.ActivateAndServe()
	t.Cleanup(func() { udp.Shutdown(); tcp.Shutdown() })
	s.Addr = pc.LocalAddr().String()
	return s
}
