package ews

import (
	"bytes"
	"context"
	"flag"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/calfed/calfed/calendar"
	"github.com/calfed/calfed/freebusy"
	"github.com/calfed/calfed/internal/identity"
	"github.com/calfed/calfed/internal/soap"
	"github.com/calfed/calfed/internal/xmlsem"
	"github.com/calfed/calfed/orgrel"
)

var update = flag.Bool("update", false, "rewrite golden files")

// fakeDirectory holds mailboxes and their events in memory.
type fakeDirectory struct {
	mailboxes map[string]*calendar.Mailbox
	events    map[string][]calendar.Event
	broken    map[string]bool
}

func (f *fakeDirectory) Lookup(addr string) (*calendar.Mailbox, bool) {
	mb, ok := f.mailboxes[strings.ToLower(addr)]
	return mb, ok
}

func (f *fakeDirectory) AppendEvents(ctx context.Context, dst []calendar.Event, addr string, from, to time.Time) ([]calendar.Event, error) {
	if f.broken[addr] {
		return dst, calendar.ErrUnavailable
	}
	for _, e := range f.events[addr] {
		if e.Start.Before(to) && e.End.After(from) {
			dst = append(dst, e)
		}
	}
	return dst, nil
}

// fakeAccess grants each mailbox a fixed level to callers from
// partner.example, and nothing to anyone else.
type fakeAccess map[string]orgrel.Level

func (f fakeAccess) Access(c identity.Caller, mailbox string, groups []string) orgrel.Decision {
	if c.Domain != "partner.example" {
		return orgrel.Decision{}
	}
	l, ok := f[mailbox]
	if !ok {
		l = orgrel.AvailabilityOnly
	}
	return orgrel.Decision{Related: true, Level: l}
}

func mustLoc(name string) *time.Location {
	loc, err := time.LoadLocation(name)
	if err != nil {
		panic(err)
	}
	return loc
}

func ev(start, end string, busy calendar.BusyType, item *calendar.Item) calendar.Event {
	s, _ := time.Parse(time.RFC3339, start)
	e, _ := time.Parse(time.RFC3339, end)
	if item == nil {
		item = &calendar.Item{}
	}
	item.Busy = busy
	return calendar.Event{Start: s, End: e, Item: item}
}

// docsFixture is the calendar behind the EWS reference's example response
// (examples/ews-getuseravailability-response.docs.xml): two users in
// Pacific time on 16 October 2006.
func docsFixture() *Handler {
	la := mustLoc("America/Los_Angeles")
	wh := &calendar.WorkingHours{Days: []time.Weekday{1, 2, 3, 4, 5}, Start: 8 * time.Hour, End: 17 * time.Hour}
	dir := &fakeDirectory{
		mailboxes: map[string]*calendar.Mailbox{
			"user1@example.com":  {Address: "user1@example.com", Location: la, WorkingHours: wh},
			"user2@example.com":  {Address: "user2@example.com", Location: la},
			"broken@example.com": {Address: "broken@example.com", Location: la},
			"none@example.com":   {Address: "none@example.com", Location: la},
		},
		events: map[string][]calendar.Event{
			"user1@example.com": {
				ev("2006-10-16T13:00:00Z", "2006-10-16T13:30:00Z", calendar.Busy, calendar.Item{}.WithText("Meet with Contoso Account Executives", "")),
				ev("2006-10-16T14:00:00Z", "2006-10-16T15:00:00Z", calendar.Busy, calendar.Item{}.WithText("Pick up my groceries", "")),
				ev("2006-10-16T17:00:00Z", "2006-10-16T18:00:00Z", calendar.Busy, calendar.Item{Private: true}.WithText("Dentist", "Town")),
			},
			"user2@example.com": {
				ev("2006-10-16T16:00:00Z", "2006-10-16T17:00:00Z", calendar.Tentative, nil),
			},
		},
		broken: map[string]bool{"broken@example.com": true},
	}
	fb := freebusy.New(freebusy.Options{Directory: dir, Access: fakeAccess{"user1@example.com": orgrel.LimitedDetails, "none@example.com": orgrel.None}})
	return New(Options{FreeBusy: fb, ServerName: "FB01",
		Now: func() time.Time { return time.Date(2006, 10, 16, 0, 0, 0, 0, time.UTC) }})
}

var partner = identity.Caller{Domain: "partner.example", Account: "svc"}

