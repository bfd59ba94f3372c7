package ews

import (
	"encoding/xml"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/calfed/calfed/internal/identity"
)

// fbAnswer is a GetUserAvailability answer decoded by local names, the
// way Exchange's requester reads it: FreeBusyResponses matched to the
// requested mailboxes by position. docs/protocol.md §1.4.
type fbAnswer struct {
	Responses []fbResponse `xml:"Body>GetUserAvailabilityResponse>FreeBusyResponseArray>FreeBusyResponse"`
}

type fbResponse struct {
	Message *struct {
		Class      string `xml:"ResponseClass,attr"`
		Text       string `xml:"MessageText"`
		Code       string `xml:"ResponseCode"`
		LinkKey    string `xml:"DescriptiveLinkKey"`
		MessageXML *struct {
			Type       string `xml:"ExceptionType"`
			Code       string `xml:"ExceptionCode"`
			Message    string `xml:"ExceptionMessage"`
			ServerName string `xml:"ExceptionServerName"`
		} `xml:"MessageXml"`
	} `xml:"ResponseMessage"`
	View *struct {
		Type   string `xml:"FreeBusyViewType"`
		Merged string `xml:"MergedFreeBusy"`
		Events *struct {
			Events []struct {
				Busy string `xml:"BusyType"`
			} `xml:"CalendarEvent"`
		} `xml:"CalendarEventArray"`
		WorkingHours *struct {
			Bias    *int `xml:"TimeZone>Bias"`
			Periods []struct {
				Days  string `xml:"DayOfWeek"`
				Start int    `xml:"StartTimeInMinutes"`
				End   int    `xml:"EndTimeInMinutes"`
			} `xml:"WorkingPeriodArray>WorkingPeriod"`
		} `xml:"WorkingHours"`
	} `xml:"FreeBusyView"`
}

func decodeAnswer(t *testing.T, body []byte) []fbResponse {
	t.Helper()
	var a fbAnswer
	if err := xml.Unmarshal(body, &a); err != nil {
		t.Fatalf("answer does not parse: %v\n%s", err, body)
	}
	return a.Responses
}

// Every way of having no access gives Exchange's NoFreeBusyAccessException
// answer, word for word, with the LID telling a caller without a
// relationship (40764) from the rest (44348); an unknown address stays
// ErrorMailRecipientNotFound. docs/protocol.md §1.5, §1.7.
func TestNoFreeBusyAccessAsExchange(t *testing.T) {
	h := docsFixture()
	stranger := identity.Caller{Domain: "stranger.example"}
	tests := []struct {
		name    string
		caller  identity.Caller
		address string
		lid     string
	}{
		{"no relationship", stranger, "user1@example.com", "40764"},
		{"level None", partner, "none@example.com", "44348"},
	}
	for _, tt := range tests {
		_, out := post(t, h, envelopeWith("", availability([]string{tt.address}, "2006-10-16T00:00:00", "2006-10-17T00:00:00", "", "Detailed")), &tt.caller)
		rs := decodeAnswer(t, out)
		if len(rs) != 1 || rs[0].Message == nil || rs[0].Message.MessageXML == nil || rs[0].View == nil {
			t.Fatalf("%s: answer %+v\n%s", tt.name, rs, out)
		}
		m := rs[0].Message
		wantText := "Microsoft.Exchange.InfoWorker.Common.Availability.NoFreeBusyAccessException: The caller does not have access to free/busy data.\r\n. Name of the server where exception originated: FB01. LID: " + tt.lid
		if m.Class != "Error" || m.Code != "ErrorNoFreeBusyAccess" || m.Text != wantText || m.LinkKey != "0" {
			t.Errorf("%s: ResponseMessage = %s %s %q %s, want Error ErrorNoFreeBusyAccess %q 0", tt.name, m.Class, m.Code, m.Text, m.LinkKey, wantText)
		}
		x := m.MessageXML
		if x.Type != "NoFreeBusyAccessException" || x.Code != "5037" || x.Message != "The caller does not have access to free/busy data." || x.ServerName != "FB01" {
			t.Errorf("%s: MessageXml = %+v", tt.name, *x)
		}
		if v := rs[0].View; v.Type != "None" || v.Events != nil || v.WorkingHours != nil {
			t.Errorf("%s: FreeBusyView = %+v, want None alone", tt.name, *v)
		}
	}
	_, out := post(t, h, envelopeWith("", availability([]string{"nobody@example.com"}, "2006-10-16T00:00:00", "2006-10-17T00:00:00", "", "")), &stranger)
	if rs := decodeAnswer(t, out); len(rs) != 1 || rs[0].Message.Code != "ErrorMailRecipientNotFound" {
		t.Errorf("unknown address for a stranger: %s", out)
	}
}

