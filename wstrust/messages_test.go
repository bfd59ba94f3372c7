package wstrust

import (
	"crypto/x509"
	"errors"
	"os"
	"testing"
	"time"

	"github.com/beevik/etree"

	"github.com/calfed/calfed/certs"
	"github.com/calfed/calfed/internal/fedtoken"
)

var t0 = time.Date(2026, 3, 24, 9, 0, 0, 0, time.UTC)

func gen(t testing.TB, cn string) *certs.Certificate {
	t.Helper()
	c, err := certs.Generate(cn, t0.AddDate(0, -1, 0))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func assertion() *etree.Element {
	a := etree.NewElement("saml:Assertion")
	a.CreateAttr("xmlns:saml", fedtoken.NSSAML)
	a.CreateAttr("AssertionID", "_1")
	return a
}

// What a requester writes, an issuer reads; the signature names its key.
func TestRequestRoundTrip(t *testing.T) {
	signer, other := gen(t, "Federation A"), gen(t, "Federation B")
	rst := RequestSecurityToken{AppliesTo: "FYDIBOHF25SPDLT.b.example", Offer: fedtoken.OfferFreeBusy, Requestor: "FYDIBOHF25SPDLT.a.example", OnBehalfOf: assertion()}
	body, err := rst.Envelope("https://sts.example/extSTS.srf", signer, t0)
	if err != nil {
		t.Fatal(err)
	}
	req, err := ReadRequest(body)
	if err != nil {
		t.Fatal(err)
	}
	if req.AppliesTo != "http://FYDIBOHF25SPDLT.b.example" || req.Offer != fedtoken.OfferFreeBusy || req.Requestor != "FYDIBOHF25SPDLT.a.example" ||
		req.OnBehalfOf == nil || req.OnBehalfOf.SelectAttrValue("AssertionID", "") != "_1" {
		t.Errorf("ReadRequest = %+v", req.RequestSecurityToken)
	}
	if i, err := req.Signer([]*x509.Certificate{other.Cert, signer.Cert}, t0.Add(time.Minute)); err != nil || i != 1 {
		t.Errorf("Signer = %d, %v, want 1", i, err)
	}
	for name, tt := range map[string]struct {
		certs []*x509.Certificate
		at    time.Time
	}{
		"an unknown key":   {[]*x509.Certificate{other.Cert}, t0},
		"an hour later":    {[]*x509.Certificate{signer.Cert}, t0.Add(time.Hour)},
		"before it exists": {[]*x509.Certificate{signer.Cert}, t0.Add(-time.Hour)},
	} {
		if _, err := req.Signer(tt.certs, tt.at); !errors.Is(err, ErrSignature) {
			t.Errorf("%s: Signer = %v, want ErrSignature", name, err)
		}
	}
	if _, err := ReadRequest([]byte(`<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope"><s:Body/></s:Envelope>`)); !errors.Is(err, ErrMessage) {
		t.Errorf("ReadRequest(no RST) = %v, want ErrMessage", err)
	}
}

// The token comes back standalone, whatever its namespaces' scope was.
func TestResponseRoundTrip(t *testing.T) {
	ed := etree.NewElement("e:EncryptedData")
	ed.CreateAttr("xmlns:e", fedtoken.NSXEnc)
	ed.CreateElement("e:CipherData").CreateElement("e:CipherValue").SetText("AQI=")
	for name, body := range map[string][]byte{
		"as the issuer writes it":                        WriteResponse(&Response{Token: ed}, t0),
		"as the issuer wrote it before":                  []byte(`<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope"><s:Body><t:RequestSecurityTokenResponse xmlns:t="http://schemas.xmlsoap.org/ws/2005/02/trust"><t:Lifetime><wsu:Created xmlns:wsu="http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd">2026-03-24T09:00:00.000Z</wsu:Created></t:Lifetime><t:RequestedSecurityToken><e:EncryptedData xmlns:e="http://www.w3.org/2001/04/xmlenc#"><e:CipherData><e:CipherValue>AQI=</e:CipherValue></e:CipherData></e:EncryptedData></t:RequestedSecurityToken></t:RequestSecurityTokenResponse></s:Body></s:Envelope>`),
		"in a collection, after an RSTR without a token": []byte(`<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope"><s:Body><t:RequestSecurityTokenResponseCollection xmlns:t="http://schemas.xmlsoap.org/ws/2005/02/trust"><t:RequestSecurityTokenResponse/><t:RequestSecurityTokenResponse><t:TokenType>urn:oasis:names:tc:SAML:1.0</t:TokenType><t:RequestedSecurityToken><EncryptedData xmlns="http://www.w3.org/2001/04/xmlenc#"><CipherData><CipherValue>AQI=</CipherValue></CipherData></EncryptedData></t:RequestedSecurityToken><t:RequestedProofToken><t:BinarySecret>AQI=</t:BinarySecret></t:RequestedProofToken></t:RequestSecurityTokenResponse></t:RequestSecurityTokenResponseCollection></s:Body></s:Envelope>`),
		"prefix declared on the envelope":                []byte(`<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope" xmlns:e="http://www.w3.org/2001/04/xmlenc#"><s:Body><t:RequestSecurityTokenResponse xmlns:t="http://schemas.xmlsoap.org/ws/2005/02/trust"><t:RequestedSecurityToken><e:EncryptedData><e:CipherData><e:CipherValue>AQI=</e:CipherValue></e:CipherData></e:EncryptedData></t:RequestedSecurityToken></t:RequestSecurityTokenResponse></s:Body></s:Envelope>`),
	} {
		tok, err := ReadResponse(body)
		if err != nil {
			t.Errorf("%s: ReadResponse: %v", name, err)
			continue
		}
		d := etree.NewDocument()
		if err := d.ReadFromBytes(tok); err != nil || d.Root().Tag != "EncryptedData" || d.Root().NamespaceURI() != fedtoken.NSXEnc {
			t.Errorf("%s: token %s is not a standalone EncryptedData (%v)", name, tok, err)
			continue
		}
		if cv := d.Root().FindElement("./CipherData/CipherValue"); cv == nil || cv.NamespaceURI() != fedtoken.NSXEnc || cv.Text() != "AQI=" {
			t.Errorf("%s: token %s lost its content", name, tok)
		}
	}
	if _, err := ReadResponse([]byte(`<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope"><s:Body/></s:Envelope>`)); !errors.Is(err, ErrNoToken) {
		t.Errorf("ReadResponse(no token) = %v, want ErrNoToken", err)
	}
}

// Any request or response is read or refused without a panic.
func FuzzReadMessages(f *testing.F) {
	signer := gen(f, "Federation A")
	rst := RequestSecurityToken{AppliesTo: "b.example", Offer: fedtoken.OfferFreeBusy, OnBehalfOf: assertion()}
	body, _ := rst.Envelope("https://sts.example/", signer, t0)
	f.Add(body)
	ed := etree.NewElement("e:EncryptedData")
	ed.CreateAttr("xmlns:e", fedtoken.NSXEnc)
	f.Add(WriteResponse(&Response{Token: ed}, t0))
	for _, name := range []string{"DAuthRequest.xml", "DAuthResponse.xml"} {
		if b, err := os.ReadFile("../docs/gateway/" + name); err == nil {
			f.Add(b)
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if r, err := ReadRequest(data); err == nil {
			r.Signer([]*x509.Certificate{signer.Cert}, t0)
		}
		ReadResponse(data)
	})
}
