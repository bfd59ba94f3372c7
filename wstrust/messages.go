package wstrust

import (
	"crypto/rand"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/beevik/etree"
	"github.com/russellhaering/goxmldsig/etreeutils"

	"github.com/calfed/calfed/certs"
	"github.com/calfed/calfed/internal/fedtoken"
	"github.com/calfed/calfed/internal/soap"
	"github.com/calfed/calfed/internal/xmltree"
)

// Namespaces.
const (
	nsSOAP12 = fedtoken.NSSOAP2
	nsWST    = "http://schemas.xmlsoap.org/ws/2005/02/trust"
	nsWSP    = "http://schemas.xmlsoap.org/ws/2004/09/policy"
	nsAuth   = fedtoken.NSAuth
	nsWSA    = fedtoken.NSWSA
	nsWSU    = fedtoken.NSWSU
	nsWSSE   = fedtoken.NSWSSE
	nsDSig   = fedtoken.NSDSig
	nsSAML   = fedtoken.NSSAML
	nsXEnc   = fedtoken.NSXEnc
	valueSKI = fedtoken.ValueSKI
)

// Limits bound an RST or RSTR.
var Limits = soap.Limits{MaxBytes: 256 << 10}

// Errors; match with errors.Is.
var (
	// ErrMessage: the message is not a usable RST or RSTR.
	ErrMessage = errors.New("wstrust: malformed message")
	// ErrSignature: the RST's message signature does not verify against a
	// known key, or does not cover what it must.
	ErrSignature = errors.New("wstrust: message signature refused")
	// ErrNoToken: the RSTR carries no encrypted token.
	ErrNoToken = errors.New("wstrust: the response carries no encrypted token")
)

// RequestSecurityToken is an RST for a delegation token: WS-Trust 2005/02
// RequestSecurityToken, NOTES §4.4.
type RequestSecurityToken struct {
	// AppliesTo is the target organisation's ApplicationUri
	// (wsp:AppliesTo/a:EndpointReference/a:Address), made absolute when
	// written.
	AppliesTo string
	// Offer is the action claim (t:Claims/auth:ClaimType[@Uri=action]/auth:Value).
	Offer string
	// OnBehalfOf is the requester's signed saml:Assertion naming the user.
	OnBehalfOf *etree.Element
}

// Envelope is the SOAP 1.2 request for the issuer at endpoint, its To
// header and a fresh Timestamp signed with signer at now.
func (r *RequestSecurityToken) Envelope(endpoint string, signer *certs.Certificate, now time.Time) ([]byte, error) {
	doc := etree.NewDocument()
	env := doc.CreateElement("s:Envelope")
	env.CreateAttr("xmlns:s", nsSOAP12)
	env.CreateAttr("xmlns:a", nsWSA)
	h := env.CreateElement("s:Header")
	act := h.CreateElement("a:Action")
	act.CreateAttr("s:mustUnderstand", "1")
	act.SetText("http://schemas.xmlsoap.org/ws/2005/02/trust/RST/Issue")
	h.CreateElement("a:MessageID").SetText("urn:uuid:" + uuid())
	h.CreateElement("a:ReplyTo").CreateElement("a:Address").SetText("http://www.w3.org/2005/08/addressing/anonymous")
	to := h.CreateElement("a:To")
	to.CreateAttr("s:mustUnderstand", "1")
	to.SetText(endpoint)
	sec := h.CreateElement("o:Security")
	sec.CreateAttr("xmlns:o", nsWSSE)
	sec.CreateAttr("s:mustUnderstand", "1")
	rst := env.CreateElement("s:Body").CreateElement("t:RequestSecurityToken")
	rst.CreateAttr("xmlns:t", nsWST)
	rst.CreateAttr("Id", "uuid-"+uuid())
	rst.CreateElement("t:RequestType").SetText("http://schemas.xmlsoap.org/ws/2005/02/trust/Issue")
	ap := rst.CreateElement("wsp:AppliesTo")
	ap.CreateAttr("xmlns:wsp", nsWSP)
	ap.CreateElement("a:EndpointReference").CreateElement("a:Address").SetText(fedtoken.AbsoluteURI(r.AppliesTo))
	obo := rst.CreateElement("t:OnBehalfOf")
	if r.OnBehalfOf != nil {
		obo.AddChild(r.OnBehalfOf.Copy())
	}
	rst.CreateElement("t:TokenType").SetText("http://docs.oasis-open.org/wss/oasis-wss-saml-token-profile-1.1#SAMLV1.1")
	rst.CreateElement("t:KeyType").SetText("http://schemas.xmlsoap.org/ws/2005/02/trust/SymmetricKey")
	rst.CreateElement("t:KeySize").SetText("256")
	cl := rst.CreateElement("t:Claims")
	cl.CreateAttr("Dialect", "http://schemas.xmlsoap.org/ws/2006/12/authorization/authclaims")
	ct := cl.CreateElement("auth:ClaimType")
	ct.CreateAttr("xmlns:auth", nsAuth)
	ct.CreateAttr("Uri", fedtoken.ClaimAction)
	ct.CreateElement("auth:Value").SetText(r.Offer)
	rst.CreateElement("wsp:PolicyReference").CreateAttr("URI", "EX_MBI_FED_SSL")
	if err := signMessage(sec, to, signer, now); err != nil {
		return nil, err
	}
	return doc.WriteToBytes()
}

