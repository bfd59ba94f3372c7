package autodiscover

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/calfed/calfed/calendar"
	"github.com/calfed/calfed/internal/identity"
	"github.com/calfed/calfed/internal/xmlsem"
	"github.com/calfed/calfed/orgrel"
)

type fakeDirectory map[string]*calendar.Mailbox

func (f fakeDirectory) Lookup(a string) (*calendar.Mailbox, bool) {
	mb, ok := f[strings.ToLower(a)]
	return mb, ok
}

func (f fakeDirectory) Domains() []string { return []string{"fabrikam.example"} }

// fakeAccess: partner.example's relationship covers every mailbox but
// secret@.
type fakeAccess struct{}

func (fakeAccess) Access(c identity.Caller, mailbox string, groups []string) orgrel.Decision {
	if c.Domain != "partner.example" || strings.HasPrefix(mailbox, "secret@") {
		return orgrel.Decision{}
	}
	return orgrel.Decision{Related: true, Level: orgrel.AvailabilityOnly}
}

var partner = identity.Caller{Domain: "partner.example", Account: "svc"}

func fixture(trust *orgrel.Trust) *Handler {
	return New(Options{
		Directory: fakeDirectory{
			"bob@fabrikam.example":    {Address: "bob@fabrikam.example", DisplayName: "Bob"},
			"secret@fabrikam.example": {Address: "secret@fabrikam.example", DisplayName: "Secret"},
		},
		Access: fakeAccess{},
		Relationship: func(d string) (orgrel.Relationship, bool) {
			if d == "partner.example" || d == "other.example" {
				return orgrel.Relationship{Name: "Partner", Domains: []string{"partner.example"}, Enabled: true, FreeBusyAccessEnabled: true,
					FreeBusyAccessLevel: orgrel.LimitedDetails, TargetApplicationURI: "FYDIBOHF25SPDLT.partner.example"}, true
			}
			return orgrel.Relationship{}, false
		},
		Trust:             func() *orgrel.Trust { return trust },
		PublicURL:         "https://mail.fabrikam.example",
		RedirectAddresses: map[string]string{"old@fabrikam.example": "bob@fabrikam.example"},
		RedirectURL:       "https://autodiscover.elsewhere.example/autodiscover/autodiscover.xml",
	})
}

var docsTrust = &orgrel.Trust{AccountNamespace: "contoso.com", ApplicationURI: "BYFCXU-DOM.EXTEST.MICROSOFT.COM",
	Domains:        []string{"americas.contoso.com", "contoso.com", "contosolive.com", "europe.contoso.com"},
	TokenIssuerURI: "urn:federation:MicrosoftOnline", TokenIssuerEndpoint: "https://login.microsoftonline.com/extSTS.srf", DiscloseAllDomains: true}