// A mailbox without working hours answers with Outlook on the web's
// default, 08:00 to 17:00 Monday to Friday in its own zone, in one
// WorkingPeriod; a window without events has no CalendarEventArray, as
// Exchange Online answers. docs/protocol.md §1.4, §1.6.
func TestDefaultWorkingHoursAndNoEmptyEventArray(t *testing.T) {
	h := docsFixture()
	_, out := post(t, h, envelopeWith("", availability([]string{"user2@example.com", "user2@example.com"}, "2006-10-18T00:00:00", "2006-10-19T00:00:00", "60", "FreeBusyMerged")), &partner)
	rs := decodeAnswer(t, out)
	if len(rs) != 2 {
		t.Fatalf("%d answers\n%s", len(rs), out)
	}
	v := rs[0].View
	if v == nil || v.Type != "FreeBusyMerged" || v.Merged != strings.Repeat("0", 24) {
		t.Fatalf("view %+v\n%s", v, out)
	}
	if v.Events != nil {
		t.Errorf("an empty CalendarEventArray is written:\n%s", out)
	}
	wh := v.WorkingHours
	if wh == nil || len(wh.Periods) != 1 || wh.Bias == nil || *wh.Bias != 480 {
		t.Fatalf("working hours %+v, want one period in Pacific time\n%s", wh, out)
	}
	if p := wh.Periods[0]; p.Days != "Monday Tuesday Wednesday Thursday Friday" || p.Start != 480 || p.End != 1020 {
		t.Errorf("working period = %+v, want Monday to Friday 480-1020", p)
	}
}

// What Exchange's requester needs of an answer: one FreeBusyResponse per
// mailbox, in request order, each with a ResponseMessage and a
// FreeBusyView even on error; never ResponseClass Warning; never more than
// one WorkingPeriod; only values the schema's enumerations hold. It asks
// with RequestServerVersion Exchange2009 or Exchange2012 (names outside
// the public schema) and may send a custom TimeZoneContext. docs/protocol.md §1.3,
// §1.4, §1.7.
func TestWhatExchangesRequesterNeeds(t *testing.T) {
	h := docsFixture()
	mailboxes := []string{"user1@example.com", "nobody@example.com", "none@example.com", "user2@example.com", "broken@example.com", "USER1@example.com"}
	wantCodes := []string{"NoError", "ErrorMailRecipientNotFound", "ErrorNoFreeBusyAccess", "NoError", "ErrorFreeBusyGenerationFailed", "NoError"}
	custom := `<t:TimeZoneContext><t:TimeZoneDefinition Id="tzone://Microsoft/Custom" Name="Customized Time Zone"><t:Periods><t:Period Bias="PT8H" Name="Standard" Id="trule:Microsoft/Custom/2006-Standard"/><t:Period Bias="PT7H" Name="Daylight" Id="trule:Microsoft/Custom/2006-Daylight"/></t:Periods><t:TransitionsGroups><t:TransitionsGroup Id="0"><t:RecurringDayTransition><t:To Kind="Period">trule:Microsoft/Custom/2006-Daylight</t:To><t:TimeOffset>PT2H</t:TimeOffset><t:Month>4</t:Month><t:DayOfWeek>Sunday</t:DayOfWeek><t:Occurrence>1</t:Occurrence></t:RecurringDayTransition><t:RecurringDayTransition><t:To Kind="Period">trule:Microsoft/Custom/2006-Standard</t:To><t:TimeOffset>PT2H</t:TimeOffset><t:Month>10</t:Month><t:DayOfWeek>Sunday</t:DayOfWeek><t:Occurrence>-1</t:Occurrence></t:RecurringDayTransition></t:TransitionsGroup></t:TransitionsGroups><t:Transitions><t:Transition><t:To Kind="Group">0</t:To></t:Transition></t:Transitions></t:TimeZoneDefinition></t:TimeZoneContext>`
	customNoRules := `<t:TimeZoneContext><t:TimeZoneDefinition Id="tzone://Microsoft/Custom" Name="Customized Time Zone"/></t:TimeZoneContext>`
	pacificBody := `<t:TimeZone><t:Bias>480</t:Bias><t:StandardTime><t:Bias>0</t:Bias><t:Time>02:00:00</t:Time><t:DayOrder>5</t:DayOrder><t:Month>10</t:Month><t:DayOfWeek>Sunday</t:DayOfWeek></t:StandardTime><t:DaylightTime><t:Bias>-60</t:Bias><t:Time>02:00:00</t:Time><t:DayOrder>1</t:DayOrder><t:Month>4</t:Month><t:DayOfWeek>Sunday</t:DayOfWeek></t:DaylightTime></t:TimeZone>`
	schema := map[string][]string{
		"FreeBusyViewType": {"None", "MergedOnly", "FreeBusy", "FreeBusyMerged", "Detailed", "DetailedMerged"},
		"BusyType":         {"Free", "Tentative", "Busy", "OOF", "WorkingElsewhere", "NoData"},
		"ResponseClass":    {"Success", "Error"}, // Warning is schema-valid, but Exchange's requester treats it as failure
	}
	days := []string{"Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Day", "Weekday", "WeekendDay"}
	for _, version := range []string{"Exchange2009", "Exchange2012"} {
		for _, tz := range []struct{ name, header string }{{"custom zone", custom}, {"custom zone without rules", customNoRules}} {
			header := `<t:RequestServerVersion Version="` + version + `"/><t:RequestTypeHeader><t:RequestType>CrossForest</t:RequestType></t:RequestTypeHeader>` + tz.header
			body := strings.Replace(availability(mailboxes, "2006-10-16T00:00:00", "2006-10-17T00:00:00", "30", "DetailedMerged"), "<m:MailboxDataArray>", pacificBody+"<m:MailboxDataArray>", 1)
			status, out := post(t, h, envelopeWith(header, body), &partner)
			if status != http.StatusOK {
				t.Fatalf("%s, %s: status %d\n%s", version, tz.name, status, out)
			}
			rs := decodeAnswer(t, out)
			if len(rs) != len(mailboxes) {
				t.Fatalf("%s, %s: %d answers for %d mailboxes", version, tz.name, len(rs), len(mailboxes))
			}
			for i, r := range rs {
				if r.Message == nil || r.View == nil {
					t.Errorf("%s, %s: answer %d lacks ResponseMessage or FreeBusyView", version, tz.name, i)
					continue
				}
				if r.Message.Code != wantCodes[i] {
					t.Errorf("%s, %s: answer %d (%s) = %s, want %s", version, tz.name, i, mailboxes[i], r.Message.Code, wantCodes[i])
				}
				if !slices.Contains(schema["ResponseClass"], r.Message.Class) || !slices.Contains(schema["FreeBusyViewType"], r.View.Type) {
					t.Errorf("%s, %s: answer %d: class %q, view %q", version, tz.name, i, r.Message.Class, r.View.Type)
				}
				if r.View.Events != nil {
					for _, ev := range r.View.Events.Events {
						if !slices.Contains(schema["BusyType"], ev.Busy) || (version == "Exchange2009" && ev.Busy == "WorkingElsewhere") {
							t.Errorf("%s, %s: answer %d: BusyType %q", version, tz.name, i, ev.Busy)
						}
					}
				}
				if wh := r.View.WorkingHours; wh != nil {
					if len(wh.Periods) != 1 {
						t.Errorf("%s, %s: answer %d: %d working periods", version, tz.name, i, len(wh.Periods))
					}
					for _, p := range wh.Periods {
						for _, d := range strings.Fields(p.Days) {
							if !slices.Contains(days, d) {
								t.Errorf("%s, %s: answer %d: DayOfWeek %q", version, tz.name, i, d)
							}
						}
					}
				} else if r.Message.Code == "NoError" {
					t.Errorf("%s, %s: answer %d has no WorkingHours", version, tz.name, i)
				}
			}
			// 13:00Z is 06:00 in the custom zone on Pacific daylight time.
			if !strings.Contains(string(out), "<StartTime>2006-10-16T06:00:00</StartTime>") {
				t.Errorf("%s, %s: events not in the request's zone\n%s", version, tz.name, out)
			}
		}
	}
}

