package federation

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/calfed/calfed/internal/soap"
)

// Full validation of a fresh token: parse, RSA-OAEP unwrap, 3DES decrypt,
// XML signature, claims. Compare with BenchmarkRawCrypto: goal within 1.5×.
func BenchmarkValidate(b *testing.B) {
	w := newWorld(b)
	var toks [][]byte
	for range 64 {
		tok, err := w.issue().Token()
		if err != nil {
			b.Fatal(err)
		}
		toks = append(toks, xmlOf(b, tok))
	}
	b.ReportAllocs()
	b.ResetTimer()
	i := 0
	for b.Loop() {
		if i%len(toks) == 0 {
			w.v = &Validator{Trust: w.v.Trust} // fresh caches: every token new again
		}
		if _, err := w.v.Validate(toks[i%len(toks)], OfferFreeBusy, t0.Add(time.Minute)); err != nil {
			b.Fatal(err)
		}
		i++
	}
}

// The unavoidable part: one RSA-2048 OAEP decryption and one RSA-2048
// PKCS#1 v1.5 verification.
func BenchmarkRawCrypto(b *testing.B) {
	w := newWorld(b)
	key := make([]byte, 32)
	rand.Read(key)
	wrapped, _ := rsa.EncryptOAEP(sha1.New(), rand.Reader, &w.ours.Key.PublicKey, key, nil)
	digest := sha1.Sum([]byte("signed info"))
	sig, _ := rsa.SignPKCS1v15(rand.Reader, w.issuer.Key, crypto.SHA1, digest[:])
	b.ReportAllocs()
	for b.Loop() {
		if _, err := rsa.DecryptOAEP(sha1.New(), nil, w.ours.Key, wrapped, nil); err != nil {
			b.Fatal(err)
		}
		if err := rsa.VerifyPKCS1v15(&w.issuer.Key.PublicKey, crypto.SHA1, digest[:], sig); err != nil {
			b.Fatal(err)
		}
	}
}

// A token presented again: accepted (the default) or refused (RefuseReuse)
// from the cache, without RSA or signature work.
func BenchmarkValidateSecondPresentation(b *testing.B) {
	for _, reuse := range []bool{false, true} {
		name := "refused"
		if reuse {
			name = "reused"
		}
		b.Run(name, func(b *testing.B) {
			w := newWorld(b)
			w.v.RefuseReuse, w.v.Replay = !reuse, &memReplay{}
			el, _ := w.issue().Token()
			tok := xmlOf(b, el)
			if _, err := w.v.Validate(tok, OfferFreeBusy, t0.Add(time.Minute)); err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			for b.Loop() {
				_, err := w.v.Validate(tok, OfferFreeBusy, t0.Add(time.Minute))
				if (err == nil) != reuse {
					b.Fatal(err)
				}
			}
		})
	}
}

// The guard on a token presented again (accepted by default): one scan of the
// request, one cache hit, the header stripped. The next handler reads the
// body, as EWS would; "none" is the same request without a guard, so the
// difference is the guard's overhead.
func BenchmarkGuardWarmToken(b *testing.B) {
	w := newWorld(b)
	el, _ := w.issue().Token()
	body := `<s:Envelope ` + envNS + ` xmlns:t="http://schemas.microsoft.com/exchange/services/2006/types" xmlns:m="http://schemas.microsoft.com/exchange/services/2006/messages"><s:Header><t:RequestServerVersion Version="Exchange2012"/><o:Security>` +
		string(xmlOf(b, el)) + `</o:Security></s:Header><s:Body><m:GetUserAvailabilityRequest><m:MailboxDataArray><t:MailboxData><t:Email><t:Address>alice@contoso.example</t:Address></t:Email></t:MailboxData></m:MailboxDataArray><t:FreeBusyViewOptions><t:TimeWindow><t:StartTime>2026-03-23T00:00:00Z</t:StartTime><t:EndTime>2026-03-30T00:00:00Z</t:EndTime></t:TimeWindow><t:RequestedView>FreeBusyMerged</t:RequestedView></t:FreeBusyViewOptions></m:GetUserAvailabilityRequest></s:Body></s:Envelope>`
	next := http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) { soap.ReadRequest(r, soap.Limits{}) })
	g := &Guard{Validator: w.v, Offer: OfferFreeBusy, Now: func() time.Time { return t0.Add(time.Minute) }, Refuse: RefuseEWS}
	for _, c := range []struct {
		name string
		h    http.Handler
	}{{"none", next}, {"guard", g.Wrap(next)}} {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				rec := httptest.NewRecorder()
				c.h.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/", strings.NewReader(body)))
				if rec.Code != http.StatusOK {
					b.Fatalf("status %d", rec.Code)
				}
			}
		})
	}
}

// The scan alone.
func BenchmarkScanEnvelope(b *testing.B) {
	w := newWorld(b)
	el, _ := w.issue().Token()
	body := []byte(`<s:Envelope ` + envNS + `><s:Header><o:Security>` + string(xmlOf(b, el)) + `</o:Security></s:Header><s:Body><x/></s:Body></s:Envelope>`)
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := scanEnvelope(body, soap.Limits{}); err != nil {
			b.Fatal(err)
		}
	}
}
