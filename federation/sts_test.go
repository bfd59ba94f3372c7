package federation

import (
	"context"
	"crypto/x509"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/beevik/etree"

	"github.com/calfed/calfed/certs"
	"github.com/calfed/calfed/internal/identity"
)

// The development token issuer and the outbound client together: our
// client gets tokens for a partner, which a guard in front of the
// partner's endpoints accepts.
func TestClientThroughSTS(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	now := func() time.Time { return t0.Add(time.Minute) }
	sts := &STS{IssuerURI: "urn:federation:calfed-dev", Now: now, Orgs: []Organization{
		{Name: "A", ApplicationURI: "FYDIBOHF25SPDLT.a.example", Domains: []string{"a.example"}, Certificate: w.other.Cert},
		{Name: "B", ApplicationURI: "FYDIBOHF25SPDLT.b.example", Domains: []string{"b.example"}, Certificate: w.ours.Cert},
	}}
	sts.SetSigners(w.issuer, nil)
	stsSrv := httptest.NewServer(sts)
	defer stsSrv.Close()
	sts.Endpoint = stsSrv.URL

	// B's endpoints, behind guards that trust the issuer.
	v := &Validator{Trust: func() *Trust {
		return &Trust{Keys: ring{w.ours}, Issuers: []*x509.Certificate{w.issuer.Cert}, ApplicationURI: "FYDIBOHF25SPDLT.b.example"}
	}}
	var ewsURL string
	mux := http.NewServeMux()
	mux.Handle("/autodiscover/autodiscover.svc/WSSecurity", (&Guard{Validator: v, Offer: OfferAutodiscover, Now: now, Refuse: Unauthorized}).Wrap(
		http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
			io.WriteString(rw, `<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body><GetUserSettingsResponseMessage xmlns="http://schemas.microsoft.com/exchange/2010/Autodiscover"><Response><UserResponses><UserResponse><ErrorCode>NoError</ErrorCode><UserSettings><UserSetting><Name>ExternalEwsUrl</Name><Value>`+ewsURL+`</Value></UserSetting></UserSettings></UserResponse></UserResponses></Response></GetUserSettingsResponseMessage></s:Body></s:Envelope>`)
		})))
	mux.Handle("/EWS/Exchange.asmx/WSSecurity", (&Guard{Validator: v, Offer: OfferFreeBusy, Now: now, Refuse: SecurityFault}).Wrap(
		http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
			c, _ := identity.FromContext(r.Context())
			io.WriteString(rw, `<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body><GetUserAvailabilityResponse xmlns="http://schemas.microsoft.com/exchange/services/2006/messages"><FreeBusyResponseArray><FreeBusyResponse><ResponseMessage ResponseClass="Success"><ResponseCode>NoError</ResponseCode></ResponseMessage><FreeBusyView><FreeBusyViewType xmlns="http://schemas.microsoft.com/exchange/services/2006/types">FreeBusy</FreeBusyViewType><CalendarEventArray xmlns="http://schemas.microsoft.com/exchange/services/2006/types"><CalendarEvent><StartTime>2026-03-24T10:00:00</StartTime><EndTime>2026-03-24T11:00:00</EndTime><BusyType>Busy</BusyType><CalendarEventDetails><Subject>for `+c.Email+`</Subject></CalendarEventDetails></CalendarEvent></CalendarEventArray></FreeBusyView></FreeBusyResponse></FreeBusyResponseArray></GetUserAvailabilityResponse></s:Body></s:Envelope>`)
		})))
	b := httptest.NewServer(mux)
	defer b.Close()
	ewsURL = b.URL + "/EWS/Exchange.asmx"

	client := &Client{Certificate: w.other, ApplicationURI: "FYDIBOHF25SPDLT.a.example", IssuerURI: sts.IssuerURI, IssuerEndpoint: stsSrv.URL, Now: now}
	ans, err := client.FreeBusy(ctx, Partner{ApplicationURI: "FYDIBOHF25SPDLT.b.example", AutodiscoverEPR: b.URL + "/autodiscover/autodiscover.svc"},
		FreeBusyQuery{User: "alice@a.example", Mailboxes: []string{"bob@b.example"}, Start: t0, End: t0.Add(24 * time.Hour), View: "FreeBusy"})
	if err != nil {
		t.Fatal(err)
	}
	if len(ans) != 1 || ans[0].ResponseCode != "NoError" || len(ans[0].Events) != 1 || ans[0].Events[0].Subject != "for alice@a.example" {
		t.Fatalf("answer %+v", ans)
	}

	// The issuer refuses: a user outside the requester's domains, a target
	// nobody registered, a requester whose key it does not know.
	if _, err := client.Token(ctx, "mallory@b.example", "FYDIBOHF25SPDLT.b.example", OfferFreeBusy); err == nil {
		t.Error("a token for a user of another organisation")
	}
	if _, err := client.Token(ctx, "alice@a.example", "FYDIBOHF25SPDLT.nobody.example", OfferFreeBusy); err == nil {
		t.Error("a token for an unregistered target")
	}
	rogue := *client
	rogue.Certificate = w.rogue
	if _, err := rogue.Token(ctx, "alice@a.example", "FYDIBOHF25SPDLT.b.example", OfferFreeBusy); err == nil {
		t.Error("a token for an unknown requester")
	}

	// The issuer rolls its certificate: B trusts the new one once it
	// refreshes, and the previous one still.
	next, _ := certs.Generate("Token issuer (next)", t0.AddDate(0, -1, 0))
	sts.SetSigners(next, w.issuer)
	if _, err := client.FreeBusy(ctx, Partner{ApplicationURI: "FYDIBOHF25SPDLT.b.example", SharingEPR: ewsURL},
		FreeBusyQuery{User: "alice@a.example", Mailboxes: []string{"bob@b.example"}, Start: t0, End: t0.Add(time.Hour), View: "FreeBusy"}); err == nil ||
		!strings.Contains(err.Error(), "HTTP 500") {
		t.Errorf("before B refreshes, a token signed by the new certificate: %v", err)
	}
	v.Trust = func() *Trust {
		return &Trust{Keys: ring{w.ours}, Issuers: []*x509.Certificate{next.Cert, w.issuer.Cert}, ApplicationURI: "FYDIBOHF25SPDLT.b.example"}
	}
	if _, err := client.FreeBusy(ctx, Partner{ApplicationURI: "FYDIBOHF25SPDLT.b.example", SharingEPR: ewsURL},
		FreeBusyQuery{User: "alice@a.example", Mailboxes: []string{"bob@b.example"}, Start: t0, End: t0.Add(time.Hour), View: "FreeBusy"}); err != nil {
		t.Errorf("after B refreshes: %v", err)
	}
}

