package dnsproof

import (
	"context"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"net"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"
)

func vectorKey(t testing.TB) *x509Key {
	t.Helper()
	data, err := os.ReadFile("testdata/vector-key.pem")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := pem.Decode(data)
	k, err := x509.ParsePKCS1PrivateKey(b.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	return &x509Key{k}
}

// The pinned vector: this key and domain give this proof, as OpenSSL
// computes it too:
//
//	printf contoso.example | openssl dgst -sha1 -sign vector-key.pem | openssl dgst -sha512 -binary | base64 -w0
func TestPinnedVector(t *testing.T) {
	k := vectorKey(t)
	const want = "QaWrN2HM/BJbg7Q3k+/Rp9LihTYoGw4HAhjcEJC6YMTcGr8XeTZjv739XsrvlnEzsoa1s3rHRvwEMZ5G/bqX6g=="
	for _, d := range []string{"contoso.example", "  Contoso.EXAMPLE\t"} {
		got, err := Proof(k.PrivateKey, d)
		if err != nil || got != want {
			t.Errorf("Proof(%q) = %q, %v; want %q", d, got, err, want)
		}
	}
	if !LooksLikeProof(want) || LooksLikeProof("v=spf1 -all") || LooksLikeProof(strings.Repeat("A", 88)) {
		t.Error("LooksLikeProof")
	}
	sig, _ := Signature(k.PrivateKey, "contoso.example")
	if ProofOfSignature(sig) != want || VerifySignature(&k.PublicKey, "CONTOSO.example", sig) != nil ||
		!errors.Is(VerifySignature(&k.PublicKey, "fabrikam.example", sig), ErrBadSignature) {
		t.Error("signature round trip")
	}
}

// zone is an authoritative DNS server on loopback, UDP and TCP.
type zone struct {
	txt      map[string][]string // name -> records, each split into 255-byte strings
	rcode    map[string]int
	silent   map[string]bool // never answer
	truncate map[string]bool // answer UDP with TC set
	addr     string
	tcpSeen  map[string]bool
}

func (z *zone) ServeDNS(w dns.ResponseWriter, r *dns.Msg) {
	q := r.Question[0]
	name := strings.TrimSuffix(strings.ToLower(q.Name), ".")
	if z.silent[name] {
		return
	}
	m := new(dns.Msg)
	m.SetReply(r)
	m.Authoritative = true
	if rc, ok := z.rcode[name]; ok {
		m.Rcode = rc
		w.WriteMsg(m)
		return
	}
	_, udp := w.RemoteAddr().(*net.UDPAddr)
	if !udp {
		z.tcpSeen[name] = true
	}
	if udp && z.truncate[name] {
		m.Truncated = true
		w.WriteMsg(m)
		return
	}
	if q.Qtype == dns.TypeTXT {
		for _, v := range z.txt[name] {
			var parts []string
			for len(v) > 40 { // split, as long records are
				parts, v = append(parts, v[:40]), v[40:]
			}
			parts = append(parts, v)
			m.Answer = append(m.Answer, &dns.TXT{Hdr: dns.RR_Header{Name: q.Name, Rrtype: dns.TypeTXT, Class: dns.ClassINET, Ttl: 60}, Txt: parts})
		}
	}
	if len(m.Answer) == 0 && z.txt[name] == nil {
		m.Rcode = dns.RcodeNameError
	}
	w.WriteMsg(m)
}

func startZone(t *testing.T) *zone {
	t.Helper()
	z := &zone{txt: map[string][]string{}, rcode: map[string]int{}, silent: map[string]bool{}, truncate: map[string]bool{}, tcpSeen: map[string]bool{}}
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", pc.LocalAddr().String())
	if err != nil {
		t.Fatal(err)
	}
	udp := &dns.Server{PacketConn: pc, Handler: z}
	tcp := &dns.Server{Listener: ln, Handler: z}
	go udp.ActivateAndServe()
	go tcp.ActivateAndServe()
	t.Cleanup(func() { udp.Shutdown(); tcp.Shutdown() })
	z.addr = pc.LocalAddr().String()
	return z
}

func TestCheckOverDNS(t *testing.T) {
	k := vectorKey(t)
	proof, _ := Proof(k.PrivateKey, "contoso.example")
	other := strings.Repeat("B", 86) + "=="
	next := strings.Repeat("C", 86) + "=="
	z := startZone(t)
	z.txt["contoso.example"] = []string{"v=spf1 -all", proof, "MS=ms12345678"}
	z.txt["missing.example"] = []string{"v=spf1 -all"}
	z.txt["wrong.example"] = []string{other}
	z.txt["big.example"] = append([]string{proof}, strings.Split(strings.Repeat("filler-record ", 60), " ")...)
	z.truncate["big.example"] = true
	z.txt["rolling.example"] = []string{proof, next}
	z.rcode["broken.example"] = dns.RcodeServerFailure
	z.silent["slow.example"] = true
	want := []Expected{{Slot: "current", Proof: proof}, {Slot: "next", Proof: next}}
	r := &DNS{Servers: []string{z.addr}, Timeout: 300 * time.Millisecond, Attempts: 1}
	tests := []struct {
		domain  string
		status  Status
		matched string
		err     error
	}{
		{"contoso.example", Pass, "current", nil},
		{"missing.example", None, "", ErrNoProof},
		{"wrong.example", Fail, "", ErrWrongProof},
		{"big.example", Pass, "current", nil},
		{"rolling.example", Pass, "current,next", nil},
		{"broken.example", TempError, "", ErrTemporary},
		{"nowhere.example", PermError, "", ErrNXDomain},
		{"slow.example", TempError, "", ErrTemporary},
	}
	for _, tt := range tests {
		res := Check(context.Background(), r, tt.domain, want)
		if res.Status != tt.status || strings.Join(res.Matched, ",") != tt.matched || (tt.err != nil && !errors.Is(res.Err, tt.err)) {
			t.Errorf("%s: %+v, want %s %q %v", tt.domain, res, tt.status, tt.matched, tt.err)
		}
	}
	if !z.tcpSeen["big.example"] {
		t.Error("the truncated answer was not asked again over TCP")
	}
}

// A resolver's own errors map to statuses without losing their cause.
type fakeResolver struct {
	txt []string
	err error
}

func (f fakeResolver) TXT(context.Context, string) ([]string, error) { return f.txt, f.err }

func FuzzCheck(f *testing.F) {
	f.Add("QaWrN2HM/BJbg7Q3k+/Rp9LihTYoGw4HAhjcEJC6YMTcGr8XeTZjv739XsrvlnEzsoa1s3rHRvwEMZ5G/bqX6g==", "v=spf1 -all")
	f.Fuzz(func(t *testing.T, a, b string) {
		want := []Expected{{Slot: "current", Proof: "QaWrN2HM/BJbg7Q3k+/Rp9LihTYoGw4HAhjcEJC6YMTcGr8XeTZjv739XsrvlnEzsoa1s3rHRvwEMZ5G/bqX6g=="}}
		res := Check(context.Background(), fakeResolver{txt: []string{a, b}}, "contoso.example", want)
		pass := a == want[0].Proof || b == want[0].Proof
		if (res.Status == Pass) != pass {
			t.Fatalf("Check(%q, %q) = %s", a, b, res.Status)
		}
		if res.Status == TempError || res.Status == PermError {
			t.Fatalf("records alone gave %s", res.Status)
		}
	})
}

type x509Key struct{ *rsa.PrivateKey }
