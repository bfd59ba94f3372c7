package main

import (
	"crypto/x509"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/beevik/etree"

	"github.com/calfed/calfed/certs"
	"github.com/calfed/calfed/config"
	"github.com/calfed/calfed/federation"
	demopkg "github.com/calfed/calfed/internal/demo"
	"github.com/calfed/calfed/internal/pgtest"
	"github.com/calfed/calfed/live"
	"github.com/calfed/calfed/server"
	"github.com/calfed/calfed/store"
	"github.com/calfed/calfed/sts"
	"github.com/calfed/calfed/trust"
	"github.com/calfed/calfed/wsfed"
)

// fedDemo is the demo's configuration and store, federated: our
// federation certificate in place and a token issuer in the trust.
type fedDemo struct {
	cfg    *config.Config
	db     *store.DB // the test's own handle; each server opens its own
	tr     *trust.Service
	ours   *certs.Certificate
	issuer *certs.Certificate
}

// newFedDemo seeds the demo into the store cfg names once edit has
// changed the demo's configuration.
func newFedDemo(t *testing.T, edit func(cfg *config.Config)) *fedDemo {
	t.Helper()
	t.Setenv(demopkg.SecretEnv, "router-test-secret")
	demo, err := demopkg.New("2026-03-23")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { demo.Close() })
	d := &fedDemo{cfg: demo.Config}
	edit(d.cfg)
	b, err := d.cfg.Build()
	if err != nil {
		t.Fatal(err)
	}
	d.db = d.open(t)
	d.tr = d.cfg.TrustService(d.db, nil)
	ctx := t.Context()
	if err := demo.Seed(ctx, d.db, d.tr, b.Mailboxes()); err != nil {
		t.Fatal(err)
	}
	if d.ours, err = certs.Generate("Federation contoso", time.Now()); err != nil {
		t.Fatal(err)
	}
	if _, err := d.tr.PutCertificate(ctx, "test", "certificate.new", d.ours, certs.Current); err != nil {
		t.Fatal(err)
	}
	if d.issuer, err = certs.Generate("Token issuer", time.Now()); err != nil {
		t.Fatal(err)
	}
	tr, err := d.db.Trust(ctx)
	if err != nil {
		t.Fatal(err)
	}
	tr.TokenIssuerCertificates = wsfed.EncodeCertificates([]*x509.Certificate{d.issuer.Cert})
	if _, err := d.db.SetTrust(ctx, "test", tr); err != nil {
		t.Fatal(err)
	}
	return d
}