// checkGolden compares an answer with its golden file by meaning,
// rewriting the file first under -update.
func checkGolden(t *testing.T, goldenPath string, got []byte) {
	t.Helper()
	if *update {
		if err := os.WriteFile(goldenPath, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(goldenPath)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	d, err := xmlsem.Compare(want, got, xmlsem.Options{})
	if err != nil {
		t.Fatalf("%v\n%s", err, got)
	}
	if len(d) != 0 {
		t.Errorf("response differs from %s:\n%s", goldenPath, d)
	}
}

func post(t *testing.T, h http.Handler, body string, caller *identity.Caller) (int, []byte) {
	t.Helper()
	req := httptest.NewRequest(http.MethodPost, "/EWS/Exchange.asmx", strings.NewReader(body))
	req.Header.Set("Content-Type", "text/xml; charset=utf-8")
	if caller != nil {
		req = req.WithContext(identity.NewContext(req.Context(), *caller))
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec.Code, rec.Body.Bytes()
}

// Golden request/response pairs: testdata/NAME.request.xml is sent as
// partner.example; the answer must mean the same as NAME.response.xml.
func TestGolden(t *testing.T) {
	h := docsFixture()
	reqs, _ := filepath.Glob("testdata/*.request.xml")
	if len(reqs) == 0 {
		t.Fatal("no golden requests")
	}
	for _, reqPath := range reqs {
		name := strings.TrimSuffix(filepath.Base(reqPath), ".request.xml")
		t.Run(name, func(t *testing.T) {
			body, err := os.ReadFile(reqPath)
			if err != nil {
				t.Fatal(err)
			}
			_, got := post(t, h, string(body), &partner)
			checkGolden(t, filepath.Join("testdata", name+".response.xml"), got)
		})
	}
}

func envelopeWith(header, body string) string {
	return `<?xml version="1.0" encoding="utf-8"?><soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/" xmlns:t="http://schemas.microsoft.com/exchange/services/2006/types" xmlns:m="http://schemas.microsoft.com/exchange/services/2006/messages"><soap:Header>` +
		header + `</soap:Header><soap:Body>` + body + `</soap:Body></soap:Envelope>`
}

func availability(mailboxes []string, start, end, interval, view string) string {
	var b strings.Builder
	b.WriteString(`<m:GetUserAvailabilityRequest><m:MailboxDataArray>`)
	for _, m := range mailboxes {
		b.WriteString(`<t:MailboxData><t:Email><t:Address>` + m + `</t:Address></t:Email><t:AttendeeType>Required</t:AttendeeType></t:MailboxData>`)
	}
	b.WriteString(`</m:MailboxDataArray><t:FreeBusyViewOptions><t:TimeWindow><t:StartTime>` + start + `</t:StartTime><t:EndTime>` + end + `</t:EndTime></t:TimeWindow>`)
	if interval != "" {
		b.WriteString(`<t:MergedFreeBusyIntervalInMinutes>` + interval + `</t:MergedFreeBusyIntervalInMinutes>`)
	}
	if view != "" {
		b.WriteString(`<t:RequestedView>` + view + `</t:RequestedView>`)
	}
	b.WriteString(`</t:FreeBusyViewOptions></m:GetUserAvailabilityRequest>`)
	return b.String()
}

// faultCode returns the EWS code of a SOAP fault response, or "".
func faultCode(body []byte) string {
	i := bytes.Index(body, []byte("<e:ResponseCode"))
	if i < 0 {
		return ""
	}
	rest := body[i:]
	s := bytes.IndexByte(rest, '>') + 1
	e := bytes.Index(rest, []byte("</e:ResponseCode>"))
	return string(rest[s:e])
}

func TestRequestLevelFaults(t *testing.T) {
	h := docsFixture()
	many := make([]string, 101)
	for i := range many {
		many[i] = "user1@example.com"
	}
	one := []string{"user1@example.com"}
	tests := []struct {
		name string
		body string
		code string
	}{
		{"no mailboxes", envelopeWith("", availability(nil, "2006-10-16T00:00:00", "2006-10-17T00:00:00", "", "")), "ErrorMailboxDataArrayEmpty"},
		{"101 mailboxes", envelopeWith("", availability(many, "2006-10-16T00:00:00", "2006-10-17T00:00:00", "", "")), "ErrorMailboxDataArrayTooBig"},
		{"63 days", envelopeWith("", availability(one, "2006-10-01T00:00:00", "2006-12-03T00:00:00", "", "")), "ErrorTimeIntervalTooBig"},
		{"end before start", envelopeWith("", availability(one, "2006-10-17T00:00:00", "2006-10-16T00:00:00", "", "")), "ErrorInvalidTimeInterval"},
		{"interval 4", envelopeWith("", availability(one, "2006-10-16T00:00:00", "2006-10-17T00:00:00", "4", "")), "ErrorInvalidMergedFreeBusyInterval"},
		{"interval 1441", envelopeWith("", availability(one, "2006-10-16T00:00:00", "2006-10-17T00:00:00", "1441", "")), "ErrorInvalidMergedFreeBusyInterval"},
		{"interval longer than window", envelopeWith("", availability(one, "2006-10-16T00:00:00", "2006-10-16T01:00:00", "90", "MergedOnly")), "ErrorInvalidMergedFreeBusyInterval"},
		{"view None", envelopeWith("", availability(one, "2006-10-16T00:00:00", "2006-10-17T00:00:00", "", "None")), "ErrorInvalidFreeBusyViewType"},
		{"view unknown", envelopeWith("", availability(one, "2006-10-16T00:00:00", "2006-10-17T00:00:00", "", "Everything")), "ErrorInvalidFreeBusyViewType"},
		{"no time window", envelopeWith("", `<m:GetUserAvailabilityRequest><m:MailboxDataArray><t:MailboxData><t:Email><t:Address>a@b</t:Address></t:Email></t:MailboxData></m:MailboxDataArray><t:FreeBusyViewOptions/></m:GetUserAvailabilityRequest>`), "ErrorMissingArgument"},
		{"bad start", envelopeWith("", availability(one, "yesterday", "2006-10-17T00:00:00", "", "")), "ErrorSchemaValidation"},
		{"bad time zone context", envelopeWith(`<t:TimeZoneContext><t:TimeZoneDefinition Id="Mars Standard Time"/></t:TimeZoneContext>`, availability(one, "2006-10-16T00:00:00", "2006-10-17T00:00:00", "", "")), "ErrorTimeZone"},
		{"malformed XML", `<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body><x>`, "ErrorSchemaValidation"},
		{"not an envelope", `<html><body/></html>`, "ErrorSchemaValidation"},
		{"no operation", envelopeWith("", `<foo xmlns="urn:other"/>`), "ErrorInvalidRequest"},
		{"DTD", `<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa">]><soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body/></soap:Envelope>`, "ErrorSchemaValidation"},
		{"external entity", `<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body>&e;</soap:Body></soap:Envelope>`, "ErrorSchemaValidation"},
		{"deep nesting", envelopeWith("", strings.Repeat("<m:x>", 100)+strings.Repeat("</m:x>", 100)), "ErrorSchemaValidation"},
		{"oversized", envelopeWith("", "<m:GetUserAvailabilityRequest>"+strings.Repeat(" ", soap.DefaultMaxBytes)+"</m:GetUserAvailabilityRequest>"), "ErrorRequestStreamTooBig"},
	}
	for _, tt := range tests {
		status, body := post(t, h, tt.body, &partner)
		if got := faultCode(body); got != tt.code || status != http.StatusInternalServerError {
			t.Errorf("%s: status %d, fault %q, want 500 %q\n%.600s", tt.name, status, got, tt.code, body)
		}
		if !bytes.Contains(body, []byte("ServerVersionInfo")) {
			t.Errorf("%s: fault without ServerVersionInfo header", tt.name)
		}
	}
}

func TestPerMailboxErrorsKeepOrder(t *testing.T) {
	h := docsFixture()
	body := envelopeWith("", availability([]string{"nobody@example.com", "USER2@example.com", "broken@example.com"}, "2006-10-16T00:00:00", "2006-10-17T00:00:00", "", "FreeBusy"))
	status, out := post(t, h, body, &partner)
	if status != http.StatusOK {
		t.Fatalf("status %d", status)
	}
	c, err := xmlsem.Canonical(out)
	if err != nil {
		t.Fatal(err)
	}
	codes := []string{}
	for _, line := range strings.Split(c, "\n") {
		if strings.Contains(line, "}ResponseCode = ") {
			codes = append(codes, line[strings.LastIndex(line, " ")+1:])
		}
	}
	want := []string{"ErrorMailRecipientNotFound", "NoError", "ErrorFreeBusyGenerationFailed"}
	if strings.Join(codes, ",") != strings.Join(want, ",") {
		t.Errorf("codes = %v, want %v", codes, want)
	}
}

func TestUnsupportedOperationAndMethods(t *testing.T) {
	h := docsFixture()
	// Operations calfed does not serve get a request-level fault with
	// the code both EWS clients raise as their error.
	for _, op := range []string{`<m:ConvertId DestinationFormat="EntryId"><m:SourceIds/></m:ConvertId>`,
		`<m:GetUserOofSettingsRequest><t:Mailbox><t:Address>user1@example.com</t:Address></t:Mailbox></m:GetUserOofSettingsRequest>`,
		`<m:GetFolder><m:FolderShape><t:BaseShape>IdOnly</t:BaseShape></m:FolderShape></m:GetFolder>`,
		`<m:FindItem Traversal="Shallow"/>`} {
		status, out := post(t, h, envelopeWith(`<t:RequestServerVersion Version="Exchange2016"/>`, op), &partner)
		if status != http.StatusInternalServerError || faultCode(out) != "ErrorInvalidOperation" || !bytes.Contains(out, []byte("ServerVersionInfo")) ||
			!bytes.Contains(out, []byte(`<faultcode xmlns:a="http://schemas.microsoft.com/exchange/services/2006/types">a:ErrorInvalidOperation</faultcode>`)) {
			t.Errorf("%s: %d\n%s", op, status, out)
		}
		if bytes.Contains(out, []byte("RequestResponse")) {
			t.Errorf("%s: answered as an operation named ...Request\n%s", op, out)
		}
	}
	req := httptest.NewRequest(http.MethodGet, "/EWS/Exchange.asmx", nil)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != http.StatusMethodNotAllowed || !strings.Contains(rec.Body.String(), "Fault") {
		t.Errorf("GET: %d %s", rec.Code, rec.Body.String())
	}
	// Without an authenticated caller the handler refuses rather than
	// answering anonymously.
	status, out := post(t, h, envelopeWith("", availability([]string{"user1@example.com"}, "2006-10-16T00:00:00", "2006-10-17T00:00:00", "", "")), nil)
	if status != http.StatusInternalServerError || bytes.Contains(out, []byte("FreeBusyView")) {
		t.Errorf("no caller: %d\n%s", status, out)
	}
}

func TestSOAP12(t *testing.T) {
	h := docsFixture()
	body := strings.ReplaceAll(envelopeWith("", availability([]string{"user2@example.com"}, "2006-10-16T00:00:00Z", "2006-10-17T00:00:00Z", "", "")),
		"http://schemas.xmlsoap.org/soap/envelope/", "http://www.w3.org/2003/05/soap-envelope")
	req := httptest.NewRequest(http.MethodPost, "/EWS/Exchange.asmx", strings.NewReader(body))
	req = req.WithContext(identity.NewContext(req.Context(), partner))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if ct := rec.Header().Get("Content-Type"); !strings.HasPrefix(ct, "application/soap+xml") {
		t.Errorf("Content-Type = %q", ct)
	}
	if !strings.Contains(rec.Body.String(), `xmlns:s="http://www.w3.org/2003/05/soap-envelope"`) || !strings.Contains(rec.Body.String(), "<StartTime>2006-10-16T16:00:00</StartTime>") {
		t.Errorf("SOAP 1.2 answer:\n%s", rec.Body.String())
	}
}

// The same question asked with the legacy body TimeZone, with a
// TimeZoneContext by Windows id, with one by rules only, and with UTC
// offsets, gets the same events in the zone asked for.
func TestRequestTimeZones(t *testing.T) {
	h := docsFixture()
	pacificBody := `<t:TimeZone><t:Bias>480</t:Bias><t:StandardTime><t:Bias>0</t:Bias><t:Time>02:00:00</t:Time><t:DayOrder>1</t:DayOrder><t:Month>11</t:Month><t:DayOfWeek>Sunday</t:DayOfWeek></t:StandardTime><t:DaylightTime><t:Bias>-60</t:Bias><t:Time>02:00:00</t:Time><t:DayOrder>2</t:DayOrder><t:Month>3</t:Month><t:DayOfWeek>Sunday</t:DayOfWeek></t:DaylightTime></t:TimeZone>`
	withBodyTZ := func(start, end string) string {
		return strings.Replace(availability([]string{"user2@example.com"}, start, end, "", "FreeBusy"), "<m:MailboxDataArray>", pacificBody+"<m:MailboxDataArray>", 1)
	}
	rulesOnly := `<t:TimeZoneContext><t:TimeZoneDefinition Id="Custom" Name="Somewhere"><t:Periods><t:Period Bias="PT8H" Name="Standard" Id="s"/><t:Period Bias="PT7H" Name="Daylight" Id="d"/></t:Periods><t:TransitionsGroups><t:TransitionsGroup Id="0"><t:RecurringDayTransition><t:To Kind="Period">d</t:To><t:TimeOffset>PT2H</t:TimeOffset><t:Month>3</t:Month><t:DayOfWeek>Sunday</t:DayOfWeek><t:Occurrence>2</t:Occurrence></t:RecurringDayTransition><t:RecurringDayTransition><t:To Kind="Period">s</t:To><t:TimeOffset>PT2H</t:TimeOffset><t:Month>11</t:Month><t:DayOfWeek>Sunday</t:DayOfWeek><t:Occurrence>1</t:Occurrence></t:RecurringDayTransition></t:TransitionsGroup></t:TransitionsGroups><t:Transitions><t:Transition><t:To Kind="Group">0</t:To></t:Transition></t:Transitions></t:TimeZoneDefinition></t:TimeZoneContext>`
	tests := []struct {
		name, body, want string
	}{
		{"legacy TimeZone", envelopeWith("", withBodyTZ("2006-10-16T00:00:00", "2006-10-17T00:00:00")), "2006-10-16T09:00:00"},
		{"TimeZoneContext by id", envelopeWith(`<t:TimeZoneContext><t:TimeZoneDefinition Id="Pacific Standard Time"/></t:TimeZoneContext>`, availability([]string{"user2@example.com"}, "2006-10-16T00:00:00", "2006-10-17T00:00:00", "", "")), "2006-10-16T09:00:00"},
		{"TimeZoneContext by rules", envelopeWith(rulesOnly, availability([]string{"user2@example.com"}, "2006-10-16T00:00:00", "2006-10-17T00:00:00", "", "")), "2006-10-16T09:00:00"},
		{"TimeZoneContext wins over body", envelopeWith(`<t:TimeZoneContext><t:TimeZoneDefinition Id="W. Europe Standard Time"/></t:TimeZoneContext>`, withBodyTZ("2006-10-16T00:00:00", "2006-10-17T00:00:00")), "2006-10-16T18:00:00"},
		{"UTC context falls back to body", envelopeWith(`<t:TimeZoneContext><t:TimeZoneDefinition Id="UTC"/></t:TimeZoneContext>`, withBodyTZ("2006-10-16T00:00:00", "2006-10-17T00:00:00")), "2006-10-16T09:00:00"},
		{"offsets in the window", envelopeWith("", availability([]string{"user2@example.com"}, "2006-10-16T00:00:00+02:00", "2006-10-17T00:00:00Z", "", "")), "2006-10-16T16:00:00"},
	}
	for _, tt := range tests {
		status, out := post(t, h, tt.body, &partner)
		if status != http.StatusOK || !bytes.Contains(out, []byte("<StartTime>"+tt.want+"</StartTime>")) {
			t.Errorf("%s: %d, want StartTime %s\n%s", tt.name, status, tt.want, out)
		}
	}
}

func TestGetServerTimeZones(t *testing.T) {
	h := docsFixture()
	status, out := post(t, h, envelopeWith("", `<m:GetServerTimeZones ReturnFullTimeZoneData="true"><m:Ids><t:Id>W. Europe Standard Time</t:Id><t:Id>India Standard Time</t:Id></m:Ids></m:GetServerTimeZones>`), &partner)
	if status != http.StatusOK {
		t.Fatalf("status %d", status)
	}
	for _, want := range []string{
		`<t:TimeZoneDefinition Id="W. Europe Standard Time"`,
		`<t:Period Bias="-PT1H" Name="Standard" Id="trule:Microsoft/Registry/W. Europe Standard Time/2006-Standard"/>`,
		`<t:Period Bias="-PT2H" Name="Daylight"`,
		`<t:TimeOffset>PT2H</t:TimeOffset><t:Month>3</t:Month><t:DayOfWeek>Sunday</t:DayOfWeek><t:Occurrence>-1</t:Occurrence>`,
		`<t:TimeOffset>PT3H</t:TimeOffset><t:Month>10</t:Month>`,
		`<t:Period Bias="-PT5H30M" Name="Standard"`,
	} {
		if !bytes.Contains(out, []byte(want)) {
			t.Errorf("answer lacks %s\n%s", want, out)
		}
	}
	_, out = post(t, h, envelopeWith("", `<m:GetServerTimeZones ReturnFullTimeZoneData="false"/>`), &partner)
	if n := bytes.Count(out, []byte("<t:TimeZoneDefinition ")); n < 100 || bytes.Contains(out, []byte("<t:Periods>")) {
		t.Errorf("all zones without data: %d definitions\n%.500s", n, out)
	}
	_, out = post(t, h, envelopeWith("", `<m:GetServerTimeZones><m:Ids><t:Id>Mars Standard Time</t:Id></m:Ids></m:GetServerTimeZones>`), &partner)
	if !bytes.Contains(out, []byte(`ResponseClass="Error"`)) || !bytes.Contains(out, []byte("ErrorTimeZone")) {
		t.Errorf("unknown zone:\n%s", out)
	}
}
