package userfb

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/calfed/calfed/freebusy"
	"github.com/calfed/calfed/userauth"
)

var t0 = time.Date(2026, 3, 24, 0, 0, 0, 0, time.UTC)

// fake answers every attendee from a table, and records the last query
// and user.
type fake struct {
	results map[string]freebusy.Result
	q       *freebusy.Query
	user    string
}

func (f *fake) Ask(ctx context.Context, user string, q *freebusy.Query) ([]freebusy.Result, error) {
	f.q, f.user = q, user
	out := make([]freebusy.Result, len(q.Mailboxes))
	for i, m := range q.Mailboxes {
		r, ok := f.results[m]
		if !ok {
			r = freebusy.Result{Outcome: freebusy.NotFound}
		}
		r.Address = m
		out[i] = r
	}
	return out, nil
}

func fixture() (*fake, *Handler) {
	f := &fake{results: map[string]freebusy.Result{
		"bob@b.example": {Outcome: freebusy.OK, Code: "NoError", View: freebusy.ViewDetailed, Events: []freebusy.Event{
			freebusy.RemoteEvent(t0.Add(12*time.Hour), t0.Add(13*time.Hour), freebusy.Tentative, true, false, "Lunch, with; team", "Canteen"),
			freebusy.RemoteEvent(t0.Add(9*time.Hour), t0.Add(10*time.Hour), freebusy.Busy, true, true, "", ""),
			freebusy.RemoteEvent(t0.Add(-2*time.Hour), t0.Add(time.Hour), freebusy.OOF, true, false, "", ""),
			freebusy.RemoteEvent(t0.Add(14*time.Hour), t0.Add(15*time.Hour), freebusy.WorkingElsewhere, true, false, "", ""),
		}},
		"carol@b.example": {Outcome: freebusy.NoAccess, Code: "ErrorNoFreeBusyAccess", Message: "The caller does not have access to free/busy data."},
		"dan@c.example":   {Outcome: freebusy.PartnerFailed, Code: "ErrorTimeoutExpired", Message: "C did not answer within 10s"},
	}}
	return f, New(Options{FreeBusy: f, Now: func() time.Time { return t0.Add(8 * time.Hour) }})
}

