package partner

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

	"github.com/calfed/calfed/calendar"
	"github.com/calfed/calfed/certs"
	"github.com/calfed/calfed/delegation"
	"github.com/calfed/calfed/federation"
	"github.com/calfed/calfed/freebusy"
	"github.com/calfed/calfed/internal/identity"
	"github.com/calfed/calfed/sts"
)

var t0 = time.Date(2026, 3, 24, 9, 0, 0, 0, time.UTC)

type ring []*certs.Certificate

func (r ring) ForKeyIdentifier(ski []byte) (*certs.Certificate, bool) {
	for _, c := range r {
		if string(c.SKI()) == string(ski) {
			return c, true
		}
	}
	return nil, false
}

func gen(t *testing.T, cn string) *certs.Certificate {
	t.Helper()
	c, err := certs.Generate(cn, t0.AddDate(0, -1, 0))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// The development token issuer, token acquisition and the validator
// together: A asks B for free/busy with tokens B's guards accept; B's
// answers reach A as results.
func TestFreeBusyThroughSTS(t *testing.T) {
	a, b, issuer := gen(t, "Federation A"), gen(t, "Federation B"), gen(t, "Token issuer")
	ctx := context.Background()
	now := func() time.Time { return t0.Add(time.Minute) }
	s := &sts.STS{IssuerURI: "urn:federation:calfed-dev", Now: now, Orgs: []sts.Organization{
		{Name: "A", ApplicationURI: "FYDIBOHF25SPDLT.a.example", Domains: []string{"a.example"}, Certificate: a.Cert},
		{Name: "B", ApplicationURI: "FYDIBOHF25SPDLT.b.example", Domains: []string{"b.example"}, Certificate: b.Cert},
	}}
	s.SetSigners(issuer, nil)
	stsSrv := httptest.NewServer(s)
	defer stsSrv.Close()
	s.Endpoint = stsSrv.URL

	// B's endpoints, behind guards that trust the issuer.
	v := &federation.Validator{Trust: func() *federation.Trust {
		return &federation.Trust{Keys: ring{b}, Issuers: []*x509.Certificate{issuer.Cert}, ApplicationURI: "FYDIBOHF25SPDLT.b.example"}
	}}
	var ewsURL string
	mux := http.NewServeMux()
	mux.Handle("/autodiscover/autodiscover.svc/WSSecurity", (&federation.Guard{Validator: v, Offer: federation.OfferAutodiscover, Now: now, Refuse: federation.RefuseAutodiscover}).Wrap(
		http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
			io.WriteString(rw, `<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body><GetUserSettingsResponseMessage xmlns="http://schemas.microsoft.com/exchange/2010/Autodiscover"><Response><UserResponses><UserResponse><ErrorCode>NoError</ErrorCode><UserSettings><UserSetting><Name>ExternalEwsUrl</Name><Value>`+ewsURL+`</Value></UserSetting></UserSettings></UserResponse></UserResponses></Response></GetUserSettingsResponseMessage></s:Body></s:Envelope>`)
		})))
	mux.Handle("/EWS/Exchange.asmx/WSSecurity", (&federation.Guard{Validator: v, Offer: federation.OfferFreeBusy, Now: now, Refuse: federation.RefuseEWS}).Wrap(
		http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
			c, _ := identity.FromContext(r.Context())
			io.WriteString(rw, `<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body><GetUserAvailabilityResponse xmlns="http://schemas.microsoft.com/exchange/services/2006/messages"><FreeBusyResponseArray><FreeBusyResponse><ResponseMessage ResponseClass="Success"><ResponseCode>NoError</ResponseCode></ResponseMessage><FreeBusyView><FreeBusyViewType xmlns="http://schemas.microsoft.com/exchange/services/2006/types">FreeBusy</FreeBusyViewType><CalendarEventArray xmlns="http://schemas.microsoft.com/exchange/services/2006/types"><CalendarEvent><StartTime>2026-03-24T10:00:00</StartTime><EndTime>2026-03-24T11:00:00</EndTime><BusyType>Busy</BusyType><CalendarEventDetails><Subject>for `+c.Email+`</Subject></CalendarEventDetails></CalendarEvent></CalendarEventArray></FreeBusyView></FreeBusyResponse><FreeBusyResponse><ResponseMessage ResponseClass="Error"><MessageText>No mailbox with such guid.</MessageText><ResponseCode>ErrorMailRecipientNotFound</ResponseCode></ResponseMessage></FreeBusyResponse></FreeBusyResponseArray></GetUserAvailabilityResponse></s:Body></s:Envelope>`)
		})))
	bSrv := httptest.NewServer(mux)
	defer bSrv.Close()
	ewsURL = bSrv.URL + "/EWS/Exchange.asmx"

	tokens := &delegation.Client{Certificate: a, ApplicationURI: "FYDIBOHF25SPDLT.a.example", IssuerURI: s.IssuerURI, IssuerEndpoint: stsSrv.URL, Now: now}
	client := &Client{Tokens: tokens}
	q := Query{User: "alice@a.example", Query: freebusy.Query{Mailboxes: []string{"bob@b.example", "nobody@b.example"}, Start: t0, End: t0.Add(24 * time.Hour), View: freebusy.ViewFreeBusy}}
	got, err := client.FreeBusy(ctx, Partner{ApplicationURI: "FYDIBOHF25SPDLT.b.example", AutodiscoverEPR: bSrv.URL + "/autodiscover/autodiscover.svc"}, q)
	if err != nil {
		t.Fatal(err)
	}
	want := []Result{
		{Mailbox: "bob@b.example", Code: "NoError", View: freebusy.ViewFreeBusy, Busy: []BusyPeriod{
			{Start: time.Date(2026, 3, 24, 10, 0, 0, 0, time.UTC), End: time.Date(2026, 3, 24, 11, 0, 0, 0, time.UTC), Busy: calendar.Busy, Subject: "for alice@a.example"}}},
		{Mailbox: "nobody@b.example", Code: "ErrorMailRecipientNotFound", Message: "No mailbox with such guid."},
	}
	if len(got) != len(want) {
		t.Fatalf("FreeBusy = %+v, want %+v", got, want)
	}
	for i := range want {
		g, w := got[i], want[i]
		if g.Mailbox != w.Mailbox || g.Code != w.Code || g.Message != w.Message || g.View != w.View || g.Merged != w.Merged || len(g.Busy) != len(w.Busy) {
			t.Errorf("FreeBusy[%d] = %+v, want %+v", i, g, w)
			continue
		}
		for j := range w.Busy {
			if gb, wb := g.Busy[j], w.Busy[j]; !gb.Start.Equal(wb.Start) || !gb.End.Equal(wb.End) || gb.Busy != wb.Busy || gb.Subject != wb.Subject {
				t.Errorf("FreeBusy[%d].Busy[%d] = %+v, want %+v", i, j, gb, wb)
			}
		}
	}

	// The issuer rolls its certificate: B trusts the new one once it
	// refreshes, and the previous one still.
	next := gen(t, "Token issuer (next)")
	s.SetSigners(next, issuer)
	direct := Partner{ApplicationURI: "FYDIBOHF25SPDLT.b.example", SharingEPR: ewsURL}
	q.End = t0.Add(time.Hour)
	if _, err := client.FreeBusy(ctx, direct, q); err == nil || !strings.Contains(err.Error(), "HTTP 500") {
		t.Errorf("before B refreshes, a token signed by the new certificate: %v", err)
	}
	v.Trust = func() *federation.Trust {
		return &federation.Trust{Keys: ring{b}, Issuers: []*x509.Certificate{next.Cert, issuer.Cert}, ApplicationURI: "FYDIBOHF25SPDLT.b.example"}
	}
	if _, err := client.FreeBusy(ctx, direct, q); err != nil {
		t.Errorf("after B refreshes: %v", err)
	}
}

