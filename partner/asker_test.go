package partner

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/calfed/calfed/calendar"
	"github.com/calfed/calfed/freebusy"
	"github.com/calfed/calfed/internal/outbound"
	"github.com/calfed/calfed/orgrel"
	"github.com/calfed/calfed/store"
)

var addressRE = regexp.MustCompile(`<t:Address>([^<]*)</t:Address>`)

// fakeExchange answers GetUserAvailability with a canned file from
// testdata (MAILBOXn replaced by the addresses asked about), or, with no
// file, NoError and one busy hour for every mailbox asked about.
type fakeExchange struct {
	file     string
	requests atomic.Int32
	// wait, when set, is waited for before answering (or the request's
	// end, whichever comes first).
	wait <-chan struct{}
	// status, when not 200, is answered instead.
	status int
	// auth, when set, is the Basic credentials required.
	user, secret string

	mu        sync.Mutex
	mailboxes [][]string
	tokens    int
}

func (f *fakeExchange) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.requests.Add(1)
	body, _ := io.ReadAll(r.Body)
	var asked []string
	for _, m := range addressRE.FindAllSubmatch(body, -1) {
		asked = append(asked, string(m[1]))
	}
	f.mu.Lock()
	f.mailboxes = append(f.mailboxes, asked)
	if strings.Contains(string(body), "EncryptedData") {
		f.tokens++
	}
	f.mu.Unlock()
	if f.wait != nil {
		select {
		case <-f.wait:
		case <-r.Context().Done():
			return
		}
	}
	if f.user != "" {
		if u, p, ok := r.BasicAuth(); !ok || u != f.user || p != f.secret {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
	}
	if f.status != 0 && f.status != 200 {
		w.WriteHeader(f.status)
		return
	}
	w.Header().Set("Content-Type", "text/xml; charset=utf-8")
	if f.file != "" {
		data, err := os.ReadFile("testdata/" + f.file)
		if err != nil {
			panic(err)
		}
		s := string(data)
		for i, a := range asked {
			s = strings.ReplaceAll(s, fmt.Sprintf("MAILBOX%d", i+1), a)
		}
		io.WriteString(w, s)
		return
	}
	var b strings.Builder
	b.WriteString(`<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body><GetUserAvailabilityResponse xmlns="http://schemas.microsoft.com/exchange/services/2006/messages"><FreeBusyResponseArray>`)
	for range asked {
		b.WriteString(`<FreeBusyResponse><ResponseMessage ResponseClass="Success"><ResponseCode>NoError</ResponseCode></ResponseMessage><FreeBusyView><FreeBusyViewType xmlns="http://schemas.microsoft.com/exchange/services/2006/types">FreeBusy</FreeBusyViewType><CalendarEventArray xmlns="http://schemas.microsoft.com/exchange/services/2006/types"><CalendarEvent><StartTime>2026-03-24T10:00:00</StartTime><EndTime>2026-03-24T11:00:00</EndTime><BusyType>Busy</BusyType></CalendarEvent></CalendarEventArray></FreeBusyView></FreeBusyResponse>`)
	}
	b.WriteString(`</FreeBusyResponseArray></GetUserAvailabilityResponse></s:Body></s:Envelope>`)
	io.WriteString(w, b.String())
}

type fakeTokens struct{ issued atomic.Int32 }

func (f *fakeTokens) Token(ctx context.Context, user, uri, offer string) ([]byte, error) {
	f.issued.Add(1)
	return []byte(`<xenc:EncryptedData xmlns:xenc="http://www.w3.org/2001/04/xmlenc#" Id="t"/>`), nil
}

type creds map[string]orgrel.OutboundCredential

func (c creds) OutboundCredential(ctx context.Context, rel string) (orgrel.OutboundCredential, error) {
	if v, ok := c[strings.ToLower(rel)]; ok {
		return v, nil
	}
	return orgrel.OutboundCredential{}, fmt.Errorf("%w: none", store.ErrNotFound)
}

func rel(name, domain, ewsURL string) orgrel.Relationship {
	return orgrel.Relationship{Name: name, Domains: []string{domain}, Enabled: true, FreeBusyAccessEnabled: true,
		FreeBusyAccessLevel: orgrel.AvailabilityOnly, TargetApplicationURI: "FYDIBOHF25SPDLT." + domain, TargetSharingEPR: ewsURL}
}

func query() *freebusy.Query {
	return &freebusy.Query{Start: t0, End: t0.Add(24 * time.Hour), View: freebusy.ViewFreeBusyMerged, Interval: time.Hour}
}

