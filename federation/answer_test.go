package federation

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/beevik/etree"

	"github.com/calfed/calfed/internal/identity"
)

// fault is a SOAP 1.1 or 1.2 fault, read by namespace-qualified name.
type fault struct {
	Code11   string `xml:"Body>Fault>faultcode"`
	String11 string `xml:"Body>Fault>faultstring"`
	Subcode  string `xml:"Body>Fault>Code>Subcode>Value"`
	Reason   string `xml:"Body>Fault>Reason>Text"`
	Detail   struct {
		ResponseCode string `xml:"http://schemas.microsoft.com/exchange/services/2006/errors ResponseCode"`
		Message      string `xml:"http://schemas.microsoft.com/exchange/services/2006/errors Message"`
	} `xml:"Body>Fault>detail"`
	codeNS string
}

// readFault decodes a fault and resolves its code's prefix.
func readFault(t *testing.T, body []byte) fault {
	t.Helper()
	var f fault
	if err := xml.Unmarshal(body, &f); err != nil {
		t.Fatalf("not a SOAP fault: %v\n%s", err, body)
	}
	code := f.Code11
	if code == "" {
		code = f.Subcode
	}
	// The prefix is declared on the code's element (soap.Fault).
	doc := etree.NewDocument()
	doc.ReadFromBytes(body)
	for _, el := range doc.FindElements("//*") {
		if (el.Tag == "faultcode" || el.Tag == "Value") && el.Text() == code {
			prefix, local, _ := strings.Cut(code, ":")
			f.codeNS = el.SelectAttrValue("xmlns:"+prefix, "")
			f.Code11 = local
		}
	}
	if f.String11 == "" {
		f.String11 = f.Reason
	}
	return f
}

// Each class of refusal is answered as Exchange answers it (FINDINGS
// §5b), on EWS and on Autodiscover, in the request's SOAP version.
func TestRefusalAnswers(t *testing.T) {
	w := newWorld(t)
	now := t0.Add(time.Minute)
	tokXML := func(is func() *etree.Element) string { return string(xmlOf(t, is())) }
	good := func() *etree.Element { el, _ := w.issue().Token(); return el }
	expired := func() *etree.Element {
		is := w.issue()
		is.NotBefore = t0.Add(-time.Hour)
		el, _ := is.Token()
		return el
	}
	audience := func() *etree.Element {
		is := w.issue()
		is.Audience = "FYDIBOHF25SPDLT.elsewhere.example"
		el, _ := is.Token()
		return el
	}
	noEmail := func() *etree.Element {
		is := w.issue()
		is.Email = ""
		el, _ := is.Token()
		return el
	}
	untrusted := func() *etree.Element {
		is := w.issue()
		is.Signer = w.rogue
		el, _ := is.Token()
		return el
	}
	undecryptable := func() *etree.Element {
		el := good()
		el.FindElement("./CipherData/CipherValue").SetText("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")
		return el
	}
	autodiscoverOffer := func() *etree.Element {
		is := w.issue()
		is.Offer = OfferAutodiscover
		el, _ := is.Token()
		return el
	}
	const (
		wsse  = nsWSSE
		types = "http://schemas.microsoft.com/exchange/services/2006/types"
	)
	type answer struct {
		status     int
		code, ns   string // fault code, or "" for an empty 401
		faultText  string
		accessDeny bool
	}
	tokenFault := answer{500, "InvalidSecurityToken", wsse, PublicMessage, false}
	noTokenFault := answer{500, "InvalidSecurity", wsse, "An error occurred when verifying security for the message.", false}
	empty401 := answer{401, "", "", "", false}
	denied := answer{500, "ErrorAccessDenied", types, AccessDeniedMessage, true}
	for _, tt := range []struct {
		name              string
		security          string
		ews, autodiscover answer
	}{
		{"undecryptable", tokXML(undecryptable), tokenFault, tokenFault},
		{"malformed", `<e:EncryptedData xmlns:e="http://www.w3.org/2001/04/xmlenc#"><e:CipherData/></e:EncryptedData>`, tokenFault, tokenFault},
		{"untrusted issuer", tokXML(untrusted), tokenFault, tokenFault},
		{"no token", ``, noTokenFault, empty401},
		{"expired", tokXML(expired), empty401, empty401},
		{"another audience", tokXML(audience), empty401, empty401},
		{"no EmailAddress", tokXML(noEmail), empty401, empty401},
		{"another offer", tokXML(autodiscoverOffer), denied, empty401},
	} {
		for _, ep := range []struct {
			name   string
			refuse func(http.ResponseWriter, *http.Request, error)
			want   answer
		}{{"EWS", RefuseEWS, tt.ews}, {"Autodiscover", RefuseAutodiscover, tt.autodiscover}} {
			for _, v12 := range []bool{false, true} {
				name := fmt.Sprintf("%s/%s/soap12=%v", tt.name, ep.name, v12)
				offer := OfferFreeBusy
				g := &Guard{Validator: &Validator{Trust: w.v.Trust}, Offer: offer, Now: func() time.Time { return now }, Refuse: ep.refuse}
				h := g.Wrap(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { t.Errorf("%s: the request got through", name) }))
				env, ct := envNS, "text/xml; charset=utf-8"
				if v12 {
					env, ct = strings.Replace(envNS, "http://schemas.xmlsoap.org/soap/envelope/", "http://www.w3.org/2003/05/soap-envelope", 1), "application/soap+xml; charset=utf-8"
				}
				sec := ""
				if tt.security != "" {
					sec = `<o:Security>` + tt.security + `</o:Security>`
				}
				req := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(`<s:Envelope `+env+`><s:Header>`+sec+`</s:Header><s:Body><x/></s:Body></s:Envelope>`))
				req.Header.Set("Content-Type", ct)
				rec := httptest.NewRecorder()
				h.ServeHTTP(rec, req)
				if rec.Code != ep.want.status {
					t.Errorf("%s: status %d, want %d\n%s", name, rec.Code, ep.want.status, rec.Body)
					continue
				}
				if ep.want.code == "" {
					if rec.Body.Len() != 0 {
						t.Errorf("%s: 401 with a body: %s", name, rec.Body)
					}
					continue
				}
				if got := rec.Header().Get("Content-Type"); !strings.HasPrefix(got, strings.Split(ct, ";")[0]) {
					t.Errorf("%s: Content-Type %q, want %q", name, got, ct)
				}
				f := readFault(t, rec.Body.Bytes())
				if f.Code11 != ep.want.code || f.codeNS != ep.want.ns || f.String11 != ep.want.faultText {
					t.Errorf("%s: fault {%s}%s %q, want {%s}%s %q", name, f.codeNS, f.Code11, f.String11, ep.want.ns, ep.want.code, ep.want.faultText)
				}
				if ep.want.accessDeny && !v12 && (f.Detail.ResponseCode != "ErrorAccessDenied" || f.Detail.Message != AccessDeniedMessage) {
					t.Errorf("%s: detail %+v", name, f.Detail)
				}
			}
		}
	}
}

