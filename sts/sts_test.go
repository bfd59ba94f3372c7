package sts

import (
	"context"
	"crypto/x509"
	"errors"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/beevik/etree"

	"github.com/calfed/calfed/certs"
	"github.com/calfed/calfed/delegation"
	"github.com/calfed/calfed/federation"
	"github.com/calfed/calfed/internal/fedtoken"
	"github.com/calfed/calfed/internal/xmltree"
)

var t0 = time.Date(2026, 3, 24, 9, 0, 0, 0, time.UTC)

type world struct{ a, b, issuer, rogue *certs.Certificate }

var cached *world

func newWorld(t testing.TB) *world {
	t.Helper()
	if cached == nil {
		gen := func(cn string) *certs.Certificate {
			c, err := certs.Generate(cn, t0.AddDate(0, -1, 0))
			if err != nil {
				t.Fatal(err)
			}
			return c
		}
		cached = &world{a: gen("Federation A"), b: gen("Federation B"), issuer: gen("Token issuer"), rogue: gen("Rogue")}
	}
	return cached
}

func (w *world) sts() *STS {
	s := &STS{IssuerURI: "urn:federation:calfed-dev", Orgs: []Organization{
		{Name: "A", ApplicationURI: "FYDIBOHF25SPDLT.a.example", Domains: []string{"a.example"}, Certificate: w.a.Cert},
		{Name: "B", ApplicationURI: "FYDIBOHF25SPDLT.b.example", Domains: []string{"b.example"}, Certificate: w.b.Cert},
	}}
	s.SetSigners(w.issuer, nil)
	return s
}

type ring []*certs.Certificate

func (r ring) ForKeyIdentifier(ski []byte) (*certs.Certificate, bool) {
	for _, c := range r {
		if string(c.SKI()) == string(ski) {
			return c, true
		}
	}
	return nil, false
}

// A requester gets tokens for its own users, for registered targets, and
// the target accepts them; nothing else is issued.
func TestIssuesToRegisteredOrganisations(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	now := func() time.Time { return t0.Add(time.Minute) }
	s := w.sts()
	s.Now = now
	srv := httptest.NewServer(s)
	defer srv.Close()
	s.Endpoint = srv.URL

	client := &delegation.Client{Certificate: w.a, ApplicationURI: "FYDIBOHF25SPDLT.a.example", IssuerURI: s.IssuerURI, IssuerEndpoint: srv.URL, Now: now}
	tok, err := client.Token(ctx, "alice@a.example", "FYDIBOHF25SPDLT.b.example", fedtoken.OfferFreeBusy)
	if err != nil {
		t.Fatal(err)
	}
	v := &federation.Validator{Trust: func() *federation.Trust {
		return &federation.Trust{Keys: ring{w.b}, Issuers: []*x509.Certificate{w.issuer.Cert}, ApplicationURI: "FYDIBOHF25SPDLT.b.example"}
	}}
	if c, err := v.Validate(tok, federation.OfferFreeBusy, now()); err != nil || c.Email != "alice@a.example" || c.RequestorDomain != "fydibohf25spdlt.a.example" {
		t.Errorf("Validate(issued token) = %+v, %v", c, err)
	}
	// As the gateway: 3DES data encryption by default (FINDINGS §1.2);
	// AES when configured.
	for _, alg := range []string{"", fedtoken.AlgAES256CBC} {
		s.DataAlg = alg
		tok, err := client.Token(ctx, "alice@a.example", "FYDIBOHF25SPDLT.b.example", fedtoken.OfferFreeBusy)
		if err != nil {
			t.Fatal(err)
		}
		want := alg
		if want == "" {
			want = fedtoken.AlgTripleDESCBC
		}
		doc := etree.NewDocument()
		if err := doc.ReadFromBytes(tok); err != nil {
			t.Fatal(err)
		}
		if m := doc.Root().FindElement("./EncryptionMethod"); m == nil || m.SelectAttrValue("Algorithm", "") != want {
			t.Errorf("DataAlg %q: the token's EncryptionMethod is not %s", alg, want)
		}
		if _, err := v.Validate(tok, federation.OfferFreeBusy, now()); err != nil {
			t.Errorf("DataAlg %q: %v", alg, err)
		}
	}
	s.DataAlg = ""

	// The issuer refuses: a user outside the requester's domains, a target
	// nobody registered, a requester whose key it does not know.
	if _, err := client.Token(ctx, "mallory@b.example", "FYDIBOHF25SPDLT.b.example", fedtoken.OfferFreeBusy); err == nil {
		t.Error("a token for a user of another organisation")
	}
	if _, err := client.Token(ctx, "alice@a.example", "FYDIBOHF25SPDLT.nobody.example", fedtoken.OfferFreeBusy); err == nil {
		t.Error("a token for an unregistered target")
	}
	rogue := *client
	rogue.Certificate = w.rogue
	if _, err := rogue.Token(ctx, "alice@a.example", "FYDIBOHF25SPDLT.b.example", fedtoken.OfferFreeBusy); err == nil {
		t.Error("a token for an unknown requester")
	}
}