// Exchange's documented answer shapes, per-mailbox errors included,
// reach our users as results with the partner's codes and messages.
func TestAskerCannedExchange(t *testing.T) {
	fx := &fakeExchange{file: "exchange-freebusymerged.xml"}
	srv := httptest.NewServer(fx)
	defer srv.Close()
	a := &Asker{Relationships: Static{rel("B", "b.example", srv.URL+"/EWS/Exchange.asmx")}, Tokens: &fakeTokens{}}
	got := a.Ask(context.Background(), "alice@a.example", query(), []string{"bob@b.example", "nobody@b.example", "carol@b.example"})
	if n := fx.requests.Load(); n != 1 {
		t.Errorf("%d requests for three mailboxes of one partner, want 1", n)
	}
	if len(got) != 3 {
		t.Fatalf("Ask = %+v", got)
	}
	bob := got[0]
	if bob.Outcome != freebusy.OK || bob.ResponseCode() != "NoError" || bob.View != freebusy.ViewFreeBusyMerged || string(bob.Merged) != "000000000022100000000000" || len(bob.Events) != 2 {
		t.Fatalf("bob = %+v", bob)
	}
	if wh := bob.WorkingHours; wh == nil || len(wh.Days) != 5 || wh.Start != 8*time.Hour || wh.End != 17*time.Hour || bob.Zone == nil ||
		t0.In(bob.Zone).Hour() != 9 || time.Date(2026, 6, 1, 9, 0, 0, 0, time.UTC).In(bob.Zone).Hour() != 10 { // GMT in March, BST in June
		t.Errorf("bob's working hours = %+v in %v", wh, bob.Zone)
	}
	want := []struct {
		start, end int
		busy       calendar.BusyType
	}{{10, 12, calendar.Busy}, {12, 12, calendar.Tentative}}
	for i, w := range want {
		e := bob.Events[i]
		if e.Start.Hour() != w.start || e.Busy != w.busy || e.Subject() != "" {
			t.Errorf("bob's event %d = %+v", i, e)
		}
	}
	if got[1].Outcome != freebusy.NotFound || got[1].ResponseCode() != "ErrorMailRecipientNotFound" || !strings.Contains(got[1].Message, "nobody@b.example") {
		t.Errorf("nobody = %+v", got[1])
	}
	if got[2].Outcome != freebusy.NoAccess || got[2].ResponseCode() != "ErrorNoFreeBusyAccess" || !strings.Contains(got[2].Message, "does not have access") {
		t.Errorf("carol (opted out) = %+v", got[2])
	}
	// Ours tagged with the token: a federated request.
	if fx.tokens != 1 {
		t.Errorf("the request carried %d tokens", fx.tokens)
	}

	fx2 := &fakeExchange{file: "exchange-detailedmerged.xml"}
	srv2 := httptest.NewServer(fx2)
	defer srv2.Close()
	a = &Asker{Relationships: Static{rel("C", "c.example", srv2.URL+"/EWS/Exchange.asmx")}, Tokens: &fakeTokens{}}
	q := query()
	q.View = freebusy.ViewDetailedMerged
	got = a.Ask(context.Background(), "alice@a.example", q, []string{"dan@c.example"})
	d := got[0]
	if d.Outcome != freebusy.OK || d.View != freebusy.ViewDetailedMerged || len(d.Events) != 3 {
		t.Fatalf("dan = %+v", d)
	}
	if e := d.Events[0]; e.Subject() != "Ward round planning" || e.Location() != "Room 4.12" || e.Private {
		t.Errorf("dan's meeting = %+v %q %q", e, e.Subject(), e.Location())
	}
	if e := d.Events[1]; !e.Private || e.Subject() != "" {
		t.Errorf("dan's private item = %+v", e)
	}
	if e := d.Events[2]; e.Busy != calendar.OOF || e.Subject() != "Annual leave" {
		t.Errorf("dan's leave = %+v", e)
	}
}

