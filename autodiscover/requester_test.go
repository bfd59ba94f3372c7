package autodiscover

import (
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/calfed/calfed/calendar"
	"github.com/calfed/calfed/internal/soap"
	"github.com/calfed/calfed/orgrel"
)

// asmxHeaders reads a response's SOAP headers as Exchange's requester
// does (docs/protocol.md §2.1): an ASMX client that maps only ServerVersionInfo
// and throws "SOAP header X was not understood" for any other header
// whose soap:mustUnderstand it sees, through a reader that hides that
// attribute when it is the element's first one, namespace declarations
// counting as attributes.
func asmxHeaders(body []byte) error {
	d := xml.NewDecoder(strings.NewReader(string(body)))
	depth := 0
	inHeader := false
	for {
		tok, err := d.Token()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		switch t := tok.(type) {
		case xml.StartElement:
			depth++
			if depth == 2 && t.Name.Space == soap.NS11 && t.Name.Local == "Header" {
				inHeader = true
				continue
			}
			if !inHeader || depth != 3 {
				continue
			}
			if t.Name.Space == nsAutodiscover && t.Name.Local == "ServerVersionInfo" {
				continue // mapped as an out-header
			}
			for i, a := range t.Attr {
				if a.Name.Space == soap.NS11 && a.Name.Local == "mustUnderstand" && (a.Value == "1" || a.Value == "true") && i > 0 {
					return fmt.Errorf("SOAP header %s was not understood", t.Name.Local)
				}
			}
		case xml.EndElement:
			if depth == 2 && inHeader {
				inHeader = false
			}
			depth--
		}
	}
}

// The check itself: the layout calfed used to write fails it, Exchange's
// documented layout passes.
func TestASMXHeaderCheck(t *testing.T) {
	env := func(ns, header string) []byte {
		return []byte(`<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"` + ns + `><s:Header>` + header + `</s:Header><s:Body/></s:Envelope>`)
	}
	if err := asmxHeaders(env("", `<a:Action xmlns:a="http://www.w3.org/2005/08/addressing" s:mustUnderstand="1">x</a:Action>`)); err == nil {
		t.Error("a local namespace declaration before mustUnderstand passes")
	}
	if err := asmxHeaders(env(` xmlns:a="http://www.w3.org/2005/08/addressing"`, `<a:Action s:mustUnderstand="1">x</a:Action>`)); err != nil {
		t.Errorf("Exchange's own layout fails: %v", err)
	}
}

// Every SOAP Autodiscover answer declares its prefixes on the Envelope and
// passes Exchange's requester. docs/protocol.md §2.1.
func TestAnswersPassExchangesRequester(t *testing.T) {
	h := fixture(docsTrust)
	head := `<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/" xmlns:a="http://www.w3.org/2005/08/addressing"><s:Header><a:Action s:mustUnderstand="1">%s</a:Action><a:MessageID>urn:uuid:6389558d-9e05-465e-ade9-aae14c4bcd10</a:MessageID><a:To s:mustUnderstand="1">https://mail.fabrikam.example/autodiscover/autodiscover.svc</a:To></s:Header><s:Body><%sRequestMessage xmlns="http://schemas.microsoft.com/exchange/2010/Autodiscover"><Request>%s</Request></%sRequestMessage></s:Body></s:Envelope>`
	ops := []struct{ op, request string }{
		{"GetFederationInformation", `<Domain>contoso.com</Domain>`},
		{"GetUserSettings", `<Users><User><Mailbox>bob@fabrikam.example</Mailbox></User></Users><RequestedSettings><Setting>ExternalEwsUrl</Setting></RequestedSettings><RequestedVersion>Exchange2010</RequestedVersion>`},
		{"GetDomainSettings", `<Domains><Domain>fabrikam.example</Domain></Domains><RequestedSettings><Setting>ExternalEwsUrl</Setting></RequestedSettings><RequestedVersion>Exchange2010</RequestedVersion>`},
		{"GetOrganizationRelationshipSettings", `<Domains><Domain>partner.example</Domain></Domains>`},
	}
	for _, o := range ops {
		body := fmt.Sprintf(head, actionPrefix+o.op, o.op, o.request, o.op)
		status, out := call(t, h.SOAP(true), "/autodiscover/autodiscover.svc/WSSecurity", body, &partner)
		if status != http.StatusOK {
			t.Fatalf("%s: status %d\n%s", o.op, status, out)
		}
		if err := asmxHeaders(out); err != nil {
			t.Errorf("%s: %v\n%s", o.op, err, out)
		}
		if !strings.Contains(string(out), `<a:Action s:mustUnderstand="1">`+actionPrefix+o.op+`Response</a:Action>`) ||
			!strings.Contains(string(out), `xmlns:a="http://www.w3.org/2005/08/addressing"><s:Header>`) {
			t.Errorf("%s: not Exchange's header layout:\n%s", o.op, out)
		}
	}
}

