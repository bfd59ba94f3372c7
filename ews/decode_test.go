package ews

import (
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/calfed/calfed/internal/soap"
)

// slowDecode is the reading decodeAvailability must agree with.
func slowDecode(data []byte, l soap.Limits) (*envelope, soap.Version, error) {
	env := &envelope{}
	ver, err := soap.Decode(data, l, env)
	return env, ver, err
}

// sameAsEncodingXML fails unless decodeAvailability either declines data
// or reads it exactly as soap.Decode with encoding/xml does; it reports
// whether it read it.
func sameAsEncodingXML(t *testing.T, data []byte) bool {
	t.Helper()
	fast, fver, ok := decodeAvailability(data, soap.Limits{})
	if !ok {
		return false
	}
	slow, sver, err := slowDecode(data, soap.Limits{})
	if err != nil {
		t.Fatalf("read a request encoding/xml refuses (%v):\n%s", err, data)
	}
	if fver != sver || !reflect.DeepEqual(fast, slow) {
		t.Fatalf("read differently from encoding/xml:\n%s\nfast %d %+v %+v\nslow %d %+v %+v", data, fver, fast, fast.gua, sver, slow, slow.gua)
	}
	return true
}

const fullZone = `<t:TimeZoneContext><t:TimeZoneDefinition Name="(UTC) Dublin, Edinburgh, Lisbon, London" Id="GMT Standard Time">` +
	`<t:Periods><t:Period Bias="P0DT0H0M0.0S" Name="Standard" Id="Std"/><t:Period Bias="-P0DT1H0M0.0S" Name="Daylight" Id="Dlt"/></t:Periods>` +
	`<t:TransitionsGroups><t:TransitionsGroup Id="0">` +
	`<t:RecurringDayTransition><t:To Kind="Period">Dlt</t:To><t:TimeOffset>P0DT1H0M0.0S</t:TimeOffset><t:Month>3</t:Month><t:DayOfWeek>Sunday</t:DayOfWeek><t:Occurrence>-1</t:Occurrence></t:RecurringDayTransition>` +
	`<t:RecurringDayTransition><t:To Kind="Period">Std</t:To><t:TimeOffset>P0DT2H0M0.0S</t:TimeOffset><t:Month>10</t:Month><t:DayOfWeek>Sunday</t:DayOfWeek><t:Occurrence>-1</t:Occurrence></t:RecurringDayTransition>` +
	`</t:TransitionsGroup><t:TransitionsGroup Id="1"><t:Transition><t:To Kind="Period">Std</t:To></t:Transition></t:TransitionsGroup></t:TransitionsGroups>` +
	`<t:Transitions><t:Transition><t:To Kind="Group">0</t:To></t:Transition><t:AbsoluteDateTransition><t:To Kind="Group">1</t:To><t:DateTime>2030-01-01T00:00:00</t:DateTime></t:AbsoluteDateTransition></t:Transitions>` +
	`</t:TimeZoneDefinition></t:TimeZoneContext>`

