package wstrust

import (
	"crypto/x509"
	"errors"
	"os"
	"testing"
	"time"

	"github.com/beevik/etree"

	"github.com/calfed/calfed/internal/fedtoken"
	"github.com/calfed/calfed/internal/xmltree"
)

// The 2010 exchange with the gateway (docs/gateway, FINDINGS §1) reads as
// our own messages do: the request's target, offer and OnBehalfOf
// assertion; the response's token, standalone, its namespaces declared.
func TestGatewayMessages2010(t *testing.T) {
	rst, err := os.ReadFile("../docs/gateway/DAuthRequest.xml")
	if err != nil {
		t.Skipf("no gateway sample: %v", err)
	}
	req, err := ReadRequest(rst)
	if err != nil {
		t.Fatal(err)
	}
	if req.AppliesTo != "http://exchangecalendarsharing.com" || req.Offer != fedtoken.OfferFreeBusy || req.Requestor != "outlook.com" || req.OnBehalfOf == nil || req.OnBehalfOf.Tag != "Assertion" {
		t.Errorf("ReadRequest(DAuthRequest.xml) = %+v", req.RequestSecurityToken)
	}
	rstr, err := os.ReadFile("../docs/gateway/DAuthResponse.xml")
	if err != nil {
		t.Fatal(err)
	}
	tok, err := ReadResponse(rstr)
	if err != nil {
		t.Fatal(err)
	}
	d := etree.NewDocument()
	if err := d.ReadFromBytes(tok); err != nil {
		t.Fatalf("the token is not standalone XML: %v", err)
	}
	ed := d.Root()
	if ed.Tag != "EncryptedData" || ed.NamespaceURI() != nsXEnc || ed.SelectAttrValue("Id", "") != "Assertion0" {
		t.Errorf("token root {%s}%s", ed.NamespaceURI(), ed.Tag)
	}
	kid := ed.FindElement(".//KeyIdentifier")
	if kid == nil || kid.NamespaceURI() != nsWSSE || kid.Text() != "AqfRuZuff12jC4m1vowT/nRnIPc=" {
		t.Errorf("the token's KeyIdentifier lost its namespace or value: %s", tok)
	}
	if ki := ed.FindElement("./KeyInfo"); ki == nil || ki.NamespaceURI() != nsDSig {
		t.Errorf("the token's KeyInfo lost its namespace: %s", tok)
	}
}

// Exchange's request, signed again with a key of ours, verifies as ours
// does: the message signature over To and the Timestamp, and the
// OnBehalfOf assertion's, both naming the key by Subject Key Identifier.
func TestSignExchangesRequest(t *testing.T) {
	rst, err := os.ReadFile("../docs/gateway/DAuthRequest.xml")
	if err != nil {
		t.Fatal(err)
	}
	ours := gen(t, "Federation A")
	orig, err := ReadRequest(rst)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := orig.Signer([]*x509.Certificate{ours.Cert}, t0); !errors.Is(err, ErrSignature) {
		t.Errorf("Signer(Exchange's own signature, our key) = %v, want ErrSignature", err)
	}
	if _, err := VerifyAssertion(orig.OnBehalfOf, ours.Cert, t0); !errors.Is(err, ErrSignature) {
		t.Errorf("VerifyAssertion(Exchange's assertion, our key) = %v, want ErrSignature", err)
	}
	body, err := SignEnvelope(rst, ours, t0)
	if err != nil {
		t.Fatal(err)
	}
	req, err := ReadRequest(body)
	if err != nil {
		t.Fatal(err)
	}
	if i, err := req.Signer([]*x509.Certificate{gen(t, "Other").Cert, ours.Cert}, t0.Add(time.Minute)); err != nil || i != 1 {
		t.Errorf("Signer(re-signed) = %d, %v, want 1", i, err)
	}
	signed, err := SignAssertion(req.OnBehalfOf, ours)
	if err != nil {
		t.Fatal(err)
	}
	if ki := xmltree.Find(signed, nsWSSE, "KeyIdentifier"); ki == nil || xmltree.Find(signed, nsDSig, "X509Data") != nil {
		t.Errorf("the signed assertion does not name its key by SKI alone")
	}
	// As the issuer gets it: written and read again.
	d := etree.NewDocument()
	d.SetRoot(signed)
	raw, _ := d.WriteToBytes()
	d = etree.NewDocument()
	if err := d.ReadFromBytes(raw); err != nil {
		t.Fatal(err)
	}
	if _, err := VerifyAssertion(d.Root(), ours.Cert, t0); err != nil {
		t.Errorf("VerifyAssertion(signed) = %v", err)
	}
	if _, err := VerifyAssertion(d.Root(), gen(t, "Other").Cert, t0); !errors.Is(err, ErrSignature) {
		t.Errorf("VerifyAssertion(signed, another key) = %v, want ErrSignature", err)
	}
}
