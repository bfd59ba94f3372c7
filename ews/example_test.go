package ews_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/calfed/calfed/calendar"
	"github.com/calfed/calfed/ews"
	"github.com/calfed/calfed/freebusy"
	"github.com/calfed/calfed/internal/identity"
	"github.com/calfed/calfed/orgrel"
)

func Example() {
	ics := "BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nUID:1\r\nDTSTART:20260323T090000Z\r\nDTEND:20260323T100000Z\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
	dir, _ := calendar.NewDirectory(context.Background(), []calendar.Entry{{
		Mailbox: calendar.Mailbox{Address: "alice@contoso.example"},
		Source:  calendar.StaticSource{Name: "alice.ics", Data: []byte(ics)},
	}}, calendar.DirectoryOptions{})
	policy, _ := orgrel.NewPolicy([]orgrel.Relationship{{Name: "Partner", Domains: []string{"partner.example"},
		Enabled: true, FreeBusyAccessEnabled: true, FreeBusyAccessLevel: orgrel.AvailabilityOnly}}, nil)
	h := ews.New(ews.Options{FreeBusy: freebusy.New(freebusy.Options{Directory: dir, Access: policy})})

	body := `<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/" xmlns:t="http://schemas.microsoft.com/exchange/services/2006/types" xmlns:m="http://schemas.microsoft.com/exchange/services/2006/messages"><s:Body>
<m:GetUserAvailabilityRequest><m:MailboxDataArray><t:MailboxData><t:Email><t:Address>alice@contoso.example</t:Address></t:Email></t:MailboxData></m:MailboxDataArray>
<t:FreeBusyViewOptions><t:TimeWindow><t:StartTime>2026-03-23T08:00:00</t:StartTime><t:EndTime>2026-03-23T12:00:00</t:EndTime></t:TimeWindow>
<t:MergedFreeBusyIntervalInMinutes>60</t:MergedFreeBusyIntervalInMinutes><t:RequestedView>DetailedMerged</t:RequestedView></t:FreeBusyViewOptions>
</m:GetUserAvailabilityRequest></s:Body></s:Envelope>`
	req := httptest.NewRequest(http.MethodPost, "/EWS/Exchange.asmx", strings.NewReader(body))
	// In calfed an authenticator puts the verified caller there.
	req = req.WithContext(identity.NewContext(context.Background(), identity.Caller{Domain: "partner.example"}))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	out := rec.Body.String()
	fmt.Println(between(out, "<FreeBusyViewType", "</FreeBusyViewType>"))
	fmt.Println(between(out, "<MergedFreeBusy", "</MergedFreeBusy>"))
	// Output:
	// FreeBusyMerged
	// 0200
}

func between(s, open, close string) string {
	i := strings.Index(s, open)
	i += strings.IndexByte(s[i:], '>') + 1
	return s[i : i+strings.Index(s[i:], close)]
}