// One request per partner, at most MaxPerRequest mailboxes each, every
// partner at once; an address no enabled relationship covers is answered
// without asking anyone.
func TestAskerBatchesAndParallel(t *testing.T) {
	release := make(chan struct{})
	var arrived sync.WaitGroup
	arrived.Add(3) // B's two batches and C's one
	var fxs []*fakeExchange
	var rels Static
	for _, name := range []string{"b", "c"} {
		fx := &fakeExchange{wait: release}
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			arrived.Done()
			fx.ServeHTTP(w, r)
		}))
		defer srv.Close()
		fxs = append(fxs, fx)
		rels = append(rels, rel(strings.ToUpper(name), name+".example", srv.URL+"/EWS/Exchange.asmx"))
	}
	disabled := rel("D", "d.example", "http://127.0.0.1:1/EWS/Exchange.asmx")
	disabled.Enabled = false
	rels = append(rels, disabled)
	var addrs []string
	for i := range 150 {
		addrs = append(addrs, fmt.Sprintf("u%d@b.example", i))
	}
	addrs = append(addrs, "x@c.example", "y@d.example", "z@nowhere.example")
	// The partners answer only once all three requests have arrived:
	// asked one after another, the first would wait until its timeout.
	go func() {
		arrived.Wait()
		close(release)
	}()
	a := &Asker{Relationships: rels, Tokens: &fakeTokens{}, Timeout: time.Minute}
	got := a.Ask(context.Background(), "alice@a.example", query(), addrs)
	if n := fxs[0].requests.Load(); n != 2 {
		t.Errorf("B got %d requests for 150 mailboxes, want 2", n)
	}
	for _, m := range fxs[0].mailboxes {
		if len(m) > MaxPerRequest {
			t.Errorf("a request asked about %d mailboxes", len(m))
		}
	}
	for i, r := range got[:151] {
		if r.Outcome != freebusy.OK || r.Address != addrs[i] {
			t.Errorf("result %d = %+v", i, r)
		}
	}
	for _, r := range got[151:] {
		if r.Outcome != freebusy.NoPartner || r.ResponseCode() != "ErrorMailRecipientNotFound" || r.Message == "" {
			t.Errorf("unrelated %s = %+v", r.Address, r)
		}
	}
	if !strings.Contains(got[151].Message, "disabled") {
		t.Errorf("the disabled relationship's message: %q", got[151].Message)
	}
}

// A partner that does not answer in time fails its own mailboxes only;
// after BreakAfter failures it is not asked until BreakFor has passed.
func TestAskerTimeoutAndBreaker(t *testing.T) {
	slow := &fakeExchange{wait: make(chan struct{})} // never released
	slowSrv := httptest.NewServer(slow)
	defer slowSrv.Close()
	fast := &fakeExchange{}
	fastSrv := httptest.NewServer(fast)
	defer fastSrv.Close()
	now := t0
	a := &Asker{Relationships: Static{rel("Slow", "slow.example", slowSrv.URL+"/EWS/Exchange.asmx"), rel("Fast", "fast.example", fastSrv.URL+"/EWS/Exchange.asmx")},
		Tokens: &fakeTokens{}, Timeout: time.Second, BreakAfter: 2, BreakFor: time.Minute, CacheFor: -1,
		Now: func() time.Time { return now }}
	ask := func() []freebusy.Result {
		return a.Ask(context.Background(), "alice@a.example", query(), []string{"s@slow.example", "f@fast.example"})
	}
	for i := range 2 {
		got := ask()
		if got[0].Outcome != freebusy.PartnerFailed || got[0].ResponseCode() != "ErrorTimeoutExpired" || got[1].Outcome != freebusy.OK {
			t.Fatalf("ask %d = %+v", i, got)
		}
	}
	if n := slow.requests.Load(); n != 2 {
		t.Fatalf("slow asked %d times", n)
	}
	got := ask()
	if got[0].Outcome != freebusy.PartnerFailed || !strings.Contains(got[0].Message, "not asked") || got[1].Outcome != freebusy.OK {
		t.Errorf("with the breaker open = %+v", got)
	}
	if n := slow.requests.Load(); n != 2 {
		t.Errorf("slow asked %d times with its breaker open", n)
	}
	now = now.Add(time.Minute)
	ask()
	if n := slow.requests.Load(); n != 3 {
		t.Errorf("slow asked %d times after BreakFor, want a third try", n)
	}
}

// Answers are kept CacheFor, per user and window; tokens are reused.
func TestAskerCache(t *testing.T) {
	fx := &fakeExchange{}
	srv := httptest.NewServer(fx)
	defer srv.Close()
	now := t0
	tokens := &fakeTokens{}
	a := &Asker{Relationships: Static{rel("B", "b.example", srv.URL+"/EWS/Exchange.asmx")}, Tokens: tokens, CacheFor: 30 * time.Second,
		Now: func() time.Time { return now }}
	ask := func(user string) freebusy.Result {
		return a.Ask(context.Background(), user, query(), []string{"bob@b.example"})[0]
	}
	ask("alice@a.example")
	if r := ask("alice@a.example"); r.Outcome != freebusy.OK || fx.requests.Load() != 1 {
		t.Errorf("a second ask within CacheFor: %+v, %d requests", r, fx.requests.Load())
	}
	ask("zoe@a.example")
	if fx.requests.Load() != 2 {
		t.Errorf("another user's ask was answered from the cache")
	}
	now = now.Add(31 * time.Second)
	ask("alice@a.example")
	if fx.requests.Load() != 3 {
		t.Errorf("an ask after CacheFor was answered from the cache")
	}
	if n := tokens.issued.Load(); n != 2 {
		t.Errorf("%d tokens issued for two users, want 2 (reused within their offer's lifetime)", n)
	}
}

