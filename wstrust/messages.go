package wstrust

import (
	"crypto/rand"
	"crypto/x509"
	"encoding/base64"
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
	"github.com/calfed/calfed/internal/wssec"
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
	ErrSignature = wssec.ErrSignature
	// ErrNoToken: the RSTR carries no encrypted token.
	ErrNoToken = errors.New("wstrust: the response carries no encrypted token")
)

// Fixed values of the request, as Exchange writes them (docs/protocol.md §4.4;
// docs/gateway/DAuthRequest.xml).
const (
	actionIssue      = "http://schemas.xmlsoap.org/ws/2005/02/trust/RST/Issue"
	actionIssueReply = "http://schemas.xmlsoap.org/ws/2005/02/trust/RSTR/Issue"
	anonymous        = "http://www.w3.org/2005/08/addressing/anonymous"
	requestIssue     = "http://schemas.xmlsoap.org/ws/2005/02/trust/Issue"
	// TokenTypeSAML11 is the token type Exchange asks for.
	TokenTypeSAML11 = "http://docs.oasis-open.org/wss/oasis-wss-saml-token-profile-1.1#SAMLV1.1"
	// TokenTypeSAML10 is the token type the gateway answers with
	// (FINDINGS §1.2).
	TokenTypeSAML10   = "urn:oasis:names:tc:SAML:1.0"
	keySymmetric      = "http://schemas.xmlsoap.org/ws/2005/02/trust/SymmetricKey"
	algAES256CBC      = fedtoken.AlgAES256CBC
	algHMACSHA1       = "http://www.w3.org/2000/09/xmldsig#hmac-sha1"
	algExcC14N        = "http://www.w3.org/2001/10/xml-exc-c14n#"
	algPSHA1          = "http://schemas.xmlsoap.org/ws/2005/02/trust/CK/PSHA1"
	scopeRequestor    = "http://schemas.xmlsoap.org/ws/2006/12/authorization/ctx/requestor"
	nameRequestor     = "http://schemas.microsoft.com/wlid/requestor"
	dialectAuthClaims = "http://schemas.xmlsoap.org/ws/2006/12/authorization/authclaims"
	policyMBIFedSSL   = "EX_MBI_FED_SSL"
	valueAssertionID  = "http://docs.oasis-open.org/wss/oasis-wss-saml-token-profile-1.0#SAMLAssertionID"
)

// RequestSecurityToken is an RST for a delegation token: WS-Trust 2005/02
// RequestSecurityToken, docs/protocol.md §4.4.
type RequestSecurityToken struct {
	// AppliesTo is the target organisation's ApplicationUri
	// (wsp:AppliesTo/a:EndpointReference/a:Address), made absolute when
	// written.
	AppliesTo string
	// Offer is the action claim (t:Claims/auth:ClaimType[@Uri=action]/auth:Value).
	Offer string
	// Requestor is the requesting organisation's ApplicationUri, as it is
	// (auth:AdditionalContext/auth:ContextItem[@Name=requestor]/auth:Value).
	Requestor string
	// OnBehalfOf is the requester's signed saml:Assertion naming the user.
	OnBehalfOf *etree.Element
}

