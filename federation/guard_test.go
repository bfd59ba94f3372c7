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
		w.v = &Validator{Trust: w.v.Trust, AllowReuse: reuse}
		g := &Guard{Validator: w.v, Offer: OfferFreeBusy, Now: func() time.Time { return t0.Add(time.Minute) }, Refuse: SecurityFault}
		h := g.Wrap(next)
		codes := []int{}
		for range 3 {
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/", strings.NewReader(body)))
			codes = append(codes, rec.Code)
		}
		want := []int{200, 500, 500}
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