// Cross-forest: the credentials the partner gave us, over Basic
// authentication, and no token.
func TestAskerCrossForest(t *testing.T) {
	fx := &fakeExchange{file: "exchange-freebusymerged.xml", user: "svc-contoso", secret: "their-secret-for-us"}
	srv := httptest.NewServer(fx)
	defer srv.Close()
	r := rel("B", "b.example", srv.URL+"/EWS/Exchange.asmx")
	r.TargetApplicationURI = ""
	a := &Asker{Relationships: Static{r}, Credentials: creds{"b": {Account: "svc-contoso", Secret: "their-secret-for-us"}}}
	got := a.Ask(context.Background(), "alice@a.example", query(), []string{"bob@b.example", "nobody@b.example", "carol@b.example"})
	if got[0].Outcome != freebusy.OK || got[1].Outcome != freebusy.NotFound || got[2].Outcome != freebusy.NoAccess || fx.tokens != 0 {
		t.Errorf("cross-forest = %+v (tokens sent: %d)", got, fx.tokens)
	}
	a.Credentials = creds{"b": {Account: "svc-contoso", Secret: "wrong"}}
	a.CacheFor = -1
	got = a.Ask(context.Background(), "alice@a.example", query(), []string{"bob@b.example"})
	if got[0].Outcome != freebusy.PartnerFailed || !strings.Contains(got[0].Message, "401") {
		t.Errorf("with a wrong secret = %+v", got)
	}
	r.TargetSharingEPR = ""
	a = &Asker{Relationships: Static{r}, Credentials: creds{"b": {Account: "svc-contoso", Secret: "x"}}}
	got = a.Ask(context.Background(), "alice@a.example", query(), []string{"bob@b.example"})
	if got[0].Outcome != freebusy.PartnerFailed || !strings.Contains(got[0].Message, "-target-sharing-epr") {
		t.Errorf("without TargetSharingEpr = %+v", got)
	}
}

// Partners are reached through the configured proxy.
func TestAskerThroughProxy(t *testing.T) {
	fx := &fakeExchange{}
	var seen atomic.Value
	proxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seen.Store(r.URL.String())
		fx.ServeHTTP(w, r)
	}))
	defer proxy.Close()
	o, err := outbound.New(outbound.Config{Proxy: proxy.URL})
	if err != nil {
		t.Fatal(err)
	}
	a := &Asker{Relationships: Static{rel("B", "b.example", "http://mail.b.example/EWS/Exchange.asmx")}, Tokens: &fakeTokens{}, HTTP: o.HTTP(0)}
	got := a.Ask(context.Background(), "alice@a.example", query(), []string{"bob@b.example"})
	if got[0].Outcome != freebusy.OK {
		t.Errorf("through the proxy = %+v", got)
	}
	if s, _ := seen.Load().(string); s != "http://mail.b.example/EWS/Exchange.asmx/WSSecurity" {
		t.Errorf("the proxy saw %q", s)
	}
}