// One GetUserSettings naming every mailbox of a domain, as Exchange's
// availability service asks it: exactly one UserResponse per user, in
// request order, and for each user the three settings as non-empty
// StringSettings of exactly the names asked. docs/protocol.md §2.3.
func TestGetUserSettingsAsExchangeAsks(t *testing.T) {
	dir := fakeDirectory{}
	var users []string
	for i := range 40 {
		addr := fmt.Sprintf("user%02d@fabrikam.example", i)
		dir[addr] = &calendar.Mailbox{Address: addr, DisplayName: fmt.Sprintf("User %d", i)}
		users = append(users, addr)
	}
	dir["secret@fabrikam.example"] = &calendar.Mailbox{Address: "secret@fabrikam.example"}
	// Mixed case, a mailbox outside the relationship and one unknown,
	// spread among the rest: they keep their places.
	users[3] = "USER03@Fabrikam.Example"
	users = append(users[:10], append([]string{"secret@fabrikam.example", "nobody@fabrikam.example"}, users[10:]...)...)
	h := New(Options{Directory: dir, Access: fakeAccess{}, Trust: func() *orgrel.Trust { return docsTrust }, PublicURL: "https://mail.fabrikam.example"})
	var mailboxes strings.Builder
	for _, u := range users {
		mailboxes.WriteString("<User><Mailbox>" + u + "</Mailbox></User>")
	}
	settings := []string{"ExternalEwsUrl", "ExternalEwsVersion", "InteropExternalEwsUrl"}
	body := `<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/" xmlns:a="http://www.w3.org/2005/08/addressing"><s:Header><a:Action s:mustUnderstand="1">` + actionPrefix + `GetUserSettings</a:Action></s:Header><s:Body><GetUserSettingsRequestMessage xmlns="http://schemas.microsoft.com/exchange/2010/Autodiscover"><Request><Users>` +
		mailboxes.String() + `</Users><RequestedSettings><Setting>ExternalEwsUrl</Setting><Setting>ExternalEwsVersion</Setting><Setting>InteropExternalEwsUrl</Setting></RequestedSettings><RequestedVersion>Exchange2010</RequestedVersion></Request></GetUserSettingsRequestMessage></s:Body></s:Envelope>`
	status, out := call(t, h.SOAP(true), "/autodiscover/autodiscover.svc/WSSecurity", body, &partner)
	if status != http.StatusOK {
		t.Fatalf("status %d\n%s", status, out)
	}
	var answer struct {
		Code      string `xml:"Body>GetUserSettingsResponseMessage>Response>ErrorCode"`
		Responses []struct {
			Code     string   `xml:"ErrorCode"`
			Errors   []string `xml:"UserSettingErrors>UserSettingError>SettingName"`
			Settings []struct {
				Type  string `xml:"http://www.w3.org/2001/XMLSchema-instance type,attr"`
				Name  string `xml:"Name"`
				Value string `xml:"Value"`
			} `xml:"UserSettings>UserSetting"`
		} `xml:"Body>GetUserSettingsResponseMessage>Response>UserResponses>UserResponse"`
	}
	if err := xml.Unmarshal(out, &answer); err != nil {
		t.Fatal(err)
	}
	if answer.Code != "NoError" || len(answer.Responses) != len(users) {
		t.Fatalf("ErrorCode %s, %d UserResponses for %d users\n%s", answer.Code, len(answer.Responses), len(users), out)
	}
	for i, r := range answer.Responses {
		want := "NoError"
		if users[i] == "secret@fabrikam.example" || users[i] == "nobody@fabrikam.example" {
			want = "InvalidUser"
		}
		if r.Code != want {
			t.Errorf("UserResponse %d (%s) = %s, want %s", i, users[i], r.Code, want)
			continue
		}
		if want != "NoError" {
			continue
		}
		if len(r.Errors) != 0 || len(r.Settings) != len(settings) {
			t.Errorf("UserResponse %d (%s): errors %v, %d settings", i, users[i], r.Errors, len(r.Settings))
			continue
		}
		got := map[string]string{}
		for _, s := range r.Settings {
			if s.Type != "StringSetting" || s.Value == "" {
				t.Errorf("UserResponse %d: setting %s is %q with value %q", i, s.Name, s.Type, s.Value)
			}
			got[s.Name] = s.Value
		}
		if got["ExternalEwsUrl"] != "https://mail.fabrikam.example/EWS/Exchange.asmx" || got["InteropExternalEwsUrl"] == "" || got["ExternalEwsVersion"] != Version {
			t.Errorf("UserResponse %d: settings %v", i, got)
		}
	}
	if err := asmxHeaders(out); err != nil {
		t.Error(err)
	}
}
