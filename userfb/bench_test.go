package userfb

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/calfed/calfed/calendar"
	"github.com/calfed/calfed/freebusy"
	"github.com/calfed/calfed/orgrel"
	"github.com/calfed/calfed/partner"
	"github.com/calfed/calfed/userauth"
)

var askedRE = regexp.MustCompile(`<t:Address>([^<]*)</t:Address>`)

// slowPartner answers GetUserAvailability after latency, one busy hour
// per mailbox: a partner organisation across a network.
func slowPartner(latency time.Duration) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		n := len(askedRE.FindAll(body, -1))
		time.Sleep(latency) // the partner's network and processing time, simulated
		var b strings.Builder
		b.WriteString(`<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body><GetUserAvailabilityResponse xmlns="http://schemas.microsoft.com/exchange/services/2006/messages"><FreeBusyResponseArray>`)
		for range n {
			b.WriteString(`<FreeBusyResponse><ResponseMessage ResponseClass="Success"><ResponseCode>NoError</ResponseCode></ResponseMessage><FreeBusyView><FreeBusyViewType xmlns="http://schemas.microsoft.com/exchange/services/2006/types">FreeBusy</FreeBusyViewType><CalendarEventArray xmlns="http://schemas.microsoft.com/exchange/services/2006/types"><CalendarEvent><StartTime>2026-03-24T10:00:00</StartTime><EndTime>2026-03-24T11:00:00</EndTime><BusyType>Busy</BusyType></CalendarEvent></CalendarEventArray></FreeBusyView></FreeBusyResponse>`)
		}
		b.WriteString(`</FreeBusyResponseArray></GetUserAvailabilityResponse></s:Body></s:Envelope>`)
		io.WriteString(w, b.String())
	})
}

type noDirectory struct{}

func (noDirectory) Lookup(string) (*calendar.Mailbox, bool) { return nil, false }
func (noDirectory) AppendEvents(ctx context.Context, dst []calendar.Event, _ string, _, _ time.Time) ([]calendar.Event, error) {
	return dst, nil
}

type tokens struct{}

func (tokens) Token(ctx context.Context, user, uri, offer string) ([]byte, error) {
	return []byte(`<xenc:EncryptedData xmlns:xenc="http://www.w3.org/2001/04/xmlenc#"/>`), nil
}

// BenchmarkPartnerAttendees is one JSON question from one of our users
// about 10 partner attendees across 3 partners, each partner answering
// after 50 ms, with no answer cached: every partner asked once, all at
// once, so a question should take one partner round trip and our
// overhead. ms/op is the figure; the partners' 50 ms are simulated.
func BenchmarkPartnerAttendees(b *testing.B) {
	var rels partner.Static
	var attendees []string
	for i, n := range []int{4, 3, 3} {
		srv := httptest.NewServer(slowPartner(50 * time.Millisecond))
		defer srv.Close()
		d := fmt.Sprintf("p%d.example", i)
		rels = append(rels, orgrel.Relationship{Name: d, Domains: []string{d}, Enabled: true, FreeBusyAccessEnabled: true,
			TargetApplicationURI: "FYDIBOHF25SPDLT." + d, TargetSharingEPR: srv.URL + "/EWS/Exchange.asmx"})
		for j := range n {
			attendees = append(attendees, fmt.Sprintf("u%d@%s", j, d))
		}
	}
	asker := &partner.Asker{Relationships: rels, Tokens: tokens{}, CacheFor: -1}
	fb := freebusy.New(freebusy.Options{Directory: noDirectory{}, Access: nil, Remote: asker})
	h := New(Options{FreeBusy: fb, Now: func() time.Time { return t0 }}).JSON()
	body := `{"attendees": ["` + strings.Join(attendees, `", "`) + `"], "start": "2026-03-24", "end": "2026-03-25"}`
	ctx := userauth.NewContext(context.Background(), userauth.User{Address: "alice@a.example", Via: "token"})
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	for range b.N {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, httptest.NewRequest("POST", "/freebusy/v1/availability", strings.NewReader(body)).WithContext(ctx))
		if w.Code != 200 || strings.Count(w.Body.String(), `"response_code":"NoError"`) != 10 {
			b.Fatalf("%d %s", w.Code, w.Body)
		}
	}
	b.ReportMetric(float64(time.Since(start).Microseconds())/1000/float64(b.N), "ms/op")
}