// readFast are requests decodeAvailability must read itself, the way
// encoding/xml reads them.
func readFast() map[string]string {
	std := availability([]string{"user1@example.com", "user2@example.com"}, "2026-03-02T00:00:00", "2026-03-09T00:00:00", "30", "DetailedMerged")
	cases := map[string]string{
		"plain":       envelopeWith(`<t:RequestServerVersion Version="Exchange2013_SP1"/><t:TimeZoneContext><t:TimeZoneDefinition Id="GMT Standard Time"/></t:TimeZoneContext>`, std),
		"full zone":   envelopeWith(`<t:RequestServerVersion Version=" Exchange2010 "/>`+fullZone, std),
		"no header":   strings.Replace(envelopeWith("", std), "<soap:Header></soap:Header>", "", 1),
		"no view":     envelopeWith("", availability([]string{"a@b"}, "2026-03-02", "2026-03-03", "", "")),
		"suggestions": envelopeWith("", strings.Replace(std, "</m:GetUserAvailabilityRequest>", `<t:SuggestionsViewOptions><t:GoodThreshold>25</t:GoodThreshold></t:SuggestionsViewOptions></m:GetUserAvailabilityRequest>`, 1)),
		"soap 1.2": `<?xml version='1.0' encoding='UTF-8'?><s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope"><s:Body>` +
			`<GetUserAvailabilityRequest xmlns="http://schemas.microsoft.com/exchange/services/2006/messages"><MailboxDataArray><MailboxData><Email><Address>a@b</Address></Email></MailboxData></MailboxDataArray></GetUserAvailabilityRequest></s:Body></s:Envelope>`,
		"references and line ends": envelopeWith("\r\n  <!-- a comment -->\r\n", strings.Replace(std, "<t:Address>user1@example.com</t:Address>",
			"<t:Name>Zo&#xEB; &amp; Lu&#99;a\r\n \u00e9&lt;&gt;&apos;&quot;</t:Name><t:Address>\r\n user1@example.com <!-- x -->\r\n</t:Address><t:RoutingType>SMTP</t:RoutingType>", 1)),
		"attributes": `<soap:Envelope xmlns:soap = 'http://schemas.xmlsoap.org/soap/envelope/' xmlns:x="urn:&amp;x" x:other="a&#x9;b" ><soap:Header><t:RequestServerVersion xmlns:t="http://schemas.microsoft.com/exchange/services/2006/types" x:Version="one" Version='two'/></soap:Header><soap:Body xmlns:m="http://schemas.microsoft.com/exchange/services/2006/messages">` +
			`<m:GetUserAvailabilityRequest><m:Unknown a="1"><m:Deep><m:Deeper/></m:Deep></m:Unknown></m:GetUserAvailabilityRequest><m:Second/></soap:Body><soap:Trailer/></soap:Envelope>`,
		"int white space": envelopeWith("", strings.Replace(std, "<m:MailboxDataArray>", `<t:TimeZone><t:Bias> 300 </t:Bias><t:StandardTime><t:Bias></t:Bias><t:Month>11</t:Month><t:DayOrder>1</t:DayOrder><t:DayOfWeek>Sunday</t:DayOfWeek><t:Time>02:00:00</t:Time><t:Year/></t:StandardTime></t:TimeZone><m:MailboxDataArray>`, 1)),
		"empty elements":  envelopeWith("<t:TimeZoneContext/>", `<m:GetUserAvailabilityRequest><m:MailboxDataArray/><t:FreeBusyViewOptions><t:TimeWindow/><t:RequestedView/></t:FreeBusyViewOptions></m:GetUserAvailabilityRequest>`),
	}
	files, _ := filepath.Glob("testdata/*.request.xml")
	for _, p := range files {
		b, _ := os.ReadFile(p)
		cases[p] = string(b)
	}
	return cases
}

// Text broken by many comments is read whole, in time linear in its
// length.
func TestDecodeAvailabilityJoinsTextAroundComments(t *testing.T) {
	name := strings.Repeat("ab<!--c-->", 50000)
	body := envelopeWith("", strings.Replace(availability([]string{"a@b"}, "2026-03-02", "2026-03-03", "30", "FreeBusy"),
		"<t:Address>", "<t:Name>"+name+"</t:Name><t:Address>", 1))
	if !sameAsEncodingXML(t, []byte(body)) {
		t.Fatal("declined")
	}
	env, _, _ := decodeAvailability([]byte(body), soap.Limits{})
	if got := env.gua.MailboxDataArray.MailboxData[0].Email.Name; got != strings.Repeat("ab", 50000) {
		t.Fatalf("name of %d bytes", len(got))
	}
}

func TestDecodeAvailabilityReadsAsEncodingXML(t *testing.T) {
	for name, body := range readFast() {
		t.Run(name, func(t *testing.T) {
			if !sameAsEncodingXML(t, []byte(body)) {
				t.Fatalf("declined:\n%s", body)
			}
		})
	}
}

