package delegation

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"testing"
	"time"

	"github.com/beevik/etree"

	"github.com/calfed/calfed/internal/fedtoken"
	"github.com/calfed/calfed/internal/xmlshape"
	"github.com/calfed/calfed/internal/xmltree"
)

// What changes from one token request to the next, or from one
// organisation to another, in docs/gateway/DAuthRequest.xml: ids, times,
// digests, signatures, key identifiers, the issuer endpoint, the target,
// the requester and the user.
const (
	rqHeader = "Envelope/Header"
	rqSig    = rqHeader + "/Security/Signature"
	rqRST    = "Envelope/Body/RequestSecurityToken"
	rqOBO    = rqRST + "/OnBehalfOf/Assertion"
)

var requestVarying = []string{
	rqHeader + "/To", // the issuer's endpoint, from its metadata (docs/protocol.md §4.5)
	rqHeader + "/MessageID",
	rqHeader + "/Security/Timestamp/Created",
	rqHeader + "/Security/Timestamp/Expires",
	rqSig + "/SignedInfo/Reference/DigestValue",
	rqSig + "/SignatureValue",
	rqSig + "/KeyInfo/SecurityTokenReference/KeyIdentifier",
	rqRST + "/@Id",
	rqRST + "/AppliesTo/EndpointReference/Address",
	rqOBO + "/@AssertionID",
	rqOBO + "/@Issuer",
	rqOBO + "/@IssueInstant",
	rqOBO + "/Conditions/@NotBefore",
	rqOBO + "/Conditions/@NotOnOrAfter",
	rqOBO + "/Conditions/AudienceRestrictionCondition/Audience",
	rqOBO + "/AttributeStatement/Subject/NameIdentifier",
	rqOBO + "/AttributeStatement/Attribute/AttributeValue",
	rqOBO + "/AuthenticationStatement/@AuthenticationInstant",
	rqOBO + "/AuthenticationStatement/Subject/NameIdentifier",
	rqOBO + "/Signature/SignedInfo/Reference/@URI",
	rqOBO + "/Signature/SignedInfo/Reference/DigestValue",
	rqOBO + "/Signature/SignatureValue",
	rqOBO + "/Signature/KeyInfo/SecurityTokenReference/KeyIdentifier",
	rqRST + "/AdditionalContext/ContextItem/Value",
}

// Where calfed's request differs from Exchange's on purpose.
var requestDeliberate = map[string]string{
	rqOBO + "/AttributeStatement/Subject/NameIdentifier/@Format":      "calfed names the user by address (UPN); Exchange Online's user in the sample had an immutable id, which calfed's directory has not (docs/protocol.md §4.4)",
	rqOBO + "/AuthenticationStatement/Subject/NameIdentifier/@Format": "the same subject as the AttributeStatement's",
}

func readDoc(t *testing.T, b []byte) *etree.Element {
	t.Helper()
	d := etree.NewDocument()
	if err := d.ReadFromBytes(b); err != nil {
		t.Fatal(err)
	}
	return d.Root()
}

// Our token request is Exchange's, element for element: the structure of
// docs/gateway/DAuthRequest.xml (names, namespaces, order, attributes,
// every fixed value), only what is per request, per organisation or listed
// in requestDeliberate differing.
func TestRequestIsExchanges(t *testing.T) {
	sample, err := os.ReadFile("../docs/gateway/DAuthRequest.xml")
	if err != nil {
		t.Fatal(err)
	}
	c := &Client{Certificate: gen(t, "Federation A"), ApplicationURI: "FYDIBOHF25SPDLT.a.example", IssuerURI: "urn:federation:MicrosoftOnline",
		IssuerEndpoint: "https://login.microsoftonline.com/extSTS.srf", Now: func() time.Time { return t0 }}
	body, err := c.Request("alice@a.example", "FYDIBOHF25SPDLT.b.example", fedtoken.OfferFreeBusy)
	if err != nil {
		t.Fatal(err)
	}
	got := readDoc(t, body)
	for _, d := range xmlshape.Compare(readDoc(t, sample), got, xmlshape.Rules{Varying: requestVarying, Deliberate: requestDeliberate}) {
		t.Errorf("our request differs from Exchange's at %s", d)
	}
	// The per-request values are ours, where Exchange puts its own.
	rst := xmltree.Find(got, nsWST, "RequestSecurityToken")
	a := xmltree.Find(rst, fedtoken.NSSAML, "Assertion")
	for name, tt := range map[string][2]string{
		"To":        {text(xmltree.Find(got, fedtoken.NSWSA, "To")), c.IssuerEndpoint},
		"AppliesTo": {text(xmltree.Find(xmltree.Find(rst, nsWSP, "AppliesTo"), fedtoken.NSWSA, "Address")), "http://FYDIBOHF25SPDLT.b.example"},
		"the assertion's Issuer (relative, FINDINGS §1.1)": {a.SelectAttrValue("Issuer", ""), c.ApplicationURI},
		"Audience":           {text(xmltree.Find(a, fedtoken.NSSAML, "Audience")), c.IssuerURI},
		"EmailAddress":       {text(xmltree.Find(a, fedtoken.NSSAML, "AttributeValue")), "alice@a.example"},
		"the requestor":      {text(xmltree.Find(xmltree.Find(rst, fedtoken.NSAuth, "ContextItem"), fedtoken.NSAuth, "Value")), c.ApplicationURI},
		"the offer":          {text(xmltree.Find(xmltree.Find(rst, fedtoken.NSAuth, "ClaimType"), fedtoken.NSAuth, "Value")), fedtoken.OfferFreeBusy},
		"the assertion's id": {a.SelectAttrValue("AssertionID", "")[:5], "saml-"},
	} {
		if tt[0] != tt[1] {
			t.Errorf("%s = %q, want %q", name, tt[0], tt[1])
		}
	}
}

const (
	nsWST = "http://schemas.xmlsoap.org/ws/2005/02/trust"
	nsWSP = "http://schemas.xmlsoap.org/ws/2004/09/policy"
)

func text(el *etree.Element) string {
	if el == nil {
		return ""
	}
	return el.Text()
}

// The client reads the gateway's answer (docs/gateway/DAuthResponse.xml):
// a bare, unsigned RSTR whose token it returns as it came.
func TestReadsTheGatewaysAnswer(t *testing.T) {
	sample, err := os.ReadFile("../docs/gateway/DAuthResponse.xml")
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/soap+xml; charset=utf-8")
		w.Write(sample)
	}))
	defer srv.Close()
	c := &Client{Certificate: gen(t, "Federation A"), ApplicationURI: "outlook.com", IssuerURI: "uri:WindowsLiveID", IssuerEndpoint: srv.URL, Now: func() time.Time { return t0 }}
	tok, err := c.Token(context.Background(), "alice@a.example", "exchangecalendarsharing.com", fedtoken.OfferFreeBusy)
	if err != nil {
		t.Fatal(err)
	}
	ed := readDoc(t, tok)
	if ed.Tag != "EncryptedData" || ed.NamespaceURI() != fedtoken.NSXEnc || ed.SelectAttrValue("Id", "") != "Assertion0" {
		t.Errorf("Token = {%s}%s, want the gateway's EncryptedData", ed.NamespaceURI(), ed.Tag)
	}
}
