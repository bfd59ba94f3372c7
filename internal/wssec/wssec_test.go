package wssec

import (
	"errors"
	"strings"
	"testing"
	"time"

	"crypto/x509"

	"github.com/beevik/etree"

	"github.com/calfed/calfed/certs"
)

func envelope(t *testing.T) (*etree.Document, *etree.Element, *etree.Element) {
	t.Helper()
	doc := etree.NewDocument()
	if err := doc.ReadFromString(`<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/" xmlns:a="` + nsWSA + `" xmlns:o="` + nsWSSE +
		`"><s:Header><a:To>https://example/x</a:To><o:Security/></s:Header><s:Body><x>1</x></s:Body></s:Envelope>`); err != nil {
		t.Fatal(err)
	}
	h := doc.Root().ChildElements()[0]
	return doc, h.ChildElements()[0], h.ChildElements()[1]
}

func cert(t *testing.T, name string) *certs.Certificate {
	t.Helper()
	c, err := certs.Generate(name, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// reread writes the document and reads it back, as a receiver sees it.
func reread(t *testing.T, doc *etree.Document) *etree.Element {
	t.Helper()
	s, err := doc.WriteToString()
	if err != nil {
		t.Fatal(err)
	}
	d := etree.NewDocument()
	if err := d.ReadFromString(s); err != nil {
		t.Fatal(err)
	}
	return d.Root()
}

func TestSignAndVerify(t *testing.T) {
	now := time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)
	c, other := cert(t, "a"), cert(t, "b")
	for _, tc := range []struct {
		name    string
		key     KeyRef
		signTo  bool
		opts    Options
		at      time.Duration
		tamper  bool
		wantIdx int
		wantErr string
	}{
		{name: "SKI with To", key: BySKI, signTo: true, opts: Options{Known: []*x509.Certificate{other.Cert, c.Cert}, CoverTo: true}, wantIdx: 1},
		{name: "SKI, unknown key", key: BySKI, signTo: true, opts: Options{Known: []*x509.Certificate{other.Cert}, CoverTo: true}, wantErr: "not by a known key"},
		{name: "To required but not signed", key: BySKI, opts: Options{Known: []*x509.Certificate{c.Cert}, CoverTo: true}, wantErr: "must cover the To header"},
		{name: "embedded certificate", key: ByCertificate, opts: Options{Embedded: true}, wantIdx: -1},
		{name: "embedded refused", key: ByCertificate, opts: Options{Known: []*x509.Certificate{c.Cert}}, wantErr: "by Subject Key Identifier"},
		{name: "stale timestamp", key: ByCertificate, opts: Options{Embedded: true}, at: 11 * time.Minute, wantErr: "not current"},
		{name: "tampered timestamp", key: ByCertificate, opts: Options{Embedded: true}, tamper: true, wantErr: "digest"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			doc, to, sec := envelope(t)
			var refs []*etree.Element
			if tc.signTo {
				refs = append(refs, to)
			}
			if err := Sign(sec, c, tc.key, now, refs...); err != nil {
				t.Fatal(err)
			}
			env := reread(t, doc)
			if tc.tamper {
				for _, ts := range env.FindElements("//Timestamp/Created") {
					ts.SetText(now.Add(time.Second).Format(TimeFormat))
				}
			}
			v, err := Verify(env, now.Add(tc.at), tc.opts)
			if tc.wantErr != "" {
				if !errors.Is(err, ErrSignature) || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if v.Index != tc.wantIdx || !v.Cert.Equal(c.Cert) {
				t.Errorf("verified %d %v, want %d and the signer", v.Index, v.Cert.Subject, tc.wantIdx)
			}
		})
	}
}