// Everything it does not read exactly is left to soap.Decode: malformed
// XML, what the limits refuse, elements met twice, other operations.
func TestDecodeAvailabilityDeclines(t *testing.T) {
	std := availability([]string{"user1@example.com"}, "2026-03-02T00:00:00", "2026-03-09T00:00:00", "30", "DetailedMerged")
	plain := envelopeWith(`<t:RequestServerVersion Version="Exchange2013_SP1"/>`, std)
	swap := func(old, new string) string {
		if !strings.Contains(plain, old) {
			t.Fatalf("%q not in the request", old)
		}
		return strings.Replace(plain, old, new, 1)
	}
	deep := strings.Repeat("<t:X>", 60) + strings.Repeat("</t:X>", 60)
	cases := map[string]struct {
		body    string
		refused bool // encoding/xml or the limits refuse it too
	}{
		"unclosed":              {plain[:len(plain)-20], true},
		"mismatched end":        {swap("</t:Address>", "</t:Adress>"), true},
		"end in another prefix": {swap("</t:Address>", "</m:Address>"), true},
		"unknown entity":        {swap("user1@example.com", "user1&nbsp;@example.com"), true},
		"entity without ;":      {swap("user1@example.com", "user1&amp@example.com"), true},
		"reference to NUL":      {swap("user1@example.com", "user1&#0;"), true},
		"reference too big":     {swap("user1@example.com", "&#x110000;"), true},
		"surrogate reference":   {swap("user1@example.com", "&#xD800;"), false}, // encoding/xml reads U+FFFD
		"invalid UTF-8":         {swap("user1@example.com", "user1\xff"), true},
		"control character":     {swap("user1@example.com", "user1\x01"), true},
		"U+FFFE":                {swap("user1@example.com", "user1\uFFFE"), true},
		"]]> in text":           {swap("user1@example.com", "a]]>b"), true},
		"< in a value":          {swap(`Version="Exchange2013_SP1"`, `Version="a<b"`), true},
		"unquoted value":        {swap(`Version="Exchange2013_SP1"`, `Version=Exchange2013_SP1`), true},
		"value without =":       {swap(`Version="Exchange2013_SP1"`, `Version`), true},
		"-- in a comment":       {swap("<soap:Body>", "<soap:Body><!-- a -- b -->"), true},
		"CDATA":                 {swap("user1@example.com", "<![CDATA[user1@example.com]]>"), false},
		"DTD":                   {`<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "b">]>` + plain[len(`<?xml version="1.0" encoding="utf-8"?>`):], true},
		"other encoding":        {strings.Replace(plain, "utf-8", "ISO-8859-1", 1), true},
		"XML 1.1":               {strings.Replace(plain, `version="1.0"`, `version="1.1"`, 1), true},
		"other instruction":     {swap("<soap:Body>", "<soap:Body><?php x ?>"), false},
		"text before the root":  {"x" + plain, false},
		"undeclared prefix":     {swap("<t:Address>user1@example.com</t:Address>", "<q:Address>user1@example.com</q:Address>"), false},
		"xml prefix declared":   {swap("<soap:Body>", `<soap:Body xmlns:xml="urn:x">`), false},
		"non-ASCII name":        {swap("<t:AttendeeType>Required</t:AttendeeType>", "<t:Attendée>Required</t:Attendée>"), false},
		"too deep":              {swap("<soap:Body>", "<soap:Body>"+deep), true},
		"too large":             {swap("user1@example.com", strings.Repeat("u", 2<<20)), true},
		"text in a value":       {swap("<t:Address>user1@example.com</t:Address>", "<t:Address>user1<t:B>x</t:B>@example.com</t:Address>"), false},
		"int not a number":      {swap("<m:MailboxDataArray>", "<t:TimeZone><t:Bias>x</t:Bias></t:TimeZone><m:MailboxDataArray>"), true},
		"int only white space":  {swap("<m:MailboxDataArray>", "<t:TimeZone><t:Bias> </t:Bias></t:TimeZone><m:MailboxDataArray>"), true},
		"two Address":           {swap("</t:Address>", "</t:Address><t:Address>b@c</t:Address>"), false},
		"two Email":             {swap("</t:Email>", "</t:Email><t:Email><t:Name>n</t:Name></t:Email>"), false},
		"two StartTime":         {swap("</t:StartTime>", "</t:StartTime><t:StartTime>2026-03-03</t:StartTime>"), false},
		"two views":             {swap("</t:RequestedView>", "</t:RequestedView><t:RequestedView>FreeBusy</t:RequestedView>"), false},
		"two MailboxDataArray":  {swap("<t:FreeBusyViewOptions>", "<m:MailboxDataArray/><t:FreeBusyViewOptions>"), false},
		"two TimeZone":          {swap("<m:MailboxDataArray>", "<t:TimeZone/><t:TimeZone/><m:MailboxDataArray>"), false},
		"two Bias":              {swap("<m:MailboxDataArray>", "<t:TimeZone><t:Bias>1</t:Bias><t:Bias>2</t:Bias></t:TimeZone><m:MailboxDataArray>"), false},
		"two zone contexts":     {swap("<soap:Body>", ""), false},
		"two definitions":       {envelopeWith(`<t:TimeZoneContext><t:TimeZoneDefinition Id="a"/><t:TimeZoneDefinition Id="b"/></t:TimeZoneContext>`, std), false},
		"two Periods":           {envelopeWith(`<t:TimeZoneContext><t:TimeZoneDefinition Id="a"><t:Periods/><t:Periods/></t:TimeZoneDefinition></t:TimeZoneContext>`, std), false},
		"two To":                {envelopeWith(`<t:TimeZoneContext><t:TimeZoneDefinition Id="a"><t:Transitions><t:Transition><t:To>0</t:To><t:To>1</t:To></t:Transition></t:Transitions></t:TimeZoneDefinition></t:TimeZoneContext>`, std), false},
		"two bodies":            {swap("</soap:Body>", "</soap:Body><soap:Body><m:GetServerTimeZones/></soap:Body>"), false},
		"two headers":           {swap("<soap:Body>", "<soap:Header/><soap:Body>"), false},
		"empty body":            {envelopeWith("", ""), true},
		"no body":               {`<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Header/></soap:Envelope>`, true},
		"not an envelope":       {`<Envelope xmlns="urn:x"><Body/></Envelope>`, true},
		"other operation":       {envelopeWith("", `<m:GetServerTimeZones/>`), false},
		"operation elsewhere":   {envelopeWith("", `<t:GetUserAvailabilityRequest/>`), false},
		"many declarations":     {swap("<soap:Body>", "<soap:Body"+strings.Repeat(` xmlns:p="urn:p"`, 65)+">"), false},
	}
	// Two TimeZoneContext headers.
	c := cases["two zone contexts"]
	c.body = envelopeWith(`<t:TimeZoneContext/><t:TimeZoneContext><t:TimeZoneDefinition Id="UTC"/></t:TimeZoneContext>`, std)
	cases["two zone contexts"] = c
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			if _, _, ok := decodeAvailability([]byte(c.body), soap.Limits{}); ok {
				t.Fatalf("read:\n%.3000s", c.body)
			}
			_, _, err := slowDecode([]byte(c.body), soap.Limits{})
			if refused := err != nil; refused != c.refused {
				t.Errorf("soap.Decode: %v; the case says refused %v", err, c.refused)
			}
		})
	}
}

