package ews

import (
	"encoding/xml"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

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

type nopHandler struct{}

func (nopHandler) Header(d *xmlDecoder, se xmlStart) error { return d.Skip() }
func (nopHandler) Body(d *xmlDecoder, se xmlStart) error   { return d.Skip() }

type (
	xmlDecoder = xml.Decoder
	xmlStart   = xml.StartElement
)
