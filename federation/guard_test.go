package federation

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/beevik/etree"

	"github.com/calfed/calfed/internal/identity"
	"github.com/calfed/calfed/internal/soap"
)

func TestGuard(t *testing.T) {
	w := newWorld(t)
	var seen []string
	next := http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		c, _ := identity.FromContext(r.Context())
		b, _ := io.ReadAll(r.Body)
		if bytes.Contains(b, []byte("EncryptedData")) {
			t.Errorf("the token reached the next handler")
		}
		seen = append(seen, c.Email)
	})
	tok, _ := w.issue().Token()
	doc := etree.NewDocument()
	doc.SetRoot(tok)
	tokXML, _ := doc.WriteToString()
	body := `<s:Envelope ` + envNS + `><s:Header><o:Security>` + tokXML + `</o:Security></s:Header><s:Body><x/></s:Body></s:Envelope>`
	for _, reuse := range []bool{false, true} {
		seen = nil
		w.v = &Validator{Trust: w.v.Trust, RefuseReuse: !reuse, Replay: &memReplay{}}
		g := &Guard{Validator: w.v, Offer: OfferFreeBusy, Now: func() time.Time { return t0.Add(time.Minute) }, Refuse: RefuseEWS}
		h := g.Wrap(next)
		codes := []int{}
		for range 3 {
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/", strings.NewReader(body)))
			codes = append(codes, rec.Code)
		}
		want := []int{200, 401, 401} // refused reuse is a validation failure: 401
		if reuse {
			want = []int{200, 200, 200}
		}
		for i := range want {
			if codes[i] != want[i] {
				t.Errorf("reuse=%v: statuses %v, want %v", reuse, codes, want)
				break
			}
		}
		if len(seen) == 0 || seen[0] != "alice@partner.example" {
			t.Errorf("reuse=%v: callers %v", reuse, seen)
		}
	}
}

// Requests the scan cannot decide go through etree and are judged alike;
// requests over the limits are refused before any token work.
func TestGuardUnusualEnvelopes(t *testing.T) {
	w := newWorld(t)
	next := http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		if _, ok := identity.FromContext(r.Context()); !ok {
			t.Errorf("no caller in the context")
		}
	})
	g := &Guard{Validator: w.v, Offer: OfferFreeBusy, Limits: soap.Limits{MaxDepth: 48}, Now: func() time.Time { return t0.Add(time.Minute) }, Refuse: RefuseEWS}
	h := g.Wrap(next)
	tok := func() string {
		el, _ := w.issue().Token()
		return string(xmlOf(t, el))
	}
	for _, tt := range []struct {
		name string
		body string
		want int
	}{
		// xmlns:o written with a character reference: the same namespace.
		{"a namespace with a character reference", `<s:Envelope ` + envNS + ` xmlns:p="http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xs&#x64;"><s:Header><p:Security>` + tok() + `</p:Security></s:Header><s:Body><x/></s:Body></s:Envelope>`, 200},
		{"the token's prefixes declared on the envelope", `<s:Envelope ` + envNS + `><s:Header><o:Security>` + strings.Replace(tok(), ` xmlns:e="http://www.w3.org/2001/04/xmlenc#"`, "", 1) + `</o:Security></s:Header><s:Body><x/></s:Body></s:Envelope>`, 200},
		{"too deep", `<s:Envelope ` + envNS + `><s:Header><o:Security>` + tok() + `</o:Security></s:Header><s:Body>` + strings.Repeat("<a>", 50) + strings.Repeat("</a>", 50) + `</s:Body></s:Envelope>`, 500},
		{"a DTD", `<!DOCTYPE s:Envelope [<!ENTITY x "y">]><s:Envelope ` + envNS + `><s:Header><o:Security>` + tok() + `</o:Security></s:Header><s:Body>&x;</s:Body></s:Envelope>`, 500},
	} {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/", strings.NewReader(tt.body)))
		if rec.Code != tt.want {
			t.Errorf("%s: status %d, want %d", tt.name, rec.Code, tt.want)
		}
	}
}
