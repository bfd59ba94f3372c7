package ews

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/calfed/calfed/calendar"
	"github.com/calfed/calfed/freebusy"
	"github.com/calfed/calfed/internal/identity"
	"github.com/calfed/calfed/internal/soap"
	"github.com/calfed/calfed/orgrel"
)

// clientDirectory is one mailbox with two events.
type clientDirectory struct{}

func (clientDirectory) Lookup(addr string) (*calendar.Mailbox, bool) {
	if strings.ToLower(addr) != "bob@b.example" {
		return nil, false
	}
	return &calendar.Mailbox{Address: "bob@b.example", Location: time.UTC}, true
}

func (clientDirectory) AppendEvents(ctx context.Context, dst []calendar.Event, addr string, from, to time.Time) ([]calendar.Event, error) {
	at := func(h int) time.Time { return time.Date(2026, 3, 24, h, 0, 0, 0, time.UTC) }
	return append(dst,
		calendar.Event{Start: at(10), End: at(11), Item: calendar.Item{Busy: calendar.Busy}.WithText("Design review", "Room 1")},
		calendar.Event{Start: at(13), End: at(14), Item: calendar.Item{Busy: calendar.OOF, Private: true}.WithText("Dentist", "")},
	), nil
}

type clientAccess struct{}

func (clientAccess) Access(c identity.Caller, mailbox string, groups []string) orgrel.Decision {
	return orgrel.Decision{Related: true, Level: orgrel.LimitedDetails}
}

func str(s string) *string { return &s }

// The client's request is what the handler reads, and the handler's answer
// is what the client reads: one wire model for both sides.
func TestClientAgainstHandler(t *testing.T) {
	fb := freebusy.New(freebusy.Options{Directory: clientDirectory{}, Access: clientAccess{}})
	h := New(Options{FreeBusy: fb, Now: func() time.Time { return time.Date(2026, 3, 24, 0, 0, 0, 0, time.UTC) }})
	var sawToken bool
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// What a guard does: take the caller from the token.
		body, _ := soap.ReadRequest(r, soap.Limits{})
		sawToken = strings.Contains(string(body), `<e:EncryptedData xmlns:e="http://www.w3.org/2001/04/xmlenc#"/>`)
		r.Body = http.NoBody
		r2 := httptest.NewRequest(http.MethodPost, "/EWS/Exchange.asmx", strings.NewReader(string(body)))
		r2 = r2.WithContext(identity.NewContext(r.Context(), identity.Caller{Domain: "a.example", Email: "alice@a.example"}))
		h.ServeHTTP(w, r2)
	}))
	defer srv.Close()
	req := &GetUserAvailabilityRequest{
		TimeZone: UTCTimeZone(),
		MailboxDataArray: &MailboxDataArray{MailboxData: []MailboxData{
			{Email: EmailAddress{Address: "bob@b.example"}, AttendeeType: "Required", ExcludeConflicts: "false"},
			{Email: EmailAddress{Address: "nobody@b.example"}, AttendeeType: "Required", ExcludeConflicts: "false"},
		}},
		FreeBusyViewOptions: &FreeBusyViewOptions{
			TimeWindow:                      &TimeWindow{StartTime: str("2026-03-24T00:00:00"), EndTime: str("2026-03-25T00:00:00")},
			MergedFreeBusyIntervalInMinutes: str("60"),
			RequestedView:                   str("DetailedMerged"),
		},
	}
	c := &Client{}
	resp, err := c.GetUserAvailability(context.Background(), srv.URL, RequestHeader{RequestType: "CrossForest", Token: []byte(`<e:EncryptedData xmlns:e="http://www.w3.org/2001/04/xmlenc#"/>`)}, req)
	if err != nil {
		t.Fatal(err)
	}
	if !sawToken {
		t.Errorf("the token was not sent in the request")
	}
	if len(resp.FreeBusyResponses) != 2 {
		t.Fatalf("GetUserAvailability = %d responses, want 2", len(resp.FreeBusyResponses))
	}
	bob, nobody := resp.FreeBusyResponses[0], resp.FreeBusyResponses[1]
	if bob.ResponseMessage.ResponseCode != "NoError" || bob.FreeBusyView == nil {
		t.Fatalf("bob: %+v", bob)
	}
	v := bob.FreeBusyView
	if vt, err := freebusy.ParseView(v.FreeBusyViewType); err != nil || vt != freebusy.ViewDetailedMerged {
		t.Errorf("view = %q, want DetailedMerged", v.FreeBusyViewType)
	}
	if want := strings.Repeat("0", 10) + "2003" + strings.Repeat("0", 10); v.MergedFreeBusy != want {
		t.Errorf("merged = %q, want %q", v.MergedFreeBusy, want)
	}
	if len(v.CalendarEvents) != 2 {
		t.Fatalf("events = %+v", v.CalendarEvents)
	}
	e0, e1 := v.CalendarEvents[0], v.CalendarEvents[1]
	if e0.StartTime != "2026-03-24T10:00:00" || e0.EndTime != "2026-03-24T11:00:00" || e0.BusyType != "Busy" || e0.Details == nil || e0.Details.Subject != "Design review" || e0.Details.Location != "Room 1" {
		t.Errorf("first event = %+v %+v", e0, e0.Details)
	}
	if e1.BusyType != "OOF" || e1.Details == nil || !e1.Details.IsPrivate || e1.Details.Subject != "" {
		t.Errorf("private event = %+v %+v", e1, e1.Details)
	}
	if nobody.ResponseMessage.ResponseCode != "ErrorMailRecipientNotFound" || nobody.ResponseMessage.ResponseClass != "Error" {
		t.Errorf("nobody: %+v", nobody.ResponseMessage)
	}
}

func TestClientErrors(t *testing.T) {
	for _, tt := range []struct {
		name   string
		status int
		body   string
		want   error
	}{
		{"another operation", 200, `<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body><x/></s:Body></s:Envelope>`, ErrResponse},
		{"not XML", 200, `<<<`, ErrResponse},
	} {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.WriteHeader(tt.status)
				w.Write([]byte(tt.body))
			}))
			defer srv.Close()
			_, err := (&Client{}).GetUserAvailability(context.Background(), srv.URL, RequestHeader{}, &GetUserAvailabilityRequest{})
			if !errors.Is(err, tt.want) {
				t.Errorf("GetUserAvailability = %v, want %v", err, tt.want)
			}
		})
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(500) }))
	defer srv.Close()
	if _, err := (&Client{}).GetUserAvailability(context.Background(), srv.URL, RequestHeader{}, &GetUserAvailabilityRequest{}); err == nil || !strings.Contains(err.Error(), "HTTP 500") {
		t.Errorf("GetUserAvailability after HTTP 500 = %v", err)
	}
}

// Any response body is read or refused without a panic.
func FuzzGetUserAvailabilityResponse(f *testing.F) {
	f.Add([]byte(`<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body><GetUserAvailabilityResponse xmlns="http://schemas.microsoft.com/exchange/services/2006/messages"><FreeBusyResponseArray><FreeBusyResponse><ResponseMessage ResponseClass="Success"><ResponseCode>NoError</ResponseCode></ResponseMessage><FreeBusyView><FreeBusyViewType xmlns="http://schemas.microsoft.com/exchange/services/2006/types">FreeBusy</FreeBusyViewType></FreeBusyView></FreeBusyResponse></FreeBusyResponseArray></GetUserAvailabilityResponse></s:Body></s:Envelope>`))
	f.Fuzz(func(t *testing.T, data []byte) {
		var e responseEnvelope
		soap.Decode(data, soap.Limits{}, &e)
	})
}
