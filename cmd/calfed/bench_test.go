package main

import (
	"crypto/x509"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/beevik/etree"

	"github.com/calfed/calfed/certs"
	"github.com/calfed/calfed/federation"
	"github.com/calfed/calfed/server"
	"github.com/calfed/calfed/sts"
	"github.com/calfed/calfed/wsfed"
)

// The cost of a delegation token presented again (reuse is accepted by
// default within the offer's lifetime), against the
// same request with Basic credentials (verified once, then cached): goal
// under 10% more.
func BenchmarkEWSAuthentication(b *testing.B) {
	srv, s := demoParts(b, server.Options{})
	cfg, db, live := s.Config, s.DB, s.Policy
	srv.Close()
	ctx := b.Context()
	ours, _ := certs.Generate("Federation contoso", time.Now())
	ring, _ := certs.Load(ctx, cfg.Keys())
	ring.Put(ctx, cfg.Keys(), certs.Current, ours)
	issuer, _ := certs.Generate("issuer", time.Now())
	tr, _ := db.Trust(ctx)
	tr.TokenIssuerCertificates = wsfed.EncodeCertificates([]*x509.Certificate{issuer.Cert})
	db.SetTrust(ctx, "bench", tr)
	if err := live.Load(ctx); err != nil {
		b.Fatal(err)
	}
	router := newRouter(s, nil)
	tok, _ := sts.Issue{Issuer: "urn:bench", Signer: issuer, Audience: "FYDIBOHF25SPDLT.contoso.example", Email: "x@partner.example",
		Offer: federation.OfferFreeBusy, Target: ours.Cert, NotBefore: time.Now()}.Token()
	doc := etree.NewDocument()
	doc.SetRoot(tok)
	tokXML, _ := doc.WriteToString()
	body := func(security string) string {
		return `<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/" xmlns:t="http://schemas.microsoft.com/exchange/services/2006/types" xmlns:m="http://schemas.microsoft.com/exchange/services/2006/messages"><s:Header><t:RequestServerVersion Version="Exchange2012"/>` +
			security + `</s:Header><s:Body><m:GetUserAvailabilityRequest><m:MailboxDataArray><t:MailboxData><t:Email><t:Address>alice@contoso.example</t:Address></t:Email></t:MailboxData></m:MailboxDataArray><t:FreeBusyViewOptions><t:TimeWindow><t:StartTime>2026-03-23T00:00:00Z</t:StartTime><t:EndTime>2026-03-30T00:00:00Z</t:EndTime></t:TimeWindow><t:RequestedView>FreeBusyMerged</t:RequestedView></t:FreeBusyViewOptions></m:GetUserAvailabilityRequest></s:Body></s:Envelope>`
	}
	cases := []struct {
		name, path, body string
		basic            bool
	}{
		{"basic", "/EWS/Exchange.asmx", body(""), true},
		{"token-reused", "/EWS/Exchange.asmx/WSSecurity", body(`<o:Security xmlns:o="http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd">` + tokXML + `</o:Security>`), false},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				req := httptest.NewRequest(http.MethodPost, c.path, strings.NewReader(c.body))
				if c.basic {
					req.SetBasicAuth("svc-partner", "router-test-secret")
				}
				rec := httptest.NewRecorder()
				router.ServeHTTP(rec, req)
				if rec.Code != http.StatusOK {
					b.Fatalf("status %d: %s", rec.Code, rec.Body.String())
				}
			}
		})
	}
}