// Envelope is the SOAP 1.2 request for the issuer at endpoint, its To
// header and a fresh Timestamp signed with signer at now. It is the
// request Exchange sends, element for element (docs/protocol.md §4.4;
// docs/gateway/DAuthRequest.xml): every prefix declared on the Envelope;
// To, Action, MessageID, ReplyTo and Security in that order; the body's
// algorithm elements before AppliesTo, OnBehalfOf, AdditionalContext,
// Claims and PolicyReference.
func (r *RequestSecurityToken) Envelope(endpoint string, signer *certs.Certificate, now time.Time) ([]byte, error) {
	doc := etree.NewDocument()
	env := doc.CreateElement("s:Envelope")
	for _, ns := range [][2]string{{"s", nsSOAP12}, {"a", nsWSA}, {"u", nsWSU}, {"o", nsWSSE}, {"t", nsWST}, {"auth", nsAuth}, {"wsp", nsWSP}} {
		env.CreateAttr("xmlns:"+ns[0], ns[1])
	}
	h := env.CreateElement("s:Header")
	to := h.CreateElement("a:To")
	to.CreateAttr("s:mustUnderstand", "1")
	to.SetText(endpoint)
	act := h.CreateElement("a:Action")
	act.CreateAttr("s:mustUnderstand", "1")
	act.SetText(actionIssue)
	h.CreateElement("a:MessageID").SetText("urn:uuid:" + uuid())
	h.CreateElement("a:ReplyTo").CreateElement("a:Address").SetText(anonymous)
	sec := h.CreateElement("o:Security")
	sec.CreateAttr("s:mustUnderstand", "1")
	rst := env.CreateElement("s:Body").CreateElement("t:RequestSecurityToken")
	rst.CreateAttr("Id", "uuid-"+uuid())
	for _, el := range [][2]string{
		{"RequestType", requestIssue},
		{"TokenType", TokenTypeSAML11},
		{"KeyType", keySymmetric},
		{"KeySize", "256"},
		{"CanonicalizationAlgorithm", algExcC14N},
		{"EncryptionAlgorithm", algAES256CBC},
		{"EncryptWith", algAES256CBC},
		{"SignWith", algHMACSHA1},
		{"ComputedKeyAlgorithm", algPSHA1},
	} {
		rst.CreateElement("t:" + el[0]).SetText(el[1])
	}
	rst.CreateElement("wsp:AppliesTo").CreateElement("a:EndpointReference").CreateElement("a:Address").SetText(fedtoken.AbsoluteURI(r.AppliesTo))
	obo := rst.CreateElement("t:OnBehalfOf")
	if r.OnBehalfOf != nil {
		obo.AddChild(r.OnBehalfOf.Copy())
	}
	if r.Requestor != "" {
		ci := rst.CreateElement("auth:AdditionalContext").CreateElement("auth:ContextItem")
		ci.CreateAttr("Scope", scopeRequestor)
		ci.CreateAttr("Name", nameRequestor)
		ci.CreateElement("auth:Value").SetText(r.Requestor)
	}
	cl := rst.CreateElement("t:Claims")
	cl.CreateAttr("Dialect", dialectAuthClaims)
	ct := cl.CreateElement("auth:ClaimType")
	ct.CreateAttr("Uri", fedtoken.ClaimAction)
	ct.CreateElement("auth:Value").SetText(r.Offer)
	rst.CreateElement("wsp:PolicyReference").CreateAttr("URI", policyMBIFedSSL)
	if err := wssec.Sign(sec, signer, wssec.BySKI, now, to); err != nil {
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
	if a := xmltree.Find(xmltree.Find(rst, nsWSP, "AppliesTo"), nsWSA, "Address"); a != nil {
		r.AppliesTo = strings.TrimSpace(a.Text())
	}
	for _, ci := range xmltree.FindAll(rst, nsAuth, "ContextItem") {
		if ci.SelectAttrValue("Name", "") == nameRequestor {
			if v := xmltree.Find(ci, nsAuth, "Value"); v != nil {
				r.Requestor = strings.TrimSpace(v.Text())
			}
		}
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

// Signer checks the message signature (docs/protocol.md §4.4: it covers the To
// header and a current Timestamp) and returns the index among certs of
// the certificate whose key made it.
func (r *Request) Signer(certs []*x509.Certificate, now time.Time) (int, error) {
	v, err := wssec.Verify(r.env, now, wssec.Options{Known: certs, CoverTo: true})
	return v.Index, err
}

// Response is an RSTR for a delegation token: WS-Trust 2005/02
// RequestSecurityTokenResponse, as the gateway answers Exchange (docs/protocol.md
// §4.4; docs/gateway/DAuthResponse.xml).
type Response struct {
	// TokenType is the type of the token issued; default TokenTypeSAML10,
	// the gateway's answer whatever was asked.
	TokenType string
	// AppliesTo is the target's ApplicationUri, made absolute when written.
	AppliesTo string
	// Created and Expires bound the token's lifetime (wst:Lifetime).
	Created, Expires time.Time
	// Token is the xenc:EncryptedData (wst:RequestedSecurityToken).
	Token *etree.Element
	// AssertionID names the encrypted assertion in the attached and
	// unattached references Exchange reads; none are written when empty.
	AssertionID string
	// ProofKey is the token's proof key (wst:RequestedProofToken/
	// wst:BinarySecret); none is written when empty.
	ProofKey []byte
}

// WriteResponse is the RSTR envelope for r, answered at now, in the
// gateway's layout (docs/gateway/DAuthResponse.xml): a header with Action,
// the anonymous To and a Security header holding only a Timestamp (the
// gateway does not sign its answer), and a bare RSTR (no collection) with
// TokenType, AppliesTo, Lifetime, RequestedSecurityToken, the attached and
// unattached references and RequestedProofToken, in that order.
func WriteResponse(r *Response, now time.Time) []byte {
	out := etree.NewDocument()
	env := out.CreateElement("S:Envelope")
	for _, ns := range [][2]string{{"S", nsSOAP12}, {"wsse", nsWSSE}, {"wsu", nsWSU}, {"wsa", nsWSA}} {
		env.CreateAttr("xmlns:"+ns[0], ns[1])
	}
	h := env.CreateElement("S:Header")
	act := h.CreateElement("wsa:Action")
	act.CreateAttr("wsu:Id", "Action")
	act.CreateAttr("S:mustUnderstand", "1")
	act.SetText(actionIssueReply)
	to := h.CreateElement("wsa:To")
	to.CreateAttr("wsu:Id", "To")
	to.CreateAttr("S:mustUnderstand", "1")
	// The gateway's To carries the 2004/08 anonymous URI in a 2005/08
	// element (FINDINGS §1.2); Exchange reads it so.
	to.SetText("http://schemas.xmlsoap.org/ws/2004/08/addressing/role/anonymous")
	sec := h.CreateElement("wsse:Security")
	sec.CreateAttr("S:mustUnderstand", "1")
	ts := sec.CreateElement("wsu:Timestamp")
	ts.CreateAttr("wsu:Id", "TS")
	ts.CreateElement("wsu:Created").SetText(now.UTC().Format(wsuTime))
	ts.CreateElement("wsu:Expires").SetText(now.UTC().Add(5 * time.Minute).Format(wsuTime))
	rstr := env.CreateElement("S:Body").CreateElement("wst:RequestSecurityTokenResponse")
	rstr.CreateAttr("xmlns:wst", nsWST)
	rstr.CreateAttr("xmlns:wsp", nsWSP)
	tt := r.TokenType
	if tt == "" {
		tt = TokenTypeSAML10
	}
	rstr.CreateElement("wst:TokenType").SetText(tt)
	rstr.CreateElement("wsp:AppliesTo").CreateElement("wsa:EndpointReference").CreateElement("wsa:Address").SetText(fedtoken.AbsoluteURI(r.AppliesTo))
	lt := rstr.CreateElement("wst:Lifetime")
	lt.CreateElement("wsu:Created").SetText(r.Created.UTC().Format(wsuTime))
	lt.CreateElement("wsu:Expires").SetText(r.Expires.UTC().Format(wsuTime))
	rt := rstr.CreateElement("wst:RequestedSecurityToken")
	if r.Token != nil {
		rt.AddChild(r.Token)
	}
	if r.AssertionID != "" {
		for _, name := range []string{"wst:RequestedAttachedReference", "wst:RequestedUnattachedReference"} {
			kid := rstr.CreateElement(name).CreateElement("wsse:SecurityTokenReference").CreateElement("wsse:KeyIdentifier")
			kid.CreateAttr("ValueType", valueAssertionID)
			kid.SetText(r.AssertionID)
		}
	}
	if len(r.ProofKey) > 0 {
		rstr.CreateElement("wst:RequestedProofToken").CreateElement("wst:BinarySecret").SetText(base64.StdEncoding.EncodeToString(r.ProofKey))
	}
	b, _ := out.WriteToBytes()
	return b
}

// wsuTime is the form of wsu:Created and wsu:Expires both sides write.
const wsuTime = wssec.TimeFormat

// ReadResponse returns the token of an RSTR: its xenc:EncryptedData as a
// standalone element, every namespace it uses declared on it. It reads a
// bare RSTR (the gateway's answer, FINDINGS §1.2) as well as an RSTR in a
// RequestSecurityTokenResponseCollection (taking the first with a token),
// signed or not, whatever its header holds.
func ReadResponse(body []byte) ([]byte, error) {
	if _, err := soap.CheckLimits(body, Limits); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrMessage, err)
	}
	doc := etree.NewDocument()
	if err := doc.ReadFromBytes(body); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrMessage, err)
	}
	var rt *etree.Element
	for _, rstr := range xmltree.FindAll(doc.Root(), nsWST, "RequestSecurityTokenResponse") {
		if rts := xmltree.Children(rstr, nsWST, "RequestedSecurityToken"); len(rts) > 0 {
			rt = rts[0]
			break
		}
	}
	if rt == nil {
		return nil, ErrNoToken
	}
	eds := xmltree.Children(rt, nsXEnc, "EncryptedData")
	if len(eds) == 0 {
		return nil, fmt.Errorf("%w: the token is not encrypted", ErrNoToken)
	}
	ed := eds[0]
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
	b[6], b[8] = b[6]&0x0f|0x40, b[8]&0x3f|0x80 // version 4, RFC 4122 variant
	return fmt.Sprintf("%s-%s-%s-%s-%s", hex.EncodeToString(b[0:4]), hex.EncodeToString(b[4:6]), hex.EncodeToString(b[6:8]), hex.EncodeToString(b[8:10]), hex.EncodeToString(b[10:16]))
}
