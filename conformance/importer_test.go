package conformance

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const harCapture = `{"log": {"version": "1.2", "entries": [
 {"startedDateTime": "2026-03-20T09:15:00.123Z",
  "request": {"method": "POST", "url": "https://mail.partner.example/EWS/Exchange.asmx",
   "headers": [{"name": "Authorization", "value": "Basic c3ZjOnNlY3JldA=="}, {"name": "Content-Type", "value": "text/xml; charset=utf-8"}, {"name": "Cookie", "value": "X-BackEndCookie=1"}, {"name": ":authority", "value": "mail.partner.example"}],
   "postData": {"text": "<s:Envelope xmlns:s=\"http://schemas.xmlsoap.org/soap/envelope/\"><s:Body><GetUserAvailabilityRequest xmlns=\"http://schemas.microsoft.com/exchange/services/2006/messages\"/></s:Body></s:Envelope>"}},
  "response": {"status": 200, "headers": [{"name": "Content-Type", "value": "text/xml; charset=utf-8"}, {"name": "Set-Cookie", "value": "s=1"}],
   "content": {"encoding": "base64", "text": "PEVudmVsb3BlPjxCb2R5PjxGcmVlQnVzeVZpZXcvPjwvQm9keT48L0VudmVsb3BlPg=="}}},
 {"startedDateTime": "2026-03-20T09:15:01Z",
  "request": {"method": "POST", "url": "https://mail.partner.example/EWS/Exchange.asmx/WSSecurity",
   "headers": [{"name": "Content-Type", "value": "text/xml"}],
   "postData": {"text": "<s:Envelope xmlns:s=\"http://schemas.xmlsoap.org/soap/envelope/\"><s:Header><o:Security xmlns:o=\"http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd\"><EncryptedData>AAAA</EncryptedData></o:Security></s:Header><s:Body/></s:Envelope>"}},
  "response": {"status": 500, "headers": [], "content": {"text": "<Envelope><Body><Fault/></Body></Envelope>"}}}
]}}`

func TestImportHAR(t *testing.T) {
	if _, err := Import("capture.har", []byte(harCapture), "p/", nil); err == nil || !strings.Contains(err.Error(), "federated") {
		t.Fatalf("a federated exchange without its claims was imported: %v", err)
	}
	cases, err := Import("capture.har", []byte(harCapture), "p/", &TokenClaims{Requester: "alice@partner.example", Audience: "FYDIBOHF25SPDLT.contoso.example"})
	if err != nil || len(cases) != 2 {
		t.Fatalf("Import = %d cases, %v", len(cases), err)
	}
	basic, fed := cases[0], cases[1]
	if basic.Name != "p/GetUserAvailabilityRequest-01" || basic.Request.Auth != AuthBasic || basic.Request.User != "svc" || basic.Compare != CompareFreeBusy ||
		basic.Origin != "https://mail.partner.example" || basic.Captured.Format("15:04:05.000") != "09:15:00.123" || string(basic.ResponseBody) != "<Envelope><Body><FreeBusyView/></Body></Envelope>" {
		t.Errorf("basic case: %+v", basic)
	}
	if len(basic.Request.Headers) != 1 || basic.Response.Headers["Set-Cookie"] != "" {
		t.Errorf("headers kept: %v %v", basic.Request.Headers, basic.Response.Headers)
	}
	if fed.Request.Auth != AuthToken || fed.Request.Token.Offer != "MSExchange.SharingCalendarFreeBusy" || strings.Contains(string(fed.RequestBody), "EncryptedData") {
		t.Errorf("federated case: %+v %s", fed.Request, fed.RequestBody)
	}
	dir := t.TempDir()
	for _, c := range cases {
		if err := Save(dir, c); err != nil {
			t.Fatal(err)
		}
	}
	if err := Save(dir, cases[0]); err == nil {
		t.Error("a case was overwritten")
	}
	if loaded, err := Load(dir); err != nil || len(loaded) != 2 {
		t.Errorf("Load: %d %v", len(loaded), err)
	}
	if _, err := Import("x.har", []byte(`{"log":{"entries":[]}}`), "", nil); err == nil {
		t.Error("an empty HAR was accepted")
	}
}

