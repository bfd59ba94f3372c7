package ews

import (
	"encoding/xml"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/calfed/calfed/calendar"
	"github.com/calfed/calfed/internal/soap"
)

// Any request body gets an answer that is XML, never a panic or an HTML
// page.
func FuzzServeHTTP(f *testing.F) {
	files, _ := filepath.Glob("testdata/*.request.xml")
	for _, p := range files {
		b, _ := os.ReadFile(p)
		f.Add(string(b))
	}
	f.Add(envelopeWith(`<t:TimeZoneContext><t:TimeZoneDefinition Id="x"><t:Periods><t:Period Bias="PT1H" Id="a"/></t:Periods></t:TimeZoneDefinition></t:TimeZoneContext>`,
		availability([]string{"user1@example.com"}, "2006-10-16T00:00:00", "2006-10-17", "5", "MergedOnly")))
	f.Add(envelopeWith("", `<m:GetServerTimeZones ReturnFullTimeZoneData="true"><m:Ids><t:Id>UTC</t:Id></m:Ids></m:GetServerTimeZones>`))
	h := docsFixture()
	f.Fuzz(func(t *testing.T, body string) {
		status, out := post(t, h, body, &partner)
		if status != http.StatusOK && status != http.StatusInternalServerError {
			t.Fatalf("status %d", status)
		}
		if !strings.HasPrefix(string(out), `<?xml version="1.0" encoding="utf-8"?><s:Envelope`) {
			t.Fatalf("answer is not an envelope: %.200s", out)
		}
		if _, err := soap.Decode(out, soap.Limits{MaxBytes: 64 << 20}, nopHandler{}); err != nil {
			t.Fatalf("answer does not parse: %v\n%.500s", err, out)
		}
	})
}

// The merged string has one digit per slot, each a valid digit, whatever
// the events.
func FuzzMergedFreeBusy(f *testing.F) {
	f.Add(int64(0), int64(3600), uint8(2), int64(600), int64(5400), uint8(3), int64(86400), uint16(30))
	f.Fuzz(func(t *testing.T, s1, e1 int64, b1 uint8, s2, e2 int64, b2 uint8, span int64, minutes uint16) {
		interval := time.Duration(int(minutes)%1436+5) * time.Minute
		span = span%(62*86400) + 1
		if span < 0 {
			span = -span
		}
		start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
		end := start.Add(time.Duration(span) * time.Second)
		clampEv := func(s, e int64, b uint8) calendar.Event {
			s %= 90 * 86400
			e %= 90 * 86400
			if e < s {
				s, e = e, s
			}
			return calendar.Event{Start: start.Add(time.Duration(s) * time.Second), End: start.Add(time.Duration(e) * time.Second),
				Item: &calendar.Item{Busy: calendar.BusyType(b % 6)}}
		}
		evs := []calendar.Event{clampEv(s1, e1, b1), clampEv(s2, e2, b2)}
		for _, legacy := range []bool{false, true} {
			got := mergedFreeBusy(nil, evs, start, end, interval, legacy)
			want := int((end.Sub(start) + interval - 1) / interval)
			if len(got) != want {
				t.Fatalf("%d digits, want %d", len(got), want)
			}
			for _, d := range got {
				if d < '0' || d > '4' {
					t.Fatalf("digit %q in %q", d, got)
				}
			}
		}
	})
}

type nopHandler struct{}

func (nopHandler) Header(d *xmlDecoder, se xmlStart) error { return d.Skip() }
func (nopHandler) Body(d *xmlDecoder, se xmlStart) error   { return d.Skip() }

type (
	xmlDecoder = xml.Decoder
	xmlStart   = xml.StartElement
)
