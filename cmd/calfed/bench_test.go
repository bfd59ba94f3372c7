package main

import (
	"bytes"
	"context"
	"crypto/x509"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/beevik/etree"

	"github.com/calfed/calfed/certs"
	"github.com/calfed/calfed/config"
	"github.com/calfed/calfed/federation"
	"github.com/calfed/calfed/internal/synth"
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

// The standard request (one realistic mailbox, DetailedMerged over the 62
// days from two months back, as cmd/ewsload -floor sends it) through the
// whole public router of calfed serve: Exchange's HTTP conventions, Basic
// authentication, the body bound, routing by operation, the access log
// (its background writer into SQLite included) and the live policy, then
// the EWS handler. The response goes to a writer that drops it, so
// allocs/op counts what the server allocates a request, everywhere.
func BenchmarkRouterStandard(b *testing.B) {
	now := time.Now()
	dir := b.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "user0.ics"), synth.Realistic(0, now), 0o644); err != nil {
		b.Fatal(err)
	}
	file := filepath.Join(dir, "calfed.yaml")
	if err := os.WriteFile(file, []byte("data_dir: data\nmailboxes:\n  - address: user0@ours.example\n    time_zone: Europe/London\n    calendar: user0.ics\n"), 0o644); err != nil {
		b.Fatal(err)
	}
	ctx := b.Context()
	cli := func(args ...string) string {
		var out, errb bytes.Buffer
		if code := run(ctx, append(args, "-config", file), &out, &errb); code != exitOK {
			b.Fatalf("calfed %s: exit %d: %s", strings.Join(args, " "), code, errb.String())
		}
		return out.String()
	}
	cli("orgrel", "new", "P", "-domains", "partner.example", "-free-busy", "-level", "LimitedDetails")
	var account struct{ Secret string }
	if err := json.Unmarshal([]byte(cli("account", "new", "svc", "-relationship", "P", "-o", "json")), &account); err != nil {
		b.Fatal(err)
	}
	cli("mailbox", "share", "user0@ours.example", "-level", "LimitedDetails")
	cfg, err := config.Load(file)
	if err != nil {
		b.Fatal(err)
	}
	// The log is written as serve writes it (one line a request), to a
	// writer that drops it.
	log, err := server.NewLogger(cfg, io.Discard, new(slog.LevelVar))
	if err != nil {
		b.Fatal(err)
	}
	s, err := server.Open(ctx, cfg, server.Options{Logger: log})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	runCtx, stop := context.WithCancel(ctx)
	done := s.Start(runCtx)
	defer func() { stop(); <-done }()
	router := newRouter(s, nil)

	from := now.AddDate(0, 0, -60)
	body := []byte(`<?xml version="1.0" encoding="utf-8"?><s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/" xmlns:t="http://schemas.microsoft.com/exchange/services/2006/types" xmlns:m="http://schemas.microsoft.com/exchange/services/2006/messages"><s:Header><t:RequestServerVersion Version="Exchange2013_SP1"/><t:TimeZoneContext><t:TimeZoneDefinition Id="GMT Standard Time"/></t:TimeZoneContext></s:Header><s:Body><m:GetUserAvailabilityRequest><m:MailboxDataArray>` +
		`<t:MailboxData><t:Email><t:Address>user0@ours.example</t:Address></t:Email><t:AttendeeType>Required</t:AttendeeType></t:MailboxData>` +
		`</m:MailboxDataArray><t:FreeBusyViewOptions><t:TimeWindow><t:StartTime>` + from.Format("2006-01-02") + `T00:00:00</t:StartTime><t:EndTime>` +
		from.AddDate(0, 0, 62).Format("2006-01-02") + `T00:00:00</t:EndTime></t:TimeWindow><t:MergedFreeBusyIntervalInMinutes>30</t:MergedFreeBusyIntervalInMinutes><t:RequestedView>DetailedMerged</t:RequestedView></t:FreeBusyViewOptions></m:GetUserAvailabilityRequest></s:Body></s:Envelope>`)
	tmpl := httptest.NewRequest(http.MethodPost, "/EWS/Exchange.asmx", nil)
	tmpl.Header.Set("Content-Type", "text/xml; charset=utf-8")
	tmpl.SetBasicAuth("svc", account.Secret)
	tmpl.RemoteAddr = "127.0.0.1:50000"
	tmpl.ContentLength = int64(len(body))
	w := &dropWriter{header: http.Header{}}
	var rd bytes.Reader
	serve := func() {
		req := *tmpl
		u := *tmpl.URL
		req.URL = &u
		rd.Reset(body)
		req.Body = io.NopCloser(&rd)
		clear(w.header)
		w.code, w.n = 0, 0
		router.ServeHTTP(w, &req)
	}
	serve()
	if w.code != http.StatusOK || w.n < 10000 {
		b.Fatalf("status %d, %d bytes", w.code, w.n)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		serve()
	}
	b.StopTimer()
	b.ReportMetric(float64(w.n), "bytes/answer")
}

// dropWriter stands for the connection: it notes the status and counts
// and drops what is written.
type dropWriter struct {
	header http.Header
	code   int
	n      int
}

func (d *dropWriter) Header() http.Header { return d.header }
func (d *dropWriter) WriteHeader(code int) {
	if d.code == 0 {
		d.code = code
	}
}

func (d *dropWriter) Write(p []byte) (int, error) {
	if d.code == 0 {
		d.code = http.StatusOK
	}
	d.n += len(p)
	return len(p), nil
}