func serve(h http.Handler, r *http.Request) *httptest.ResponseRecorder {
	r = r.WithContext(userauth.NewContext(r.Context(), userauth.User{Address: "alice@a.example", Via: "token"}))
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

func withAddress(r *http.Request, a string) *http.Request {
	r.SetPathValue("address", a)
	return r
}

func TestICal(t *testing.T) {
	f, h := fixture()
	w := serve(h.ICal(), withAddress(httptest.NewRequest("GET", "/freebusy/bob@b.example.vfb?start=20260324T000000Z&end=2026-03-25", nil), "bob@b.example.vfb"))
	if w.Code != 200 || w.Header().Get("Content-Type") != "text/calendar; charset=utf-8" {
		t.Fatalf("GET = %d %v %s", w.Code, w.Header(), w.Body)
	}
	if f.user != "alice@a.example" || !f.q.Start.Equal(t0) || !f.q.End.Equal(t0.Add(24*time.Hour)) || f.q.Mailboxes[0] != "bob@b.example" {
		t.Errorf("asked %+v as %q", f.q, f.user)
	}
	body := w.Body.String()
	for _, want := range []string{
		"BEGIN:VCALENDAR\r\n", "METHOD:PUBLISH\r\n", "BEGIN:VFREEBUSY\r\n", "ORGANIZER:mailto:bob@b.example\r\n",
		"DTSTART:20260324T000000Z\r\nDTEND:20260325T000000Z\r\n",
		// sorted, clipped to the window, the not-busy left out
		"FREEBUSY;FBTYPE=BUSY-UNAVAILABLE:20260324T000000Z/20260324T010000Z\r\n" +
			"FREEBUSY;FBTYPE=BUSY:20260324T090000Z/20260324T100000Z\r\n" +
			"FREEBUSY;FBTYPE=BUSY-TENTATIVE:20260324T120000Z/20260324T130000Z\r\nEND:VFREEBUSY\r\n",
	} {
		if !strings.Contains(body, want) {
			t.Errorf("the VFREEBUSY lacks %q:\n%s", want, body)
		}
	}
	if strings.Contains(body, "Lunch") {
		t.Errorf("the VFREEBUSY shows a subject:\n%s", body)
	}

	// The default window: a week back, seven weeks on.
	serve(h.ICal(), withAddress(httptest.NewRequest("GET", "/freebusy/bob@b.example", nil), "bob@b.example"))
	if !f.q.Start.Equal(t0.AddDate(0, 0, -7)) || !f.q.End.Equal(t0.AddDate(0, 0, 49)) {
		t.Errorf("default window %v – %v", f.q.Start, f.q.End)
	}

	for _, tc := range []struct {
		path, address string
		status        int
		says          string
	}{
		{"/freebusy/carol@b.example.vfb", "carol@b.example.vfb", 403, "ErrorNoFreeBusyAccess"},
		{"/freebusy/dan@c.example.vfb", "dan@c.example.vfb", 502, "did not answer"},
		{"/freebusy/nobody@b.example.ifb", "nobody@b.example.ifb", 404, "ErrorMailRecipientNotFound"},
		{"/freebusy/bob@b.example.vfb?start=tomorrow", "bob@b.example.vfb", 400, "start:"},
		{"/freebusy/bob@b.example.vfb?start=2026-03-24&end=2026-03-23", "bob@b.example.vfb", 400, "end:"},
		{"/freebusy/bob@b.example.vfb?start=2026-01-01&end=2026-06-01", "bob@b.example.vfb", 400, "62 days"},
		{"/freebusy/bob.vfb", "bob.vfb", 400, "no address"},
		{"/freebusy/bob@b.example%0D%0AX-EVIL:1.vfb", "bob@b.example\r\nX-EVIL:1.vfb", 400, "no address"},
	} {
		w := serve(h.ICal(), withAddress(httptest.NewRequest("GET", tc.path, nil), tc.address))
		if w.Code != tc.status || !strings.Contains(w.Body.String(), tc.says) {
			t.Errorf("GET %s = %d %q, want %d saying %q", tc.path, w.Code, w.Body, tc.status, tc.says)
		}
	}
}

func TestFold(t *testing.T) {
	long := "PRODID:" + strings.Repeat("é", 60)
	got := fold(long)
	for _, l := range strings.Split(strings.TrimSuffix(got, "\r\n"), "\r\n") {
		if len(l) > 75 {
			t.Errorf("a folded line of %d octets: %q", len(l), l)
		}
	}
	if strings.ReplaceAll(strings.TrimSuffix(got, "\r\n"), "\r\n ", "") != long {
		t.Errorf("unfolding %q does not give the line back", got)
	}
}

func TestJSON(t *testing.T) {
	f, h := fixture()
	body := `{"attendees": ["bob@b.example", "carol@b.example", "dan@c.example"], "start": "2026-03-24", "end": "2026-03-25T00:00:00Z", "view": "DetailedMerged", "interval_minutes": 60}`
	w := serve(h.JSON(), httptest.NewRequest("POST", "/freebusy/v1/availability", strings.NewReader(body)))
	if w.Code != 200 {
		t.Fatalf("POST = %d %s", w.Code, w.Body)
	}
	if f.q.View != freebusy.ViewDetailedMerged || f.q.Interval != time.Hour {
		t.Errorf("asked %+v", f.q)
	}
	var resp Response
	if err := json.Unmarshal(w.Body.Bytes(), &resp); err != nil {
		t.Fatal(err)
	}
	if len(resp.Attendees) != 3 {
		t.Fatalf("%+v", resp)
	}
	bob := resp.Attendees[0]
	if bob.ResponseCode != "NoError" || bob.Error != nil || len(bob.Busy) != 4 || bob.Busy[0].Subject != "Lunch, with; team" || bob.Busy[0].Type != "Tentative" || !bob.Busy[1].Private || bob.Busy[1].Subject != "" {
		t.Errorf("bob = %+v", bob)
	}
	if c := resp.Attendees[1]; c.Error == nil || c.Error.Code != "ErrorNoFreeBusyAccess" || c.ResponseCode != "ErrorNoFreeBusyAccess" || len(c.Busy) != 0 {
		t.Errorf("carol = %+v", c)
	}
	if d := resp.Attendees[2]; d.Error == nil || d.Error.Code != "ErrorTimeoutExpired" || !strings.Contains(d.Error.Message, "did not answer") {
		t.Errorf("dan = %+v", d)
	}

	// GET with repeated attendees.
	w = serve(h.JSON(), httptest.NewRequest("GET", "/freebusy/v1/availability?attendee=bob@b.example&attendee=carol@b.example&start=2026-03-24&end=2026-03-25", nil))
	if w.Code != 200 || len(f.q.Mailboxes) != 2 || f.q.View != freebusy.ViewDetailed {
		t.Errorf("GET = %d, asked %+v", w.Code, f.q)
	}
	for _, tc := range []struct{ method, target, body, says string }{
		{"POST", "/freebusy/v1/availability", `{"attendees": []}`, "attendees"},
		{"POST", "/freebusy/v1/availability", `{"attendees": ["bob"]}`, "attendees[0]"},
		{"POST", "/freebusy/v1/availability", `{"attendees": ["bob@b.example"], "view": "MergedOnly"}`, "view"},
		{"POST", "/freebusy/v1/availability", `{"attendees": ["bob@b.example"], "view": "FreeBusyMerged", "interval_minutes": 1}`, "interval_minutes"},
		{"POST", "/freebusy/v1/availability", `{"attendees": ["bob@b.example"], "colour": "red"}`, "colour"},
		{"GET", "/freebusy/v1/availability?attendee=bob@b.example&interval_minutes=x", "", "interval_minutes"},
		{"GET", "/freebusy/v1/availability?attendee=bob@b.example&end=soon", "", "end"},
	} {
		w := serve(h.JSON(), httptest.NewRequest(tc.method, tc.target, strings.NewReader(tc.body)))
		var e map[string]string
		json.Unmarshal(w.Body.Bytes(), &e)
		if w.Code != 400 || !strings.Contains(e["error"], tc.says) {
			t.Errorf("%s %s %s = %d %s, want 400 naming %s", tc.method, tc.target, tc.body, w.Code, w.Body, tc.says)
		}
	}
	many := make([]string, 101)
	for i := range many {
		many[i] = "x@b.example"
	}
	b, _ := json.Marshal(Request{Attendees: many})
	if w := serve(h.JSON(), httptest.NewRequest("POST", "/freebusy/v1/availability", strings.NewReader(string(b)))); w.Code != 400 {
		t.Errorf("101 attendees = %d", w.Code)
	}
}