// The issuer refuses token requests whose message signature fails.
func TestSTSChecksTheMessageSignature(t *testing.T) {
	w := newWorld(t)
	now := t0.Add(time.Minute)
	sts := &STS{IssuerURI: "urn:dev", Orgs: []Organization{
		{Name: "A", ApplicationURI: "FYDIBOHF25SPDLT.a.example", Domains: []string{"a.example"}, Certificate: w.other.Cert},
		{Name: "B", ApplicationURI: "FYDIBOHF25SPDLT.b.example", Domains: []string{"b.example"}, Certificate: w.ours.Cert},
	}}
	sts.SetSigners(w.issuer, nil)
	c := &Client{Certificate: w.other, ApplicationURI: "FYDIBOHF25SPDLT.a.example", IssuerURI: "urn:dev", IssuerEndpoint: "https://sts.example/extSTS.srf",
		Now: func() time.Time { return now }}
	rst, err := c.requestSecurityToken("alice@a.example", "FYDIBOHF25SPDLT.b.example", OfferFreeBusy)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := sts.issue(rst, now); err != nil {
		t.Fatalf("a well-signed request: %v", err)
	}
	edit := func(f func(d *etree.Document)) []byte {
		d := etree.NewDocument()
		d.ReadFromBytes(rst)
		f(d)
		b, _ := d.WriteToBytes()
		return b
	}
	tests := map[string][]byte{
		"To changed after signing": edit(func(d *etree.Document) { find(d.Root(), nsWSA, "To").SetText("https://elsewhere.example/") }),
		"Timestamp removed":        edit(func(d *etree.Document) { ts := find(d.Root(), nsWSU, "Timestamp"); ts.Parent().RemoveChild(ts) }),
		"signature removed":        edit(func(d *etree.Document) { s := find(d.Root(), nsDSig, "SignedInfo").Parent(); s.Parent().RemoveChild(s) }),
		"a duplicate Id": edit(func(d *etree.Document) {
			ts := find(d.Root(), nsWSU, "Timestamp")
			ts.Parent().AddChild(ts.Copy())
		}),
	}
	for name, body := range tests {
		if _, err := sts.issue(body, now); !errors.Is(err, ErrRequest) {
			t.Errorf("%s: %v", name, err)
		}
	}
	if _, err := sts.issue(rst, now.Add(time.Hour)); !errors.Is(err, ErrRequest) {
		t.Errorf("an hour-old request: %v", err)
	}
	// Signed by B's key but speaking for a user of A: the assertion's
	// signer must be the requester.
	forged := *c
	forged.Certificate = w.ours
	body, _ := forged.requestSecurityToken("alice@a.example", "FYDIBOHF25SPDLT.b.example", OfferFreeBusy)
	if _, err := sts.issue(body, now); !errors.Is(err, ErrRequest) {
		t.Errorf("B asking for A's user: %v", err)
	}
}
