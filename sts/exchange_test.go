package sts

import (
	"bytes"
	"crypto/x509"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"testing"
	"time"

	"github.com/beevik/etree"

	"github.com/calfed/calfed/federation"
	"github.com/calfed/calfed/internal/fedtoken"
	"github.com/calfed/calfed/internal/xmlshape"
	"github.com/calfed/calfed/internal/xmltree"
	"github.com/calfed/calfed/wstrust"
)

const (
	nsWST = "http://schemas.xmlsoap.org/ws/2005/02/trust"
	nsWSP = "http://schemas.xmlsoap.org/ws/2004/09/policy"
)

// exchangeRequest is docs/gateway/DAuthRequest.xml, the request Exchange
// sent the gateway, made A's: its target, requester, user and times
// replaced, its OnBehalfOf assertion and its message signed again with A's
// key (the original key is not ours), each naming the key by Subject Key
// Identifier as Exchange does. Every element, attribute and prefix of the
// original stays as it was.
func exchangeRequest(t testing.TB, w *world, issuerURI string, now time.Time) []byte {
	t.Helper()
	sample, err := os.ReadFile("../docs/gateway/DAuthRequest.xml")
	if err != nil {
		t.Fatal(err)
	}
	doc := etree.NewDocument()
	if err := doc.ReadFromBytes(sample); err != nil {
		t.Fatal(err)
	}
	rst := xmltree.Find(doc.Root(), nsWST, "RequestSecurityToken")
	xmltree.Find(xmltree.Find(rst, nsWSP, "AppliesTo"), fedtoken.NSWSA, "Address").SetText("http://FYDIBOHF25SPDLT.b.example")
	xmltree.Find(xmltree.Find(rst, fedtoken.NSAuth, "ContextItem"), fedtoken.NSAuth, "Value").SetText("FYDIBOHF25SPDLT.a.example")
	a := xmltree.Find(rst, fedtoken.NSSAML, "Assertion")
	instant := now.UTC().Format(fedtoken.SAMLTime)
	a.CreateAttr("Issuer", "FYDIBOHF25SPDLT.a.example")
	a.CreateAttr("IssueInstant", instant)
	cond := xmltree.Find(a, fedtoken.NSSAML, "Conditions")
	cond.CreateAttr("NotBefore", instant)
	cond.CreateAttr("NotOnOrAfter", now.UTC().Add(5*time.Minute).Format(fedtoken.SAMLTime))
	xmltree.Find(cond, fedtoken.NSSAML, "Audience").SetText(issuerURI)
	for _, ni := range xmltree.FindAll(a, fedtoken.NSSAML, "NameIdentifier") {
		ni.SetText("alice@a.example")
	}
	xmltree.Find(a, fedtoken.NSSAML, "AttributeValue").SetText("alice@a.example")
	xmltree.Find(a, fedtoken.NSSAML, "AuthenticationStatement").CreateAttr("AuthenticationInstant", instant)
	a.RemoveChild(xmltree.Find(a, fedtoken.NSDSig, "Signature"))
	signed, err := wstrust.SignAssertion(a, w.a)
	if err != nil {
		t.Fatal(err)
	}
	obo := a.Parent()
	obo.InsertChildAt(a.Index(), signed)
	obo.RemoveChild(a)
	body, err := doc.WriteToBytes()
	if err != nil {
		t.Fatal(err)
	}
	body, err = wstrust.SignEnvelope(body, w.a, now)
	if err != nil {
		t.Fatal(err)
	}
	return body
}

// What changes from one answer to the next in
// docs/gateway/DAuthResponse.xml: times, the target, the token's id, key
// material and ciphertext.
const (
	rsRSTR  = "Envelope/Body/RequestSecurityTokenResponse"
	rsToken = rsRSTR + "/RequestedSecurityToken/EncryptedData"
)

var responseVarying = []string{
	"Envelope/Header/Security/Timestamp/Created",
	"Envelope/Header/Security/Timestamp/Expires",
	rsRSTR + "/AppliesTo/EndpointReference/Address",
	rsRSTR + "/Lifetime/Created",
	rsRSTR + "/Lifetime/Expires",
	rsRSTR + "/RequestedAttachedReference/SecurityTokenReference/KeyIdentifier",
	rsRSTR + "/RequestedUnattachedReference/SecurityTokenReference/KeyIdentifier",
	rsRSTR + "/RequestedProofToken/BinarySecret",
	rsToken + "/KeyInfo/EncryptedKey/KeyInfo/SecurityTokenReference/KeyIdentifier",
	rsToken + "/KeyInfo/EncryptedKey/CipherData/CipherValue",
	rsToken + "/CipherData/CipherValue",
}

// Where the development issuer's answer differs from the gateway's on
// purpose, or for a reason outside the WS-Trust messages.
var responseDeliberate = map[string]string{
	// The token inside RequestedSecurityToken is built by Issue and
	// EncryptAssertion (sts/issue.go, sts/encrypt.go), which leave out the
	// gateway's Id attributes: nothing refers to them (docs/protocol.md §4.3).
	rsToken + "/@Id": "the token's layout is the token issuer's (encrypt.go); nothing refers to the Id",
	rsToken + "/KeyInfo/EncryptedKey/KeyInfo/@Id": "the token's layout is the token issuer's (encrypt.go); nothing refers to the Id",
}