// Without TargetSharingEpr, the partner's Autodiscover names its EWS URL,
// kept for later questions; a URL it names that is neither https nor on
// loopback is not asked.
func TestAskerAutodiscover(t *testing.T) {
	fx := &fakeExchange{}
	var ads atomic.Int32
	var ewsURL string
	mux := http.NewServeMux()
	mux.Handle("/EWS/Exchange.asmx/WSSecurity", fx)
	mux.HandleFunc("/autodiscover/autodiscover.svc/WSSecurity", func(w http.ResponseWriter, r *http.Request) {
		ads.Add(1)
		io.WriteString(w, `<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body><GetUserSettingsResponseMessage xmlns="http://schemas.microsoft.com/exchange/2010/Autodiscover"><Response><UserResponses><UserResponse><ErrorCode>NoError</ErrorCode><UserSettings><UserSetting><Name>ExternalEwsUrl</Name><Value>`+ewsURL+`</Value></UserSetting></UserSettings></UserResponse></UserResponses></Response></GetUserSettingsResponseMessage></s:Body></s:Envelope>`)
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()
	r := rel("B", "b.example", "")
	r.TargetAutodiscoverEPR = srv.URL + "/autodiscover/autodiscover.svc"
	ewsURL = srv.URL + "/EWS/Exchange.asmx"
	a := &Asker{Relationships: Static{r}, Tokens: &fakeTokens{}, CacheFor: -1}
	for range 2 {
		if got := a.Ask(context.Background(), "alice@a.example", query(), []string{"bob@b.example"}); got[0].Outcome != freebusy.OK {
			t.Fatalf("through Autodiscover = %+v", got)
		}
	}
	if ads.Load() != 1 || fx.requests.Load() != 2 {
		t.Errorf("%d Autodiscover and %d EWS requests for two questions, want 1 and 2", ads.Load(), fx.requests.Load())
	}
	for _, bad := range []string{"http://192.0.2.1/EWS/Exchange.asmx", "ftp://mail.b.example/EWS"} {
		ewsURL = bad
		a = &Asker{Relationships: Static{r}, Tokens: &fakeTokens{}, CacheFor: -1}
		got := a.Ask(context.Background(), "alice@a.example", query(), []string{"bob@b.example"})
		if got[0].Outcome != freebusy.PartnerFailed || !strings.Contains(got[0].Message, "not https") {
			t.Errorf("Autodiscover naming %s = %+v", bad, got)
		}
	}
}

// A relationship with neither TargetAutodiscoverEpr nor TargetSharingEpr
// (nor TargetApplicationUri) is asked through the partner domain's
// Autodiscover, found as Get-FederationInformation finds it: here
// https://autodiscover.b.example, which the test's client reaches on
// loopback.
func TestAskerDiscovers(t *testing.T) {
	fx := &fakeExchange{}
	var fedInfo, settings atomic.Int32
	var base string
	mux := http.NewServeMux()
	mux.Handle("/EWS/Exchange.asmx/WSSecurity", fx)
	ad := func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if strings.Contains(string(body), "GetFederationInformationRequestMessage") {
			fedInfo.Add(1)
			io.WriteString(w, `<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body><GetFederationInformationResponseMessage xmlns="http://schemas.microsoft.com/exchange/2010/Autodiscover"><Response><ErrorCode>NoError</ErrorCode><ApplicationUri>FYDIBOHF25SPDLT.b.example</ApplicationUri><Domains><Domain>b.example</Domain></Domains><TokenIssuers><TokenIssuer><Uri>urn:federation:MicrosoftOnline</Uri></TokenIssuer></TokenIssuers></Response></GetFederationInformationResponseMessage></s:Body></s:Envelope>`)
			return
		}
		settings.Add(1)
		io.WriteString(w, `<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body><GetUserSettingsResponseMessage xmlns="http://schemas.microsoft.com/exchange/2010/Autodiscover"><Response><UserResponses><UserResponse><ErrorCode>NoError</ErrorCode><UserSettings><UserSetting><Name>ExternalEwsUrl</Name><Value>`+base+`/EWS/Exchange.asmx</Value></UserSetting></UserSettings></UserResponse></UserResponses></Response></GetUserSettingsResponseMessage></s:Body></s:Envelope>`)
	}
	mux.HandleFunc("/autodiscover/autodiscover.svc", ad)
	mux.HandleFunc("/autodiscover/autodiscover.svc/WSSecurity", ad)
	srv := httptest.NewTLSServer(mux)
	defer srv.Close()
	base = "https://mail.b.example"
	// Every name reaches the test server, whose certificate is for
	// example.com.
	tr := srv.Client().Transport.(*http.Transport).Clone()
	tr.TLSClientConfig.ServerName = "example.com"
	tr.DialContext = func(ctx context.Context, network, _ string) (net.Conn, error) {
		return (&net.Dialer{}).DialContext(ctx, network, srv.Listener.Addr().String())
	}
	r := rel("B", "b.example", "")
	r.TargetApplicationURI = ""
	tokens := &fakeTokens{}
	a := &Asker{Relationships: Static{r}, Tokens: tokens, HTTP: &http.Client{Transport: tr}, CacheFor: -1}
	for range 2 {
		if got := a.Ask(context.Background(), "alice@a.example", query(), []string{"bob@b.example"}); got[0].Outcome != freebusy.OK {
			t.Fatalf("discovered = %+v", got)
		}
	}
	if fedInfo.Load() != 1 || settings.Load() != 1 || fx.requests.Load() != 2 {
		t.Errorf("%d GetFederationInformation, %d GetUserSettings, %d GetUserAvailability for two questions, want 1, 1, 2",
			fedInfo.Load(), settings.Load(), fx.requests.Load())
	}
}
