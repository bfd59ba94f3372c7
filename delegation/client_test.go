package delegation

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/beevik/etree"

	"github.com/calfed/calfed/certs"
	"github.com/calfed/calfed/internal/fedtoken"
	"github.com/calfed/calfed/internal/xmltree"
	"github.com/calfed/calfed/sts"
)

var t0 = time.Date(2026, 3, 24, 9, 0, 0, 0, time.UTC)

func gen(t *testing.T, cn string) *certs.Certificate {
	t.Helper()
	c, err := certs.Generate(cn, t0.AddDate(0, -1, 0))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// WithToken puts a fresh token in the one wsse:Security header of any
// envelope, replacing what was there.
func TestWithToken(t *testing.T) {
	a, b, issuer := gen(t, "Federation A"), gen(t, "Federation B"), gen(t, "Token issuer")
	now := func() time.Time { return t0.Add(time.Minute) }
	s := &sts.STS{IssuerURI: "urn:dev", Now: now, Orgs: []sts.Organization{
		{Name: "A", ApplicationURI: "a.example", Domains: []string{"a.example"}, Certificate: a.Cert},
		{Name: "B", ApplicationURI: "b.example", Domains: []string{"b.example"}, Certificate: b.Cert},
	}}
	s.SetSigners(issuer, nil)
	srv := httptest.NewServer(s)
	defer srv.Close()
	c := &Client{Certificate: a, ApplicationURI: "a.example", IssuerURI: "urn:dev", IssuerEndpoint: srv.URL, Now: now}
	for name, env := range map[string]string{
		"SOAP 1.1 with a stale token": `<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Header><o:Security xmlns:o="http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd"><old/></o:Security></soap:Header><soap:Body><x/></soap:Body></soap:Envelope>`,
		"SOAP 1.2 without a header":   `<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope"><s:Body><x/></s:Body></s:Envelope>`,
	} {
		out, err := c.WithToken(context.Background(), "alice@a.example", "b.example", fedtoken.OfferFreeBusy, []byte(env))
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		d := etree.NewDocument()
		if err := d.ReadFromBytes(out); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		secs := xmltree.FindAll(d.Root(), fedtoken.NSWSSE, "Security")
		if len(secs) != 1 || len(xmltree.Children(secs[0], fedtoken.NSXEnc, "EncryptedData")) != 1 || len(secs[0].ChildElements()) != 1 {
			t.Errorf("%s: %s", name, out)
		}
	}
	if _, err := c.WithToken(context.Background(), "alice@a.example", "b.example", fedtoken.OfferFreeBusy, []byte(`<x/>`)); err == nil {
		t.Errorf("WithToken accepted a document that is no envelope")
	}
}

func TestTokenRefused(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusInternalServerError) }))
	defer srv.Close()
	c := &Client{Certificate: gen(t, "Federation A"), ApplicationURI: "a.example", IssuerURI: "urn:dev", IssuerEndpoint: srv.URL}
	if _, err := c.Token(context.Background(), "alice@a.example", "b.example", fedtoken.OfferFreeBusy); !errors.Is(err, ErrRefused) {
		t.Errorf("Token after HTTP 500 = %v, want ErrRefused", err)
	}
	if _, err := (&Client{}).Request("alice@a.example", "b.example", fedtoken.OfferFreeBusy); err == nil {
		t.Errorf("Request without a certificate = nil error")
	}
}