// The development issuer takes the request as Exchange sends it and
// answers as the gateway does: the structure of
// docs/gateway/DAuthResponse.xml, only what is per answer or listed in
// responseDeliberate differing; and the token it carries is valid at its
// target.
func TestAnswersExchangesRequest(t *testing.T) {
	w := newWorld(t)
	now := t0.Add(time.Minute)
	s := w.sts()
	s.Now = func() time.Time { return now }
	srv := httptest.NewServer(s)
	defer srv.Close()

	resp, err := http.Post(srv.URL+TokenPath, "application/soap+xml; charset=utf-8", bytes.NewReader(exchangeRequest(t, w, s.IssuerURI, now)))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("HTTP %d: %s", resp.StatusCode, body)
	}
	sample, err := os.ReadFile("../docs/gateway/DAuthResponse.xml")
	if err != nil {
		t.Fatal(err)
	}
	want, got := etree.NewDocument(), etree.NewDocument()
	if err := want.ReadFromBytes(sample); err != nil {
		t.Fatal(err)
	}
	if err := got.ReadFromBytes(body); err != nil {
		t.Fatal(err)
	}
	for _, d := range xmlshape.Compare(want.Root(), got.Root(), xmlshape.Rules{Varying: responseVarying, Deliberate: responseDeliberate}) {
		t.Errorf("our answer differs from the gateway's at %s", d)
	}
	rstr := xmltree.Find(got.Root(), nsWST, "RequestSecurityTokenResponse")
	if a := xmltree.Find(xmltree.Find(rstr, nsWSP, "AppliesTo"), fedtoken.NSWSA, "Address"); a == nil || a.Text() != "http://FYDIBOHF25SPDLT.b.example" {
		t.Errorf("AppliesTo = %v, want http://FYDIBOHF25SPDLT.b.example", a)
	}
	refs := xmltree.FindAll(rstr, fedtoken.NSWSSE, "KeyIdentifier")
	if len(refs) < 2 || refs[len(refs)-1].Text() == "" || refs[len(refs)-1].Text() != refs[len(refs)-2].Text() {
		t.Errorf("the attached and unattached references differ or are empty")
	}

	tok, err := wstrust.ReadResponse(body)
	if err != nil {
		t.Fatal(err)
	}
	v := &federation.Validator{Trust: func() *federation.Trust {
		return &federation.Trust{Keys: ring{w.b}, Issuers: []*x509.Certificate{w.issuer.Cert}, ApplicationURI: "FYDIBOHF25SPDLT.b.example"}
	}}
	if c, err := v.Validate(tok, federation.OfferFreeBusy, now); err != nil || c.Email != "alice@a.example" {
		t.Errorf("Validate(the token for Exchange's request) = %+v, %v", c, err)
	}
}

// The answer names the assertion, gives its validity as the Lifetime, and
// gives its proof key when the assertion holds it in clear, as the
// gateway's tokens do (docs/protocol.md §4.3).
func TestResponseDescribesTheToken(t *testing.T) {
	d := etree.NewDocument()
	if err := d.ReadFromString(`<saml:Assertion xmlns:saml="urn:oasis:names:tc:SAML:1.0:assertion" AssertionID="uuid-1">
		<saml:Conditions NotBefore="2026-03-24T09:00:00.000Z" NotOnOrAfter="2026-04-08T09:00:00.000Z"/>
		<saml:AuthenticationStatement><saml:Subject><saml:SubjectConfirmation>
			<saml:ConfirmationMethod>urn:oasis:names:tc:SAML:1.0:cm:holder-of-key</saml:ConfirmationMethod>
			<KeyInfo xmlns="http://www.w3.org/2000/09/xmldsig#"><trust:BinarySecret xmlns:trust="http://docs.oasis-open.org/ws-sx/ws-trust/200512">AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcY</trust:BinarySecret></KeyInfo>
		</saml:SubjectConfirmation></saml:Subject></saml:AuthenticationStatement></saml:Assertion>`); err != nil {
		t.Fatal(err)
	}
	r := response(d.Root(), etree.NewElement("EncryptedData"), "b.example", t0)
	if r.AssertionID != "uuid-1" || !r.Created.Equal(t0) || !r.Expires.Equal(t0.AddDate(0, 0, 15)) || len(r.ProofKey) != 24 || r.ProofKey[23] != 24 {
		t.Errorf("response = %+v", r)
	}
	body := wstrust.WriteResponse(r, t0)
	got := etree.NewDocument()
	if err := got.ReadFromBytes(body); err != nil {
		t.Fatal(err)
	}
	if bs := xmltree.Find(xmltree.Find(got.Root(), nsWST, "RequestedProofToken"), nsWST, "BinarySecret"); bs == nil || bs.Text() != "AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcY" {
		t.Errorf("RequestedProofToken/BinarySecret = %v", bs)
	}
}