func TestImportRawHTTP(t *testing.T) {
	raw := "POST /autodiscover/autodiscover.xml HTTP/1.1\nHost: autodiscover.partner.example\nAuthorization: Basic c3ZjOnNlY3JldA==\nContent-Type: text/xml\nContent-Length: 18\n\n<Autodiscover/>\n\n\nHTTP/1.1 200 OK\nContent-Type: text/xml\nDate: Fri, 20 Mar 2026 09:15:00 GMT\nContent-Length: 18\n\n<Autodiscover/>\n\n"
	cases, err := Import("exchange.txt", []byte(raw), "", nil)
	if err != nil || len(cases) != 1 {
		t.Fatalf("Import: %v", err)
	}
	c := cases[0]
	if c.Request.Method != "POST" || c.Request.Path != "/autodiscover/autodiscover.xml" || c.Request.Auth != AuthBasic || c.Response.Status != 200 ||
		c.Captured.Format("2006-01-02T15:04") != "2026-03-20T09:15" || c.Origin != "https://autodiscover.partner.example" || len(c.ResponseBody) == 0 {
		t.Errorf("raw case: %+v", c)
	}
	if _, err := Import("broken.txt", []byte("not http"), "", nil); err == nil {
		t.Error("garbage was imported")
	}
}

func TestImportExampleDocuments(t *testing.T) {
	data, err := os.ReadFile("testdata/autodiscover-getfederationinformation.xml")
	if err != nil {
		t.Fatal(err)
	}
	cases, err := Import("autodiscover-getfederationinformation.xml", data, "examples/", nil)
	if err != nil || len(cases) != 1 {
		t.Fatalf("Import: %d, %v", len(cases), err)
	}
	c := cases[0]
	if c.Request.Path != "/autodiscover/autodiscover.svc" || !strings.Contains(string(c.RequestBody), "GetFederationInformationRequestMessage") ||
		!strings.Contains(string(c.ResponseBody), "GetFederationInformationResponseMessage") {
		t.Errorf("example case: %+v\n%s", c.Request, c.ResponseBody)
	}
	// The answer imported compares equal to itself re-read.
	if diffs, err := CompareXMLBodies(c.ResponseBody, c.ResponseBody, CompareXML, nil); err != nil || len(diffs) != 0 {
		t.Errorf("%v %v", diffs, err)
	}
	if _, err := Import("lone.xml", []byte(`<Envelope xmlns="http://schemas.xmlsoap.org/soap/envelope/"><Body><GetUserAvailabilityResponse xmlns="http://schemas.microsoft.com/exchange/services/2006/messages"/></Body></Envelope>`), "", nil); err == nil {
		t.Error("a lone response was imported as a request")
	}
}

// Every file is read and imported before any case is handed back: a file
// that cannot be read is its own error, a capture that cannot be used is
// ErrCapture, and either keeps every case back.
func TestImportFiles(t *testing.T) {
	dir := t.TempDir()
	raw := "POST /autodiscover/autodiscover.xml HTTP/1.1\nHost: autodiscover.partner.example\nContent-Type: text/xml\nContent-Length: 18\n\n<Autodiscover/>\n\n\nHTTP/1.1 200 OK\nContent-Type: text/xml\nContent-Length: 18\n\n<Autodiscover/>\n\n"
	good := filepath.Join(dir, "exchange.txt")
	os.WriteFile(good, []byte(raw), 0o600)
	bad := filepath.Join(dir, "broken.txt")
	os.WriteFile(bad, []byte("not http"), 0o600)

	cases, err := ImportFiles([]string{good}, "p/", "partner", nil)
	if err != nil || len(cases) != 1 || cases[0].Fixture != "partner" || !strings.HasPrefix(cases[0].Name, "p/") || cases[0].Source != "imported from exchange.txt" {
		t.Fatalf("ImportFiles(good) = %+v, %v", cases, err)
	}
	cases, err = ImportFiles([]string{good, bad}, "", "", nil)
	if cases != nil || !errors.Is(err, ErrCapture) || !strings.HasPrefix(err.Error(), "broken.txt: ") {
		t.Errorf("ImportFiles(good, bad) = %d cases, %v; want none and ErrCapture naming broken.txt", len(cases), err)
	}
	cases, err = ImportFiles([]string{good, filepath.Join(dir, "missing.txt")}, "", "", nil)
	if cases != nil || !errors.Is(err, fs.ErrNotExist) || errors.Is(err, ErrCapture) {
		t.Errorf("ImportFiles(good, missing) = %d cases, %v; want none and a read error", len(cases), err)
	}
}