// A declined request gets the answer soap.Decode's reading gives: the
// same fault for the same fault, through the handler.
func TestDeclinedRequestsKeepTheirFaults(t *testing.T) {
	h := docsFixture()
	std := availability([]string{"user1@example.com"}, "2006-10-16T00:00:00", "2006-10-17T00:00:00", "30", "DetailedMerged")
	for _, c := range []struct{ body, code string }{
		{envelopeWith("", strings.Replace(std, "</t:Address>", "</t:Adress>", 1)), "ErrorSchemaValidation"},
		{envelopeWith("", strings.Replace(std, "user1@", "user1&nbsp;@", 1)), "ErrorSchemaValidation"},
		{envelopeWith("", strings.Replace(std, "user1@", "user1\xff@", 1)), "ErrorSchemaValidation"},
		{envelopeWith("", strings.Replace(std, "user1@", strings.Repeat("u", 2<<20), 1)), "ErrorRequestStreamTooBig"},
		{envelopeWith("", strings.Replace(std, "<m:MailboxDataArray>", strings.Repeat("<t:X>", 60)+strings.Repeat("</t:X>", 60)+"<m:MailboxDataArray>", 1)), "ErrorSchemaValidation"},
		{`<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "b">]><x/>`, "ErrorSchemaValidation"},
		{envelopeWith("", strings.Replace(std, "<m:MailboxDataArray>", "<t:TimeZone><t:Bias>x</t:Bias></t:TimeZone><m:MailboxDataArray>", 1)), "ErrorSchemaValidation"},
		{envelopeWith("", ""), "ErrorSchemaValidation"},
	} {
		status, out := post(t, h, c.body, &partner)
		if status != http.StatusInternalServerError || faultCode(out) != c.code {
			t.Errorf("%.120s…: %d %s, want 500 %s", c.body, status, faultCode(out), c.code)
		}
		// The same reading as soap.Decode's.
		if _, _, err := slowDecode([]byte(c.body), soap.Limits{}); err == nil {
			t.Errorf("soap.Decode reads %.120s…", c.body)
		}
	}
	// Duplicates are read by encoding/xml's rules: the last StartTime.
	twice := envelopeWith("", strings.Replace(std, "</t:StartTime>", "</t:StartTime><t:StartTime>2006-10-18T00:00:00</t:StartTime>", 1))
	if status, out := post(t, h, twice, &partner); status != http.StatusInternalServerError || faultCode(out) != "ErrorInvalidTimeInterval" {
		t.Errorf("two StartTimes: %d %s, want the second one read (ErrorInvalidTimeInterval)", status, faultCode(out))
	}
}