// open is a handle of the test's own on the store.
func (d *fedDemo) open(t *testing.T) *store.DB {
	t.Helper()
	db, err := d.cfg.OpenStore(t.Context(), slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// server is a public router with a store handle, policy and validator of
// its own on the demo's store, as one calfed serve.
func (d *fedDemo) server(t *testing.T) (http.Handler, *live.Policy) {
	t.Helper()
	s, err := server.Open(t.Context(), d.cfg, server.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return newRouter(s, nil), s.Policy
}

// autodiscoverRequest is a GetUserSettings request carrying the token
// signer issued, encrypted anew each call.
func autodiscoverRequest(t *testing.T, a *etree.Element, target *x509.Certificate) string {
	t.Helper()
	tok, err := sts.EncryptAssertion(a, target, "", "")
	if err != nil {
		t.Fatal(err)
	}
	doc := etree.NewDocument()
	doc.SetRoot(tok)
	s, _ := doc.WriteToString()
	return `<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/" xmlns:o="http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd"><s:Header><o:Security s:mustUnderstand="1">` + s +
		`</o:Security></s:Header><s:Body><GetUserSettingsRequestMessage xmlns="http://schemas.microsoft.com/exchange/2010/Autodiscover"><Request><Users><User><Mailbox>alice@contoso.example</Mailbox></User></Users><RequestedSettings><Setting>ExternalEwsUrl</Setting></RequestedSettings><RequestedVersion>Exchange2010</RequestedVersion></Request></GetUserSettingsRequestMessage></s:Body></s:Envelope>`
}

func assertion(t *testing.T, signer *certs.Certificate) *etree.Element {
	t.Helper()
	a, err := sts.Issue{Issuer: "urn:test", Signer: signer, Audience: "FYDIBOHF25SPDLT.contoso.example", Email: "someone@trust.example",
		Offer: federation.OfferAutodiscover, NotBefore: time.Now()}.Assertion()
	if err != nil {
		t.Fatal(err)
	}
	// As received: the assertion's own serialisation, read back.
	doc := etree.NewDocument()
	doc.SetRoot(a)
	b, _ := doc.WriteToBytes()
	back := etree.NewDocument()
	if err := back.ReadFromBytes(b); err != nil {
		t.Fatal(err)
	}
	return back.Root()
}

func post(h http.Handler, body string) int {
	rec := httptest.NewRecorder()
	req := httptest.NewRequest(http.MethodPost, "/autodiscover/autodiscover.svc/WSSecurity", strings.NewReader(body))
	req.Header.Set("Content-Type", "text/xml; charset=utf-8")
	h.ServeHTTP(rec, req)
	return rec.Code
}

// Under refuse_token_reuse the store decides a token's first use: of one
// token sent at once to two servers sharing the database, exactly one
// request is accepted; the same assertion encrypted anew is refused by
// both, and by a server started afterwards.
func TestTokenReplayAcrossServers(t *testing.T) {
	for _, backend := range []string{"sqlite", "postgres"} {
		t.Run(backend, func(t *testing.T) {
			d := newFedDemo(t, func(cfg *config.Config) {
				cfg.Federation.RefuseTokenReuse = true
				if backend == "postgres" {
					cfg.Store.Driver, cfg.Store.DSN = "postgres", pgtest.Database(t)
				}
			})
			one, _ := d.server(t)
			two, _ := d.server(t)
			servers := []http.Handler{one, two}
			a := assertion(t, d.issuer)
			body := autodiscoverRequest(t, a, d.ours.Cert)
			var wg sync.WaitGroup
			var mu sync.Mutex
			codes := map[int]int{}
			start := make(chan struct{})
			for i := range 16 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					<-start
					code := post(servers[i%2], body)
					mu.Lock()
					codes[code]++
					mu.Unlock()
				}()
			}
			close(start)
			wg.Wait()
			if codes[http.StatusOK] != 1 || codes[http.StatusUnauthorized] != 15 {
				t.Fatalf("16 submissions of one token to two servers: statuses %v, want one 200 and 15 401", codes)
			}
			for i, s := range servers {
				if code := post(s, autodiscoverRequest(t, a, d.ours.Cert)); code != http.StatusUnauthorized {
					t.Errorf("server %d: the same assertion encrypted anew: %d, want 401", i+1, code)
				}
			}
			restarted, _ := d.server(t)
			if code := post(restarted, body); code != http.StatusUnauthorized {
				t.Errorf("a server started afterwards: the token: %d, want 401", code)
			}
			if code := post(restarted, autodiscoverRequest(t, assertion(t, d.issuer), d.ours.Cert)); code != http.StatusOK {
				t.Errorf("a server started afterwards: a fresh token: %d, want 200", code)
			}
		})
	}
}

// Tokens accepted and cached are refused once the trust changes: after
// the issuer rolled its certificate over twice and its metadata was
// refreshed, and after our own certificate was rolled out.
func TestTrustChangeRefusesCachedTokens(t *testing.T) {
	d := newFedDemo(t, func(*config.Config) {})
	ctx := t.Context()
	keys := certs.Dir(t.TempDir())
	signer, _, err := sts.Signers(ctx, keys)
	if err != nil {
		t.Fatal(err)
	}
	issuer := &sts.STS{IssuerURI: "urn:federation:calfed-dev", Endpoint: "http://127.0.0.1/extSTS.srf"}
	meta := httptest.NewServer(issuer.Handler(keys))
	defer meta.Close()
	if _, _, err := d.tr.RefreshMetadata(ctx, "test", meta.URL+sts.MetadataPath); err != nil {
		t.Fatal(err)
	}
	server, policy := d.server(t)
	reload := func() {
		t.Helper()
		if err := policy.Load(ctx); err != nil { // what a change notification does
			t.Fatal(err)
		}
	}
	accepted := func(what string, body string) {
		t.Helper()
		for i := range 2 { // the second from the cache
			if code := post(server, body); code != http.StatusOK {
				t.Fatalf("%s, use %d: %d, want 200", what, i+1, code)
			}
		}
	}

	body := autodiscoverRequest(t, assertion(t, signer), d.ours.Cert)
	accepted("a token of the issuer's first certificate", body)
	for range 2 {
		if _, err := sts.Rollover(ctx, keys); err != nil {
			t.Fatal(err)
		}
	}
	if _, _, err := d.tr.RefreshMetadata(ctx, "test", meta.URL+sts.MetadataPath); err != nil {
		t.Fatal(err)
	}
	reload()
	if code := post(server, body); code != http.StatusInternalServerError {
		t.Errorf("the issuer rolled over twice and refreshed: the cached token got %d, want 500 (the token fault)", code)
	}

	current, _, err := sts.Signers(ctx, keys)
	if err != nil {
		t.Fatal(err)
	}
	body = autodiscoverRequest(t, assertion(t, current), d.ours.Cert)
	accepted("a token of the issuer's current certificate", body)
	for range 2 { // ours goes to previous, then out
		next, err := certs.Generate("Federation contoso (next)", time.Now())
		if err != nil {
			t.Fatal(err)
		}
		if _, err := d.tr.PutCertificate(ctx, "test", "certificate.new", next, certs.Next); err != nil {
			t.Fatal(err)
		}
		if _, err := d.tr.Rollover(ctx, "test"); err != nil {
			t.Fatal(err)
		}
	}
	reload()
	if code := post(server, body); code != http.StatusInternalServerError {
		t.Errorf("our certificate rolled out: the cached token got %d, want 500 (the token fault)", code)
	}
}
