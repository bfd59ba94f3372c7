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

	"github.com/calfed/calfed/internal/dnstest"
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

func TestCheckOverDNS(t *testing.T) {
	k := vectorKey(t)
	proof, _ := Proof(k.PrivateKey, "contoso.example")
	other := strings.Repeat("B", 86) + "=="
	next := strings.Repeat("C", 86) + "=="
	z := dnstest.Start(t)
	z.SetTXT("contoso.example", "v=spf1 -all", proof, "MS=ms12345678")
	z.SetTXT("missing.example", "v=spf1 -all")
	z.SetTXT("wrong.example", other)
	z.SetTXT("big.example", append([]string{proof}, strings.Split(strings.Repeat("filler-record ", 60), " ")...)...)
	z.Truncate("big.example")
	z.SetTXT("rolling.example", proof, next)
	z.Fail("broken.example", dns.RcodeServerFailure)
	z.Silence("slow.example")
	want := []Expected{{Slot: "current", Proof: proof}, {Slot: "next", Proof: next}}
	r := &DNS{Servers: []string{z.Addr}, Timeout: 300 * time.Millisecond, Attempts: 1}
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
		t.Run(tt.domain, func(t *testing.T) {
			res := Check(context.Background(), r, tt.domain, want)
			if res.Status != tt.status || strings.Join(res.Matched, ",") != tt.matched || (tt.err != nil && !errors.Is(res.Err, tt.err)) {
				t.Errorf("Check(%s) = %+v, want %s %q %v", tt.domain, res, tt.status, tt.matched, tt.err)
			}
		})
	}
	if !z.AskedOverTCP("big.example") {
		t.Error("the truncated answer was not asked again over TCP")
	}
}

// In authoritative mode the zone's own name server is asked, without
// recursion, so a resolver's stale cache cannot hide a new proof.
func TestAuthoritativeMode(t *testing.T) {
	k := vectorKey(t)
	proof, _ := Proof(k.PrivateKey, "europe.contoso.example")
	cache, zone := dnstest.Start(t), dnstest.Start(t)
	cache.SetNS("contoso.example", "ns1.contoso.example")
	cache.SetA("ns1.contoso.example", "127.0.0.1")
	cache.SetTXT("europe.contoso.example", "v=spf1 -all") // from before the proof was published
	zone.SetTXT("europe.contoso.example", "v=spf1 -all", proof)
	_, port, _ := net.SplitHostPort(zone.Addr)
	want := []Expected{{Slot: "current", Proof: proof}}

	cached := &DNS{Servers: []string{cache.Addr}, Timeout: 300 * time.Millisecond}
	if res := Check(context.Background(), cached, "europe.contoso.example", want); res.Status != None {
		t.Errorf("through the cache: %+v", res)
	}
	direct := &DNS{Servers: []string{cache.Addr}, Authoritative: true, NameServerPort: port, Timeout: 300 * time.Millisecond}
	if res := Check(context.Background(), direct, "europe.contoso.example", want); res.Status != Pass {
		t.Errorf("from the zone's name server: %+v", res)
	}
	if !zone.AskedWithoutRecursion("europe.contoso.example") {
		t.Error("the name server was asked with recursion desired")
	}
	// A zone whose name servers have no address cannot be asked.
	cache.SetNS("lame.example", "ns.nowhere.example")
	if res := Check(context.Background(), direct, "lame.example", want); res.Status != TempError {
		t.Errorf("lame delegation: %+v", res)
	}
	// Nor can a name no zone holds.
	if res := Check(context.Background(), direct, "nowhere.example", want); res.Status != PermError {
		t.Errorf("no zone: %+v", res)
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
