package wstrust

import (
	"os"
	"testing"

	"github.com/beevik/etree"

	"github.com/calfed/calfed/internal/fedtoken"
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
	if req.AppliesTo != "http://exchangecalendarsharing.com" || req.Offer != fedtoken.OfferFreeBusy || req.OnBehalfOf == nil || req.OnBehalfOf.Tag != "Assertion" {
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