// Whatever the bytes, decodeAvailability declines or agrees with
// encoding/xml.
func FuzzDecodeAvailability(f *testing.F) {
	for _, body := range readFast() {
		f.Add(body)
	}
	f.Add(envelopeWith("", `<m:GetUserAvailabilityRequest><t:TimeZone><t:Bias>1</t:Bias></t:TimeZone></m:GetUserAvailabilityRequest>`))
	f.Fuzz(func(t *testing.T, body string) {
		sameAsEncodingXML(t, []byte(body))
	})
}

// soap.Decode's errors stay what they were for requests the fast reading
// declines at once.
func TestDecodeAvailabilityLimits(t *testing.T) {
	l := soap.Limits{MaxBytes: 2000, MaxDepth: 8, MaxElements: 10}
	body := envelopeWith("", availability([]string{"a@b"}, "2026-03-02", "2026-03-03", "30", "FreeBusy"))
	if _, _, ok := decodeAvailability([]byte(body), l); ok {
		t.Fatal("read a request over the element limit")
	}
	if _, _, err := slowDecode([]byte(body), l); !errors.Is(err, soap.ErrTooMany) {
		t.Fatalf("soap.Decode: %v", err)
	}
	l.MaxElements = 100
	if _, _, ok := decodeAvailability([]byte(body), l); !ok {
		t.Fatal("declined a request within the limits")
	}
	l.MaxDepth = 5
	if _, _, ok := decodeAvailability([]byte(body), l); ok {
		t.Fatal("read a request over the depth limit")
	}
}
