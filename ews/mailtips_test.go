package ews

import (
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/calfed/calfed/calendar"
	"github.com/calfed/calfed/internal/identity"
	"github.com/calfed/calfed/internal/xmlsem"
	"github.com/calfed/calfed/mailtips"
	"github.com/calfed/calfed/orgrel"
)

// mailTipsFixture: contoso.com's user2 (in the office, with a custom
// MailTip) and away (on leave); partner.example sees All, limited.example
// Limited, none.example nothing.
func mailTipsFixture(t *testing.T) *MailTipsHandler {
	t.Helper()
	now := time.Date(2026, 3, 26, 10, 0, 0, 0, time.UTC)
	dir := &fakeDirectory{mailboxes: map[string]*calendar.Mailbox{
		"user2@contoso.com": {Address: "user2@contoso.com", MailTip: "Hello World Mailtips"},
		"away@contoso.com": {Address: "away@contoso.com", AutoReply: &calendar.AutoReply{Message: "On leave <until Monday> & unreachable.",
			Start: now.Add(-24 * time.Hour), End: now.Add(72 * time.Hour)}},
	}}
	rel := func(domain string, l orgrel.MailTipsLevel) orgrel.Relationship {
		return orgrel.Relationship{Name: domain, Domains: []string{domain}, Enabled: true, MailTipsAccessEnabled: true, MailTipsAccessLevel: l}
	}
	p, err := orgrel.NewPolicy([]orgrel.Relationship{rel("partner.example", orgrel.MailTipsAll), rel("limited.example", orgrel.MailTipsLimited),
		rel("none.example", orgrel.MailTipsNone)}, nil)
	if err != nil {
		t.Fatal(err)
	}
	svc := mailtips.New(mailtips.Options{Directory: dir, Access: p, Now: func() time.Time { return now }})
	return NewMailTips(MailTipsOptions{MailTips: svc, MaxRecipients: 3})
}

// Golden request/response pairs under testdata/mailtips, asked as
// partner.example (MailTipsAccessLevel All).
func TestMailTipsGolden(t *testing.T) {
	h := mailTipsFixture(t)
	reqs, _ := filepath.Glob("testdata/mailtips/*.request.xml")
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
			status, got := post(t, h, string(body), &partner)
			if status != http.StatusOK {
				t.Fatalf("status %d\n%s", status, got)
			}
			checkGolden(t, filepath.Join("testdata", "mailtips", name+".response.xml"), got)
		})
	}
}

func getMailTipsBody(requested string, recipients ...string) string {
	var b strings.Builder
	b.WriteString(`<m:GetMailTips><m:SendingAs><t:EmailAddress>kim@partner.example</t:EmailAddress></m:SendingAs><m:Recipients>`)
	for _, r := range recipients {
		b.WriteString(`<t:Mailbox><t:EmailAddress>` + r + `</t:EmailAddress></t:Mailbox>`)
	}
	b.WriteString(`</m:Recipients><m:MailTipsRequested>` + requested + `</m:MailTipsRequested></m:GetMailTips>`)
	return b.String()
}

// What each level shows of the same two recipients, and the request-level
// refusals.
func TestMailTipsLevelsAndErrors(t *testing.T) {
	h := mailTipsFixture(t)
	both := envelopeWith("", getMailTipsBody("All", "away@contoso.com", "nobody@contoso.com"))
	canon := func(b []byte) string {
		s, err := xmlsem.Canonical(b)
		if err != nil {
			t.Fatalf("%v\n%s", err, b)
		}
		return s
	}
	for _, tt := range []struct {
		name      string
		caller    *identity.Caller
		body      string
		status    int
		want, not []string
	}{
		{"All", &identity.Caller{Domain: "partner.example"}, both, 200,
			[]string{"Message = On leave <until Monday> & unreachable.", "InvalidRecipient = true", "InvalidRecipient = false", "TotalMemberCount = 1", "StartTime = 2026-03-25T10:00:00Z"}, nil},
		{"Limited", &identity.Caller{Domain: "limited.example"}, both, 200,
			[]string{"On leave", "InvalidRecipient = true", "InvalidRecipient = false"}, []string{"TotalMemberCount", "CustomMailTip"}},
		{"None", &identity.Caller{Domain: "none.example"}, both, 200,
			[]string{"away@contoso.com", "nobody@contoso.com", "PendingMailTips"}, []string{"OutOfOffice", "InvalidRecipient"}},
		{"no relationship", &identity.Caller{Domain: "stranger.example"}, both, 200,
			[]string{"away@contoso.com", "ResponseClass=\"Success\""}, []string{"OutOfOffice", "InvalidRecipient"}},
		{"a MailTips token", &identity.Caller{Domain: "partner.example", TokenID: "uuid-1", Offer: "MSExchange.MailTips"}, both, 200,
			[]string{"On leave"}, nil},
		{"a free/busy token", &identity.Caller{Domain: "partner.example", TokenID: "uuid-1", Offer: "MSExchange.SharingCalendarFreeBusy"}, both, 500,
			[]string{"ErrorAccessDenied"}, []string{"On leave"}},
		{"no caller", nil, both, 500, []string{"ErrorInternalServerError"}, nil},
		{"no recipients", &partner, envelopeWith("", getMailTipsBody("All")), 500, []string{"ErrorInvalidRequest"}, nil},
		{"too many recipients", &partner, envelopeWith("", getMailTipsBody("All", "a@contoso.com", "b@contoso.com", "c@contoso.com", "d@contoso.com")), 500,
			[]string{"ErrorInvalidRequest", "more than the 3"}, nil},
		{"another operation", &partner, envelopeWith("", `<m:GetUserAvailabilityRequest/>`), 500, []string{"ErrorInvalidRequest"}, nil},
		{"GetMailTips and another operation", &partner, strings.Replace(both, "</soap:Body>", "</soap:Body><soap:Body><m:GetUserAvailabilityRequest/></soap:Body>", 1), 500,
			[]string{"ErrorInvalidRequest"}, []string{"On leave"}},
		{"not XML", &partner, "<soap:Envelope", 500, []string{"ErrorSchemaValidation"}, nil},
	} {
		t.Run(tt.name, func(t *testing.T) {
			status, out := post(t, h, tt.body, tt.caller)
			got := canon(out)
			if status != tt.status {
				t.Errorf("status %d, want %d\n%s", status, tt.status, got)
			}
			for _, w := range tt.want {
				if !strings.Contains(got, w) {
					t.Errorf("answer lacks %q\n%s", w, got)
				}
			}
			for _, n := range tt.not {
				if strings.Contains(got, n) {
					t.Errorf("answer has %q\n%s", n, got)
				}
			}
		})
	}
}

// Any request body gets an envelope back, never a panic.
func FuzzMailTips(f *testing.F) {
	files, _ := filepath.Glob("testdata/mailtips/*.request.xml")
	for _, p := range files {
		b, _ := os.ReadFile(p)
		f.Add(string(b))
	}
	f.Add(envelopeWith("", getMailTipsBody("OutOfOfficeMessage Scope", " away@contoso.com ")))
	h := mailTipsFixture(&testing.T{})
	f.Fuzz(func(t *testing.T, body string) {
		status, out := post(t, h, body, &partner)
		if status != http.StatusOK && status != http.StatusInternalServerError {
			t.Fatalf("status %d", status)
		}
		if _, err := xmlsem.Canonical(out); err != nil || !strings.HasPrefix(string(out), `<?xml version="1.0" encoding="utf-8"?><s:Envelope`) {
			t.Fatalf("answer is not an envelope (%v): %.300s", err, out)
		}
	})
}
