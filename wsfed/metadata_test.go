package wsfed

import (
	"errors"
	"testing"
	"time"

	"github.com/calfed/calfed/certs"
)

var t0 = time.Date(2026, 3, 24, 9, 0, 0, 0, time.UTC)

func gen(t testing.TB, cn string, at time.Time) *certs.Certificate {
	t.Helper()
	c, err := certs.Generate(cn, at)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestMetadataRoundTripAndRules(t *testing.T) {
	issuer, prevIssuer := gen(t, "Token issuer", t0.AddDate(0, -1, 0)), gen(t, "Token issuer (previous)", t0.AddDate(0, -1, 0))
	m := &Metadata{IssuerURI: "urn:federation:MicrosoftOnline", Endpoint: "https://sts.example/extSTS.srf", Current: issuer.Cert, Previous: prevIssuer.Cert}
	got, err := ParseMetadata(WriteMetadata(m), t0)
	if err != nil {
		t.Fatal(err)
	}
	if got.IssuerURI != m.IssuerURI || got.Endpoint != m.Endpoint || len(got.Certificates()) != 2 {
		t.Errorf("parsed %+v", got)
	}
	// Long after both expire: refused. Past the current's end with a
	// longer-lived previous: they swap.
	if _, err := ParseMetadata(WriteMetadata(m), t0.AddDate(10, 0, 0)); !errors.Is(err, ErrMetadata) {
		t.Errorf("expired certificates: %v", err)
	}
	late := gen(t, "later", t0)
	m2 := &Metadata{IssuerURI: "u", Endpoint: "https://sts.example/", Current: issuer.Cert, Previous: late.Cert}
	got, _ = ParseMetadata(WriteMetadata(m2), t0)
	if !got.Current.Equal(late.Cert) {
		t.Errorf("a previous certificate outliving the current one is not promoted")
	}
	for _, bad := range []string{`<x/>`, `<fed:FederationMetadata xmlns:fed="http://schemas.xmlsoap.org/ws/2006/03/federation"><fed:Federation><fed:IssuerNamesOffered><fed:IssuerName uri="u"/></fed:IssuerNamesOffered></fed:Federation></fed:FederationMetadata>`} {
		if _, err := ParseMetadata([]byte(bad), t0); !errors.Is(err, ErrMetadata) {
			t.Errorf("ParseMetadata(%s) = %v", bad, err)
		}
	}
	pemText := EncodeCertificates(m.Certificates())
	back, err := DecodeCertificates(pemText)
	if err != nil || len(back) != 2 || !back[0].Equal(issuer.Cert) {
		t.Errorf("PEM round trip: %v", err)
	}
}

// Any document is read or refused without a panic; what is read names an
// issuer, an endpoint and a current certificate.
func FuzzParseMetadata(f *testing.F) {
	issuer := gen(f, "Token issuer", t0.AddDate(0, -1, 0))
	f.Add(WriteMetadata(&Metadata{IssuerURI: "urn:x", Endpoint: "https://sts.example/", Current: issuer.Cert}))
	f.Add([]byte(`<x/>`))
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := ParseMetadata(data, t0)
		if err == nil && (m.IssuerURI == "" || m.Endpoint == "" || m.Current == nil) {
			t.Fatalf("ParseMetadata accepted %+v", m)
		}
	})
}