// One log line per decision, with the private reason, the requester's
// User-Agent, client-request-id and RequestorDomain; the caller carries
// the RequestorDomain on.
func TestGuardLogLineAndCaller(t *testing.T) {
	w := newWorld(t)
	var logs bytes.Buffer
	var caller identity.Caller
	g := &Guard{Validator: w.v, Offer: OfferFreeBusy, Now: func() time.Time { return t0.Add(time.Minute) },
		Logger: slog.New(slog.NewJSONHandler(&logs, nil)), Refuse: RefuseEWS}
	h := g.Wrap(http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) { caller, _ = identity.FromContext(r.Context()) }))
	is := w.issue()
	is.RequestorDomain = "outlook.com"
	tok, _ := is.Token()
	other := w.issue()
	other.Offer = OfferAutodiscover
	otherTok, _ := other.Token()
	for _, el := range []*etree.Element{tok, otherTok} {
		req := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(`<s:Envelope `+envNS+`><s:Header><o:Security>`+string(xmlOf(t, el))+`</o:Security></s:Header><s:Body><x/></s:Body></s:Envelope>`))
		req.Header.Set("User-Agent", "ASProxy/CrossForest/EmailDomain//15.02.1544.004")
		req.Header.Set("client-request-id", "5f0e1b2a-0000-4000-8000-000000000001")
		h.ServeHTTP(httptest.NewRecorder(), req)
	}
	if caller.RequestorDomain != "outlook.com" || caller.Domain != "partner.example" || caller.Email != "alice@partner.example" {
		t.Errorf("caller %+v", caller)
	}
	lines := strings.Split(strings.TrimSpace(logs.String()), "\n")
	if len(lines) != 2 {
		t.Fatalf("%d log lines, want one per request:\n%s", len(lines), logs.String())
	}
	for i, want := range []struct{ outcome, reason string }{{"allowed", ""}, {"denied", "offer"}} {
		var rec map[string]any
		if err := json.Unmarshal([]byte(lines[i]), &rec); err != nil {
			t.Fatal(err)
		}
		if rec["outcome"] != want.outcome || rec["user_agent"] != "ASProxy/CrossForest/EmailDomain//15.02.1544.004" ||
			rec["client_request_id"] != "5f0e1b2a-0000-4000-8000-000000000001" || rec["email"] != "alice@partner.example" {
			t.Errorf("line %d: %s", i, lines[i])
		}
		if i == 0 && rec["requestor_domain"] != "outlook.com" {
			t.Errorf("line %d: requestor_domain %v", i, rec["requestor_domain"])
		}
		if reason, _ := rec["reason"].(string); want.reason != "" && !strings.Contains(reason, want.reason) {
			t.Errorf("line %d: reason %q", i, reason)
		}
		if i == 1 && rec["cause"] != ErrOffer.Error() {
			t.Errorf("line %d: cause %v", i, rec["cause"])
		}
	}
}