// The issuer refuses token requests whose message signature fails.
func TestSTSChecksTheMessageSignature(t *testing.T) {
	w := newWorld(t)
	now := t0.Add(time.Minute)
	s := w.sts()
	s.IssuerURI = "urn:dev"
	c := &delegation.Client{Certificate: w.a, ApplicationURI: "FYDIBOHF25SPDLT.a.example", IssuerURI: "urn:dev", IssuerEndpoint: "https://sts.example/extSTS.srf",
		Now: func() time.Time { return now }}
	rst, err := c.Request("alice@a.example", "FYDIBOHF25SPDLT.b.example", fedtoken.OfferFreeBusy)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.issue(rst, now); err != nil {
		t.Fatalf("a well-signed request: %v", err)
	}
	edit := func(f func(d *etree.Document)) []byte {
		d := etree.NewDocument()
		d.ReadFromBytes(rst)
		f(d)
		b, _ := d.WriteToBytes()
		return b
	}
	find := xmltree.Find
	tests := map[string][]byte{
		"To changed after signing": edit(func(d *etree.Document) { find(d.Root(), fedtoken.NSWSA, "To").SetText("https://elsewhere.example/") }),
		"Timestamp removed": edit(func(d *etree.Document) {
			ts := find(d.Root(), fedtoken.NSWSU, "Timestamp")
			ts.Parent().RemoveChild(ts)
		}),
		"signature removed": edit(func(d *etree.Document) {
			s := find(d.Root(), fedtoken.NSDSig, "SignedInfo").Parent()
			s.Parent().RemoveChild(s)
		}),
		"a duplicate Id": edit(func(d *etree.Document) {
			ts := find(d.Root(), fedtoken.NSWSU, "Timestamp")
			ts.Parent().AddChild(ts.Copy())
		}),
	}
	for name, body := range tests {
		if _, err := s.issue(body, now); !errors.Is(err, ErrRequest) {
			t.Errorf("%s: %v", name, err)
		}
	}
	if _, err := s.issue(rst, now.Add(time.Hour)); !errors.Is(err, ErrRequest) {
		t.Errorf("an hour-old request: %v", err)
	}
	// Signed by B's key but speaking for a user of A: the assertion's
	// signer must be the requester.
	forged := *c
	forged.Certificate = w.b
	body, _ := forged.Request("alice@a.example", "FYDIBOHF25SPDLT.b.example", fedtoken.OfferFreeBusy)
	if _, err := s.issue(body, now); !errors.Is(err, ErrRequest) {
		t.Errorf("B asking for A's user: %v", err)
	}
}

// Any request body is refused or answered without a panic.
func FuzzIssue(f *testing.F) {
	w := newWorld(f)
	now := t0.Add(time.Minute)
	c := &delegation.Client{Certificate: w.a, ApplicationURI: "FYDIBOHF25SPDLT.a.example", IssuerURI: "urn:federation:calfed-dev", IssuerEndpoint: "https://sts.example/extSTS.srf",
		Now: func() time.Time { return now }}
	rst, err := c.Request("alice@a.example", "FYDIBOHF25SPDLT.b.example", fedtoken.OfferFreeBusy)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(rst)
	f.Add(exchangeRequest(f, w, "urn:federation:calfed-dev", now))
	s := w.sts()
	f.Fuzz(func(t *testing.T, body []byte) {
		s.issue(body, now)
	})
}

// data_encryption takes the short or the full name of an accepted
// algorithm, and nothing else.
func TestConfigDataEncryption(t *testing.T) {
	dir := t.TempDir()
	for _, tt := range []struct{ value, want string }{
		{"", ""},
		{"aes256-cbc", fedtoken.AlgAES256CBC},
		{fedtoken.AlgTripleDESCBC, fedtoken.AlgTripleDESCBC},
		{"rc4", "error"},
	} {
		path := filepath.Join(dir, "sts.yaml")
		os.WriteFile(path, []byte("data_encryption: "+strconv.Quote(tt.value)+"\n"), 0o644)
		c, _, err := LoadConfig(path)
		switch {
		case tt.want == "error" && err == nil:
			t.Errorf("data_encryption %q accepted", tt.value)
		case tt.want != "error" && (err != nil || c.DataEncryption != tt.want):
			t.Errorf("data_encryption %q: %+v, %v", tt.value, c, err)
		}
	}
}