func TestWSSecurityURL(t *testing.T) {
	for in, want := range map[string]string{
		"https://x.example/EWS/Exchange.asmx":             "https://x.example/EWS/Exchange.asmx/WSSecurity",
		"https://x.example/EWS/Exchange.asmx/":            "https://x.example/EWS/Exchange.asmx/WSSecurity",
		"https://x.example/EWS/Exchange.asmx/wssecurity":  "https://x.example/EWS/Exchange.asmx/wssecurity",
		"https://x.example/autodiscover/autodiscover.svc": "https://x.example/autodiscover/autodiscover.svc/WSSecurity",
	} {
		if got := WSSecurityURL(in); got != want {
			t.Errorf("WSSecurityURL(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestFreeBusyRefusesWithoutAnEndpoint(t *testing.T) {
	c := &Client{Tokens: &delegation.Client{}}
	if _, err := c.FreeBusy(context.Background(), Partner{ApplicationURI: "x"}, Query{Query: freebusy.Query{Mailboxes: []string{"a@b.example"}}}); !errors.Is(err, ErrNoEndpoint) {
		t.Errorf("FreeBusy without endpoints = %v, want ErrNoEndpoint", err)
	}
	if _, err := c.FreeBusy(context.Background(), Partner{}, Query{}); !errors.Is(err, ErrNoMailbox) {
		t.Errorf("FreeBusy without mailboxes = %v, want ErrNoMailbox", err)
	}
}