// A refusal's cause is one of a fixed few, whatever details its error
// carries.
func TestCause(t *testing.T) {
	for _, tt := range []struct {
		err  error
		want error
	}{
		{fmt.Errorf("%w: the token holds a second element, x, after EncryptedData", ErrMalformed), ErrMalformed},
		{fmt.Errorf("%w: x", ErrUntrustedIssuer), ErrUntrustedIssuer},
		{fmt.Errorf("%w: x", ErrSignature), ErrSignature},
		{fmt.Errorf("%w: {urn:x}Condition", ErrCondition), ErrCondition},
		{fmt.Errorf("%w: connection refused", ErrReplayStore), ErrReplayStore},
		{fmt.Errorf("%w: MSExchange.Autodiscover, want MSExchange.SharingCalendarFreeBusy", ErrOffer), ErrOffer},
	} {
		if got := Cause(tt.err); got != tt.want.Error() {
			t.Errorf("Cause(%v) = %q, want %q", tt.err, got, tt.want.Error())
		}
	}
	if got := Cause(errors.New("soap: too deep")); got != "other" {
		t.Errorf("Cause(other) = %q", got)
	}
}

func TestClassify(t *testing.T) {
	for _, tt := range []struct {
		err  error
		want Failure
	}{
		{ErrMalformed, FailToken}, {ErrAlgorithm, FailToken}, {ErrUnknownKey, FailToken}, {ErrDecrypt, FailToken},
		{ErrSignature, FailToken}, {ErrUntrustedIssuer, FailToken}, {ErrNoToken, FailSecurity},
		{ErrExpired, FailValidation}, {ErrNotYetValid, FailValidation}, {ErrAudience, FailValidation}, {ErrCondition, FailValidation},
		{ErrClaims, FailValidation}, {ErrReplay, FailValidation}, {ErrNotFederated, FailValidation},
		{fmt.Errorf("%w: connection refused", ErrReplayStore), FailUnavailable},
		{fmt.Errorf("%w: x", ErrOffer), FailOffer}, {fmt.Errorf("soap: too deep"), FailToken},
	} {
		if got := Classify(tt.err); got != tt.want {
			t.Errorf("Classify(%v) = %v, want %v", tt.err, got, tt.want)
		}
	}
}

// A token that cannot be judged because the replay store does not answer
// is refused with 503 on both endpoints, and is not let through.
func TestReplayStoreDownAnswers503(t *testing.T) {
	w := newWorld(t)
	el, _ := w.issue().Token()
	body := `<s:Envelope ` + envNS + `><s:Header><o:Security>` + string(xmlOf(t, el)) + `</o:Security></s:Header><s:Body><x/></s:Body></s:Envelope>`
	for _, refuse := range []func(http.ResponseWriter, *http.Request, error){RefuseEWS, RefuseAutodiscover} {
		v := &Validator{Trust: w.v.Trust, RefuseReuse: true, Replay: &memReplay{err: errors.New("connection refused")}}
		g := &Guard{Validator: v, Offer: OfferFreeBusy, Now: func() time.Time { return t0.Add(time.Minute) }, Refuse: refuse}
		h := g.Wrap(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { t.Errorf("the request got through") }))
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/", strings.NewReader(body)))
		if rec.Code != http.StatusServiceUnavailable || rec.Body.Len() != 0 {
			t.Errorf("status %d with %q, want 503 and no body", rec.Code, rec.Body)
		}
	}
}
