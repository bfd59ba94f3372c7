package managedelegation

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/calfed/calfed/certs"
)

// The server answers anything with a fault or an answer, never a panic,
// and never registers from an unsigned or malformed request.
func FuzzServer(f *testing.F) {
	c, err := certs.Generate("fuzz", time.Now())
	if err != nil {
		f.Fatal(err)
	}
	for _, op := range []string{OpCreateAppID, OpAddURI, OpGetDomainInfo, OpUpdateAppIDCertificate} {
		proof, _ := NewProof(c.Key, "a.example")
		req, err := request("http://gw/", op, c, time.Now(), &proof, param{"uri", "a.example"}, param{"appId", "X"}, param{"domainName", "a.example"})
		if err != nil {
			f.Fatal(err)
		}
		f.Add(req)
	}
	f.Add([]byte(`<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body><AddUri xmlns="` + NS + `"/></s:Body></s:Envelope>`))
	f.Fuzz(func(t *testing.T, body []byte) {
		reg, _ := OpenRegistry("")
		s := &Server{Registry: reg, Resolver: &zone{txt: map[string][]string{}}}
		rec := httptest.NewRecorder()
		s.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/", bytes.NewReader(body)))
		if rec.Code != http.StatusOK && rec.Code != http.StatusInternalServerError {
			t.Fatalf("status %d", rec.Code)
		}
		if len(reg.Apps()) != 0 {
			t.Fatal("registered without a published proof")
		}
	})
}

// Answers and faults from a service are read without a panic.
func FuzzAnswer(f *testing.F) {
	f.Add([]byte(`<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body><s:Fault><faultcode>s:Client</faultcode><faultstring>no</faultstring><detail><ErrorCode>2011</ErrorCode></detail></s:Fault></s:Body></s:Envelope>`))
	f.Add([]byte(`<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body><CreateAppIdResponse xmlns="` + NS + `"><CreateAppIdResult><AppId>0A</AppId></CreateAppIdResult></CreateAppIdResponse></s:Body></s:Envelope>`))
	f.Fuzz(func(t *testing.T, data []byte) {
		_, body, err := readEnvelope(data)
		if err != nil {
			return
		}
		if body.Tag == "Fault" {
			if err := readFault(body); err == nil {
				t.Fatal("a fault read as no error")
			}
		}
		text(body, "AppId")
	})
}