// Request is an RST as an issuer received it.
type Request struct {
	RequestSecurityToken
	env *etree.Element
}

// ReadRequest reads an RST envelope within Limits. OnBehalfOf is nil when
// the request has no OnBehalfOf assertion; the message signature is not
// checked here (Signer does).
func ReadRequest(body []byte) (*Request, error) {
	if _, err := soap.CheckLimits(body, Limits); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrMessage, err)
	}
	doc := etree.NewDocument()
	if err := doc.ReadFromBytes(body); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrMessage, err)
	}
	rst := xmltree.Find(doc.Root(), nsWST, "RequestSecurityToken")
	if rst == nil {
		return nil, fmt.Errorf("%w: no RequestSecurityToken", ErrMessage)
	}
	r := &Request{env: doc.Root()}
	if a := xmltree.Find(rst, nsWSA, "Address"); a != nil {
		r.AppliesTo = strings.TrimSpace(a.Text())
	}
	for _, ct := range xmltree.FindAll(rst, nsAuth, "ClaimType") {
		if ct.SelectAttrValue("Uri", "") == fedtoken.ClaimAction {
			if v := xmltree.Find(ct, nsAuth, "Value"); v != nil {
				r.Offer = strings.TrimSpace(v.Text())
			}
		}
	}
	if obo := xmltree.Find(rst, nsWST, "OnBehalfOf"); obo != nil {
		r.OnBehalfOf = xmltree.Find(obo, nsSAML, "Assertion")
	}
	return r, nil
}

// Signer checks the message signature (NOTES §4.4: it covers the To
// header and a current Timestamp) and returns the index among certs of
// the certificate whose key made it.
func (r *Request) Signer(certs []*x509.Certificate, now time.Time) (int, error) {
	return verifyMessage(r.env, certs, now)
}

// WriteResponse is the RSTR envelope carrying token, an xenc:EncryptedData
// element.
func WriteResponse(token *etree.Element, now time.Time) []byte {
	out := etree.NewDocument()
	env := out.CreateElement("s:Envelope")
	env.CreateAttr("xmlns:s", nsSOAP12)
	rstr := env.CreateElement("s:Body").CreateElement("t:RequestSecurityTokenResponse")
	rstr.CreateAttr("xmlns:t", nsWST)
	lt := rstr.CreateElement("t:Lifetime")
	lt.CreateElement("wsu:Created").SetText(now.UTC().Format(fedtoken.SAMLTime))
	lt.CreateAttr("xmlns:wsu", nsWSU)
	rstr.CreateElement("t:RequestedSecurityToken").AddChild(token)
	b, _ := out.WriteToBytes()
	return b
}

// ReadResponse returns the token of an RSTR: its xenc:EncryptedData as a
// standalone element, every namespace it uses declared on it.
func ReadResponse(body []byte) ([]byte, error) {
	if _, err := soap.CheckLimits(body, Limits); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrMessage, err)
	}
	doc := etree.NewDocument()
	if err := doc.ReadFromBytes(body); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrMessage, err)
	}
	rt := xmltree.Find(doc.Root(), nsWST, "RequestedSecurityToken")
	if rt == nil {
		return nil, ErrNoToken
	}
	ed := xmltree.Find(rt, nsXEnc, "EncryptedData")
	if ed == nil {
		return nil, fmt.Errorf("%w: the token is not encrypted", ErrNoToken)
	}
	ctx, err := etreeutils.NSBuildParentContext(ed)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrMessage, err)
	}
	detached, err := etreeutils.NSDetatch(ctx, ed)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrMessage, err)
	}
	tok := etree.NewDocument()
	tok.SetRoot(detached)
	return tok.WriteToBytes()
}

// one returns the only child {ns}local of el.
func one(el *etree.Element, ns, local string) (*etree.Element, error) {
	cs := xmltree.Children(el, ns, local)
	if len(cs) != 1 {
		return nil, fmt.Errorf("%w: %s has %d %s elements", ErrSignature, el.Tag, len(cs), local)
	}
	return cs[0], nil
}

func b64(el *etree.Element) ([]byte, error) {
	b, err := xmltree.Base64(el)
	if err != nil {
		return nil, fmt.Errorf("%w: %s is not base64", ErrSignature, el.Tag)
	}
	return b, nil
}

func uuid() string {
	b := make([]byte, 16)
	rand.Read(b)
	return fmt.Sprintf("%s-%s-%s-%s-%s", hex.EncodeToString(b[0:4]), hex.EncodeToString(b[4:6]), hex.EncodeToString(b[6:8]), hex.EncodeToString(b[8:10]), hex.EncodeToString(b[10:16]))
}
