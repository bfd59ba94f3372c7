package main

import (
	"bytes"
	"crypto/x509"
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/beevik/etree"

	"github.com/calfed/calfed/certs"
	"github.com/calfed/calfed/federation"
	"github.com/calfed/calfed/live"
	"github.com/calfed/calfed/orgrel"
	"github.com/calfed/calfed/server"
	"github.com/calfed/calfed/sts"
	"github.com/calfed/calfed/wsfed"
)

// A partner's Exchange calls the /WSSecurity endpoints with delegation
// tokens: the whole server path, router to response, with real keys.
func TestFederatedRequests(t *testing.T) {
	var late atomic.Int64 // how far the policy's clock runs ahead
	srv, s := demoParts(t, server.Options{Now: func() time.Time { return time.Now().Add(time.Duration(late.Load())) }})
	cfg, db, policy := s.Config, s.DB, s.Policy
	ctx := t.Context()
	ours, err := certs.Generate("Federation contoso", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	ring, _ := certs.Load(ctx, cfg.Keys())
	if err := ring.Put(ctx, cfg.Keys(), certs.Current, ours); err != nil {
		t.Fatal(err)
	}
	issuer, _ := certs.Generate("Development token issuer", time.Now())
	tr, err := db.Trust(ctx)
	if err != nil {
		t.Fatal(err)
	}
	tr.TokenIssuerCertificates = wsfed.EncodeCertificates([]*x509.Certificate{issuer.Cert})
	if _, err := db.SetTrust(ctx, "test", tr); err != nil {
		t.Fatal(err)
	}
	// A partner whose domain has a k, for the KELVIN SIGN spelling of it.
	if _, err := db.CreateRelationship(ctx, "test", orgrel.Relationship{Name: "Kelvin", Domains: []string{"kelvin.example"}, Enabled: true,
		FreeBusyAccessEnabled: true, FreeBusyAccessLevel: orgrel.AvailabilityOnly}); err != nil {
		t.Fatal(err)
	}
	if err := policy.Load(ctx); err != nil {
		t.Fatal(err)
	}
	mintAt := func(offer, email string, target *x509.Certificate, notBefore time.Time, audience string) string {
		tok, err := sts.Issue{Issuer: "urn:test", Signer: issuer, Audience: audience, Email: email,
			Offer: offer, Target: target, NotBefore: notBefore, RequestorDomain: "FYDIBOHF25SPDLT.trust.example"}.Token()
		if err != nil {
			t.Fatal(err)
		}
		doc := etree.NewDocument()
		doc.SetRoot(tok)
		s, _ := doc.WriteToString()
		return s
	}
	mint := func(offer, email string, target *x509.Certificate) string {
		return mintAt(offer, email, target, time.Now(), "FYDIBOHF25SPDLT.contoso.example")
	}
	envelope := func(security, body string) string {
		return `<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/" xmlns:t="http://schemas.microsoft.com/exchange/services/2006/types" xmlns:m="http://schemas.microsoft.com/exchange/services/2006/messages" xmlns:o="http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd"><s:Header><t:RequestServerVersion Version="Exchange2012"/>` +
			security + `</s:Header><s:Body>` + body + `</s:Body></s:Envelope>`
	}
	sec := func(tok string) string { return `<o:Security s:mustUnderstand="1">` + tok + `</o:Security>` }
	gua := `<m:GetUserAvailabilityRequest><m:MailboxDataArray><t:MailboxData><t:Email><t:Address>alice@contoso.example</t:Address></t:Email></t:MailboxData></m:MailboxDataArray><t:FreeBusyViewOptions><t:TimeWindow><t:StartTime>2026-03-25T00:00:00Z</t:StartTime><t:EndTime>2026-03-26T00:00:00Z</t:EndTime></t:TimeWindow><t:RequestedView>DetailedMerged</t:RequestedView></t:FreeBusyViewOptions></m:GetUserAvailabilityRequest>`
	gus := `<GetUserSettingsRequestMessage xmlns="http://schemas.microsoft.com/exchange/2010/Autodiscover"><Request><Users><User><Mailbox>alice@contoso.example</Mailbox></User></Users><RequestedSettings><Setting>ExternalEwsUrl</Setting><Setting>ExternalEwsVersion</Setting></RequestedSettings><RequestedVersion>Exchange2010</RequestedVersion></Request></GetUserSettingsRequestMessage>`
	post := func(path, body string) (int, string) {
		resp, err := http.Post(srv.URL+path, "text/xml; charset=utf-8", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	gmt := `<m:GetMailTips><m:SendingAs><t:EmailAddress>someone@trust.example</t:EmailAddress></m:SendingAs><m:Recipients><t:Mailbox><t:EmailAddress>emma@contoso.example</t:EmailAddress></t:Mailbox><t:Mailbox><t:EmailAddress>nobody@contoso.example</t:EmailAddress></t:Mailbox></m:Recipients><m:MailTipsRequested>All</m:MailTipsRequested></m:GetMailTips>`
	freeBusy := mint(federation.OfferFreeBusy, "someone@trust.example", ours.Cert)
	tests := []struct {
		name, path, body string
		status           int
		want             string
	}{
		{"free/busy with a token of trust.example: Alice's subjects", "/EWS/Exchange.asmx/WSSecurity", envelope(sec(freeBusy), gua), 200, "<Subject>Team stand-up (moved)</Subject>"},
		{"the same token again, within the offer's lifetime", "/EWS/Exchange.asmx/WSSecurity", envelope(sec(freeBusy), gua), 200, "<Subject>Team stand-up (moved)</Subject>"},
		{"partner.example sees times only", "/ews/exchange.asmx/wssecurity", envelope(sec(mint(federation.OfferFreeBusy, "x@partner.example", ours.Cert)), gua), 200, "<FreeBusyViewType xmlns=\"http://schemas.microsoft.com/exchange/services/2006/types\">FreeBusyMerged</FreeBusyViewType>"},
		{"kelvin.example sees times only", "/EWS/Exchange.asmx/WSSecurity", envelope(sec(mint(federation.OfferFreeBusy, "x@kelvin.example", ours.Cert)), gua), 200, "FreeBusyMerged"},
		{"a KELVIN SIGN spelling of kelvin.example: refused, not kelvin.example's access", "/EWS/Exchange.asmx/WSSecurity", envelope(sec(mint(federation.OfferFreeBusy, "x@\u212Aelvin.example", ours.Cert)), gua), 401, ""},
		{"a U-label spelling of a partner's domain that has none", "/EWS/Exchange.asmx/WSSecurity", envelope(sec(mint(federation.OfferFreeBusy, "x@bücher.example", ours.Cert)), gua), 200, "<ResponseCode>ErrorNoFreeBusyAccess</ResponseCode>"},
		{"a stranger's token: no access, as from Exchange", "/EWS/Exchange.asmx/WSSecurity", envelope(sec(mint(federation.OfferFreeBusy, "x@stranger.example", ours.Cert)), gua), 200, "<ResponseCode>ErrorNoFreeBusyAccess</ResponseCode>"},
		{"an Autodiscover token on EWS", "/EWS/Exchange.asmx/WSSecurity", envelope(sec(mint(federation.OfferAutodiscover, "someone@trust.example", ours.Cert)), gua), 500, "Access is denied. Check credentials and try again."},
		{"a token for another organisation's key", "/EWS/Exchange.asmx/WSSecurity", envelope(sec(mint(federation.OfferFreeBusy, "someone@trust.example", issuer.Cert)), gua), 500, "An error occurred when processing the security tokens in the message."},
		{"a free/busy token past its offer's lifetime", "/EWS/Exchange.asmx/WSSecurity", envelope(sec(mintAt(federation.OfferFreeBusy, "someone@trust.example", ours.Cert, time.Now().Add(-11*time.Minute), "FYDIBOHF25SPDLT.contoso.example")), gua), 401, ""},
		{"a token for another audience", "/EWS/Exchange.asmx/WSSecurity", envelope(sec(mintAt(federation.OfferFreeBusy, "someone@trust.example", ours.Cert, time.Now(), "FYDIBOHF25SPDLT.other.example")), gua), 401, ""},
		{"no Security header", "/EWS/Exchange.asmx/WSSecurity", envelope("", gua), 500, "InvalidSecurity"},
		{"two Security headers", "/EWS/Exchange.asmx/WSSecurity", envelope(sec(mint(federation.OfferFreeBusy, "a@trust.example", ours.Cert))+sec(mint(federation.OfferFreeBusy, "b@trust.example", ours.Cert)), gua), 500, "InvalidSecurity"},
		{"Autodiscover settings with a token", "/autodiscover/autodiscover.svc/WSSecurity", envelope(sec(mint(federation.OfferAutodiscover, "someone@trust.example", ours.Cert)), gus), 200, "<Name>ExternalEwsUrl</Name>"},
		{"Autodiscover with a free/busy token", "/autodiscover/autodiscover.svc/WSSecurity", envelope(sec(mint(federation.OfferFreeBusy, "someone@trust.example", ours.Cert)), gus), 401, ""},
		{"MailTips with a MailTips token", "/EWS/Exchange.asmx/WSSecurity", envelope(sec(mint(federation.OfferMailTips, "someone@trust.example", ours.Cert)), gmt), 200, "Emma is on parental leave."},
		{"MailTips: an unknown recipient", "/EWS/Exchange.asmx/WSSecurity", envelope(sec(mint(federation.OfferMailTips, "someone@trust.example", ours.Cert)), gmt), 200, "<t:InvalidRecipient>true</t:InvalidRecipient>"},
		{"MailTips with a free/busy token", "/EWS/Exchange.asmx/WSSecurity", envelope(sec(mint(federation.OfferFreeBusy, "someone@trust.example", ours.Cert)), gmt), 500, "ErrorAccessDenied"},
		{"free/busy with a MailTips token", "/EWS/Exchange.asmx/WSSecurity", envelope(sec(mint(federation.OfferMailTips, "someone@trust.example", ours.Cert)), gua), 500, "ErrorAccessDenied"},
		{"MailTips with an Autodiscover token", "/EWS/Exchange.asmx/WSSecurity", envelope(sec(mint(federation.OfferAutodiscover, "someone@trust.example", ours.Cert)), gmt), 500, "ErrorAccessDenied"},
		{"MailTips, a stranger's token: nothing", "/EWS/Exchange.asmx/WSSecurity", envelope(sec(mint(federation.OfferMailTips, "x@stranger.example", ours.Cert)), gmt), 200, "<t:PendingMailTips/></m:MailTips>"},
		{"MailTips over Basic without credentials", "/EWS/Exchange.asmx", envelope("", gmt), 401, ""},
	}
	for _, tt := range tests {
		status, body := post(tt.path, tt.body)
		if status != tt.status || !strings.Contains(body, tt.want) || (status == http.StatusUnauthorized && body != "") {
			t.Errorf("%s: %d, want %d with %q\n%.1500s", tt.name, status, tt.status, tt.want, body)
		}
	}
	// The public message never says why.
	_, body := post("/EWS/Exchange.asmx/WSSecurity", envelope(sec(mint(federation.OfferAutodiscover, "someone@trust.example", ours.Cert)), gua))
	if bytes.Contains([]byte(body), []byte("offer")) {
		t.Errorf("the fault leaks the reason: %s", body)
	}

	// A policy the store has not confirmed for longer than its bound
	// (reloads failing) answers no verified caller, on any endpoint, but
	// 503; anonymous callers are served. docs/protocol.md §1.8.
	late.Store(int64(live.DefaultMaxAge + time.Minute))
	basic := func(path, body string) (int, string) {
		req, _ := http.NewRequest(http.MethodPost, srv.URL+path, strings.NewReader(body))
		req.Header.Set("Content-Type", "text/xml; charset=utf-8")
		req.SetBasicAuth("svc-partner", "router-test-secret")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if resp.StatusCode == http.StatusServiceUnavailable && resp.Header.Get("Retry-After") == "" {
			t.Errorf("%s: 503 without Retry-After", path)
		}
		return resp.StatusCode, string(b)
	}
	pox := `<Autodiscover xmlns="http://schemas.microsoft.com/exchange/autodiscover/outlook/requestschema/2006"><Request><EMailAddress>alice@contoso.example</EMailAddress><AcceptableResponseSchema>http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a</AcceptableResponseSchema></Request></Autodiscover>`
	fed := envelope("", `<GetFederationInformationRequestMessage xmlns="http://schemas.microsoft.com/exchange/2010/Autodiscover"><Request><Domain>contoso.example</Domain></Request></GetFederationInformationRequestMessage>`)
	stale := []struct {
		name   string
		ask    func(path, body string) (int, string)
		path   string
		body   string
		status int
	}{
		{"free/busy with a token", post, "/EWS/Exchange.asmx/WSSecurity", envelope(sec(mint(federation.OfferFreeBusy, "someone@trust.example", ours.Cert)), gua), 503},
		{"MailTips with a token", post, "/EWS/Exchange.asmx/WSSecurity", envelope(sec(mint(federation.OfferMailTips, "someone@trust.example", ours.Cert)), gmt), 503},
		{"Autodiscover with a token", post, "/autodiscover/autodiscover.svc/WSSecurity", envelope(sec(mint(federation.OfferAutodiscover, "someone@trust.example", ours.Cert)), gus), 503},
		{"free/busy over Basic", basic, "/EWS/Exchange.asmx", envelope("", gua), 503},
		{"MailTips over Basic", basic, "/EWS/Exchange.asmx", envelope("", gmt), 503},
		{"SOAP Autodiscover over Basic", basic, "/autodiscover/autodiscover.svc", envelope("", gus), 503},
		{"POX Autodiscover over Basic", basic, "/autodiscover/autodiscover.xml", pox, 503},
		{"anonymous GetFederationInformation", post, "/autodiscover/autodiscover.svc", fed, 200},
		{"a refused token is still refused as before", post, "/EWS/Exchange.asmx/WSSecurity", envelope("", gua), 500},
	}
	for _, tt := range stale {
		if status, body := tt.ask(tt.path, tt.body); status != tt.status {
			t.Errorf("stale policy, %s: %d, want %d\n%.500s", tt.name, status, tt.status, body)
		}
	}
	// Confirmed again: served.
	if err := policy.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	if status, body := post("/EWS/Exchange.asmx/WSSecurity", envelope(sec(mint(federation.OfferFreeBusy, "someone@trust.example", ours.Cert)), gua)); status != 200 {
		t.Errorf("confirmed again: %d\n%.500s", status, body)
	}
}