func call(t *testing.T, h http.Handler, path, body string, caller *identity.Caller) (int, []byte) {
	t.Helper()
	req := httptest.NewRequest(http.MethodPost, path, strings.NewReader(body))
	if caller != nil {
		req = req.WithContext(identity.NewContext(req.Context(), *caller))
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec.Code, rec.Body.Bytes()
}

// The examples of the protocol notes, answered: the response must mean
// what the example shows.
func TestGoldenExamples(t *testing.T) {
	h := fixture(docsTrust)
	for _, name := range []string{"getfederationinformation", "getusersettings"} {
		req, err := os.ReadFile(filepath.Join("testdata", name+".request.xml"))
		if err != nil {
			t.Fatal(err)
		}
		want, err := os.ReadFile(filepath.Join("testdata", name+".response.xml"))
		if err != nil {
			t.Fatal(err)
		}
		status, got := call(t, h.SOAP(false), "/autodiscover/autodiscover.svc", string(req), &partner)
		if status != http.StatusOK {
			t.Fatalf("%s: status %d\n%s", name, status, got)
		}
		if d, err := xmlsem.Compare(want, got, xmlsem.Options{}); err != nil || len(d) != 0 {
			t.Errorf("%s differs from the example:\n%s%v\n%s", name, d, err, got)
		}
	}
}

func fedInfo(domain string) string {
	return `<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body><GetFederationInformationRequestMessage xmlns="http://schemas.microsoft.com/exchange/2010/Autodiscover"><Request>` +
		domain + `</Request></GetFederationInformationRequestMessage></s:Body></s:Envelope>`
}

func TestGetFederationInformation(t *testing.T) {
	private := *docsTrust
	private.DiscloseAllDomains = false
	tests := []struct {
		name  string
		trust *orgrel.Trust
		body  string
		want  []string
		not   []string
	}{
		{"only the asked domain by default", &private, fedInfo("<Domain>Europe.Contoso.com</Domain>"),
			[]string{"<ErrorCode>NoError</ErrorCode>", "<Domain>europe.contoso.com</Domain>", "<Uri>urn:federation:MicrosoftOnline</Uri>"}, []string{"<Domain>contoso.com</Domain>"}},
		{"not ours", &private, fedInfo("<Domain>fabrikam.example</Domain>"), []string{"<ErrorCode>InvalidDomain</ErrorCode>"}, []string{"ApplicationUri"}},
		{"no trust", nil, fedInfo("<Domain>contoso.com</Domain>"), []string{"<ErrorCode>NotFederated</ErrorCode>"}, []string{"ApplicationUri"}},
		{"no domain", &private, fedInfo(""), []string{"<ErrorCode>InvalidRequest</ErrorCode>"}, nil},
		{"not a domain", &private, fedInfo("<Domain>bob@contoso.com</Domain>"), []string{"<ErrorCode>InvalidRequest</ErrorCode>"}, nil},
	}
	for _, tt := range tests {
		// Anonymous on both paths: no caller.
		for _, token := range []bool{false, true} {
			status, out := call(t, fixture(tt.trust).SOAP(token), "/", tt.body, nil)
			if status != http.StatusOK {
				t.Errorf("%s: status %d", tt.name, status)
			}
			for _, w := range tt.want {
				if !bytes.Contains(out, []byte(w)) {
					t.Errorf("%s: answer lacks %s\n%s", tt.name, w, out)
				}
			}
			for _, n := range tt.not {
				if bytes.Contains(out, []byte(n)) {
					t.Errorf("%s: answer has %s\n%s", tt.name, n, out)
				}
			}
		}
	}
}

func userSettings(users []string, settings ...string) string {
	var b strings.Builder
	b.WriteString(`<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/" xmlns:a="http://schemas.microsoft.com/exchange/2010/Autodiscover"><s:Body><a:GetUserSettingsRequestMessage><a:Request><a:Users>`)
	for _, u := range users {
		b.WriteString(`<a:User><a:Mailbox>` + u + `</a:Mailbox></a:User>`)
	}
	b.WriteString(`</a:Users><a:RequestedSettings>`)
	for _, s := range settings {
		b.WriteString(`<a:Setting>` + s + `</a:Setting>`)
	}
	b.WriteString(`</a:RequestedSettings></a:Request></a:GetUserSettingsRequestMessage></s:Body></s:Envelope>`)
	return b.String()
}

func TestGetUserSettings(t *testing.T) {
	h := fixture(docsTrust)
	body := userSettings([]string{"BOB@fabrikam.example", "secret@fabrikam.example", "nobody@fabrikam.example", "old@fabrikam.example"},
		"UserDisplayName", "ExternalEwsVersion", "EwsSupportedSchemas", "InternalOABUrl", "FavouriteColour")
	status, out := call(t, h.SOAP(false), "/", body, &partner)
	if status != http.StatusOK {
		t.Fatalf("status %d", status)
	}
	c, _ := xmlsem.Canonical(out)
	for _, want := range []string{
		"Value = Bob", "Value = 15.01.2507.006", "Exchange2016",
		"ErrorCode = SettingIsNotAvailable", "SettingName = InternalOABUrl",
		"ErrorCode = InvalidSetting", "SettingName = FavouriteColour",
		"ErrorMessage = Invalid user: 'secret@fabrikam.example'", "ErrorMessage = Invalid user: 'nobody@fabrikam.example'",
		"ErrorCode = RedirectAddress", "RedirectTarget = bob@fabrikam.example",
	} {
		if !strings.Contains(c, want) {
			t.Errorf("answer lacks %q\n%s", want, c)
		}
	}
	if n := strings.Count(c, "}UserResponse\n") + strings.Count(c, "}UserResponse "); n != 4 {
		t.Errorf("%d UserResponses, want 4 (one per user, in order)\n%s", n, c)
	}
	many := make([]string, 101)
	for i := range many {
		many[i] = "bob@fabrikam.example"
	}
	for name, body := range map[string]string{
		"101 users":   userSettings(many, "UserDisplayName"),
		"no users":    userSettings(nil, "UserDisplayName"),
		"no settings": userSettings([]string{"bob@fabrikam.example"}),
	} {
		_, out := call(t, h.SOAP(false), "/", body, &partner)
		if !bytes.Contains(out, []byte("<ErrorCode>InvalidRequest</ErrorCode>")) || bytes.Contains(out, []byte("<UserResponse>")) {
			t.Errorf("%s:\n%s", name, out)
		}
	}
}

// Settings and relationship-scoped operations need a caller; the token path
// and GetOrganizationRelationshipSettings answer 401 until tokens exist.
func TestAuthentication(t *testing.T) {
	h := fixture(docsTrust)
	orgrelSettings := `<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body><GetOrganizationRelationshipSettingsRequestMessage xmlns="http://schemas.microsoft.com/exchange/2010/Autodiscover"><Request><Domains><Domain>partner.example</Domain></Domains></Request></GetOrganizationRelationshipSettingsRequestMessage></s:Body></s:Envelope>`
	_, out := call(t, h.SOAP(true), "/", orgrelSettings, &partner)
	c, _ := xmlsem.Canonical(out)
	for _, want := range []string{"FreeBusyAccessLevel = LimitedDetails", "Name = Partner", "TargetApplicationUri = FYDIBOHF25SPDLT.partner.example", "Domain = partner.example"} {
		if !strings.Contains(c, want) {
			t.Errorf("GetOrganizationRelationshipSettings lacks %q\n%s", want, c)
		}
	}
	domainSettings := `<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body><GetDomainSettingsRequestMessage xmlns="http://schemas.microsoft.com/exchange/2010/Autodiscover"><Request><Domains><Domain>fabrikam.example</Domain></Domains><RequestedSettings><Setting>ExternalEwsUrl</Setting></RequestedSettings></Request></GetDomainSettingsRequestMessage></s:Body></s:Envelope>`
	tests := []struct {
		name   string
		token  bool
		body   string
		caller *identity.Caller
		status int
	}{
		{"settings anonymously", false, userSettings([]string{"bob@fabrikam.example"}, "UserDisplayName"), nil, 401},
		{"domain settings anonymously", false, domainSettings, nil, 401},
		{"settings on the token path, token verified", true, userSettings([]string{"bob@fabrikam.example"}, "UserDisplayName"), &partner, 200},
		{"settings on the token path, no token caller", true, userSettings([]string{"bob@fabrikam.example"}, "UserDisplayName"), nil, 401},
		{"organisation relationship settings, plain path", false, orgrelSettings, &partner, 401},
		{"organisation relationship settings, token path", true, orgrelSettings, &partner, 200},
		{"organisation relationship settings, no token", true, orgrelSettings, nil, 401},
		{"settings as a partner", false, userSettings([]string{"bob@fabrikam.example"}, "UserDisplayName"), &partner, 200},
		{"domain settings as a partner", false, domainSettings, &partner, 200},
		{"garbage", false, `<not-soap/>`, &partner, 500},
	}
	for _, tt := range tests {
		status, out := call(t, h.SOAP(tt.token), "/", tt.body, tt.caller)
		if status != tt.status {
			t.Errorf("%s: status %d, want %d\n%s", tt.name, status, tt.status, out)
		}
	}
}

func pox(email, schema string) string {
	return `<Autodiscover xmlns="http://schemas.microsoft.com/exchange/autodiscover/outlook/requestschema/2006"><Request><EMailAddress>` + email +
		`</EMailAddress><AcceptableResponseSchema>` + schema + `</AcceptableResponseSchema></Request></Autodiscover>`
}

func TestPOX(t *testing.T) {
	h := fixture(docsTrust)
	tests := []struct {
		name, body string
		want       []string
	}{
		{"settings", pox("bob@fabrikam.example", nsPOXOutlook), []string{"Action = settings", "Type = EXPR", "EwsUrl = https://mail.fabrikam.example/EWS/Exchange.asmx", "AuthPackage = Basic", "ServerVersion = 73C189CB", "Type = WEB"}},
		{"not covered", pox("secret@fabrikam.example", nsPOXOutlook), []string{"ErrorCode = 602"}},
		{"redirectAddr", pox("old@fabrikam.example", nsPOXOutlook), []string{"Action = redirectAddr", "RedirectAddr = bob@fabrikam.example"}},
		{"redirectUrl", pox("someone@elsewhere.example", nsPOXOutlook), []string{"Action = redirectUrl"}},
		{"mobilesync", pox("bob@fabrikam.example", nsPOXMobileResponse), []string{"ErrorCode = 601"}},
		{"bad address", pox("bob", nsPOXOutlook), []string{"ErrorCode = 602"}},
		{"not XML", "hello", []string{"ErrorCode = 600"}},
		// Our own LegacyDN, alone, names its mailbox. [MS-OXDSCLI] 3.2.5.
		{"LegacyDN", strings.Replace(pox("", nsPOXOutlook), "<EMailAddress></EMailAddress>", "<LegacyDN>"+legacyDN("bob@fabrikam.example")+"</LegacyDN>", 1),
			[]string{"AutoDiscoverSMTPAddress = bob@fabrikam.example", "Action = settings"}},
	}
	for _, tt := range tests {
		status, out := call(t, h.POX(), "/autodiscover/autodiscover.xml", tt.body, &partner)
		c, err := xmlsem.Canonical(out)
		if status != http.StatusOK || err != nil {
			t.Fatalf("%s: %d %v\n%s", tt.name, status, err, out)
		}
		for _, w := range tt.want {
			if !strings.Contains(c, w) {
				t.Errorf("%s: answer lacks %q\n%s", tt.name, w, c)
			}
		}
	}
	if status, _ := call(t, h.POX(), "/", pox("bob@fabrikam.example", nsPOXOutlook), nil); status != http.StatusUnauthorized {
		t.Errorf("anonymous POX: %d", status)
	}
	req := httptest.NewRequest(http.MethodGet, "/autodiscover/autodiscover.xml", nil)
	rec := httptest.NewRecorder()
	h.POX().ServeHTTP(rec, req)
	if rec.Code != 200 || rec.Header().Get("X-SOAP-Enabled") != "True" || rec.Header().Get("X-WSSecurity-Enabled") != "True" {
		t.Errorf("GET probe: %d %v", rec.Code, rec.Header())
	}
}

func TestJSONAndRedirect(t *testing.T) {
	h := fixture(docsTrust)
	j := h.JSON(func(r *http.Request) string { return strings.TrimPrefix(r.URL.Path, "/") })
	for _, tt := range []struct{ url, want string }{
		{"/bob@fabrikam.example?Protocol=EWS", `{"Protocol":"EWS","Url":"https://mail.fabrikam.example/EWS/Exchange.asmx"}`},
		{"/bob@fabrikam.example?Protocol=AutodiscoverV1", `"Url":"https://mail.fabrikam.example/autodiscover/autodiscover.xml"`},
		{"/bob@fabrikam.example?Protocol=ActiveSync", `"ErrorCode":"ProtocolNotSupported"`},
	} {
		rec := httptest.NewRecorder()
		j.ServeHTTP(rec, httptest.NewRequest("GET", tt.url, nil))
		if !strings.Contains(rec.Body.String(), tt.want) {
			t.Errorf("%s: %s", tt.url, rec.Body.String())
		}
	}
	r := Redirect("https://mail.fabrikam.example")
	rec := httptest.NewRecorder()
	r.ServeHTTP(rec, httptest.NewRequest("GET", "/Autodiscover/Autodiscover.xml", nil))
	if rec.Code != http.StatusFound || rec.Header().Get("Location") != "https://mail.fabrikam.example/autodiscover/autodiscover.xml" {
		t.Errorf("redirect: %d %v", rec.Code, rec.Header())
	}
	rec = httptest.NewRecorder()
	r.ServeHTTP(rec, httptest.NewRequest("GET", "/owa", nil))
	if rec.Code != http.StatusNotFound {
		t.Errorf("redirect listener answered /owa with %d", rec.Code)
	}
}