// A legacy DN calfed handed out in Autodiscover reaches its mailbox when a
// client sends it back with RoutingType EX or as an X500 address; a DN
// that is not one of ours stays unknown. docs/protocol.md §1.2.
func TestLegacyDNAddresses(t *testing.T) {
	h := docsFixture()
	const dn = "/o=calfed/ou=Exchange Administrative Group (FYDIBOHF23SPDLT)/cn=Recipients/cn=0123456789abcdef-user1"
	h.opt.ResolveLegacyDN = func(s string) (string, bool) {
		if strings.EqualFold(strings.TrimPrefix(s, "X500:"), dn) {
			return "user1@example.com", true
		}
		return "", false
	}
	email := func(addr, rt string) string {
		md := `<t:MailboxData><t:Email><t:Address>` + addr + `</t:Address>`
		if rt != "" {
			md += `<t:RoutingType>` + rt + `</t:RoutingType>`
		}
		return md + `</t:Email><t:AttendeeType>Required</t:AttendeeType></t:MailboxData>`
	}
	body := strings.Replace(availability([]string{"user1@example.com"}, "2006-10-16T00:00:00", "2006-10-17T00:00:00", "", "Detailed"),
		`<t:MailboxData><t:Email><t:Address>user1@example.com</t:Address></t:Email><t:AttendeeType>Required</t:AttendeeType></t:MailboxData>`,
		email("user1@example.com", "SMTP")+email(dn, "EX")+email("X500:"+dn, "SMTP")+email(strings.ToUpper(dn), "EX")+
			email("/o=calfed/ou=Exchange Administrative Group (FYDIBOHF23SPDLT)/cn=Recipients/cn=0123456789abcdef-nobody", "EX"), 1)
	_, out := post(t, h, envelopeWith("", body), &partner)
	rs := decodeAnswer(t, out)
	want := []string{"NoError", "NoError", "NoError", "NoError", "ErrorMailRecipientNotFound"}
	if len(rs) != len(want) {
		t.Fatalf("%d answers\n%s", len(rs), out)
	}
	for i, r := range rs {
		if r.Message.Code != want[i] || (want[i] == "NoError" && (r.View.Type != "Detailed" || r.View.Events == nil || len(r.View.Events.Events) != 3)) {
			t.Errorf("answer %d: %s, view %+v", i, r.Message.Code, r.View)
		}
	}
}
