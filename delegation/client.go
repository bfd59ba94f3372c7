// Package delegation obtains delegation tokens for our users from our
// token issuer (docs/protocol.md §4.4): a WS-Trust RequestSecurityToken signed with
// our federation certificate, carrying our signed statement of who the
// user is, answered with the encrypted token to present to a partner.
// `calfed freebusy -as` and `calfed trust test` use it.
package delegation

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/beevik/etree"

	"github.com/calfed/calfed/certs"
	"github.com/calfed/calfed/internal/fedtoken"
	"github.com/calfed/calfed/internal/outbound"
	"github.com/calfed/calfed/internal/soap"
	"github.com/calfed/calfed/wstrust"
)

// ErrRefused: the token issuer answered the request with an error.
var ErrRefused = errors.New("delegation: the token issuer refused the request")

// Client asks the token issuer for delegation tokens as our organisation.
type Client struct {
	HTTP           *http.Client       // default: internal/outbound's, 30-second timeout
	Certificate    *certs.Certificate // our current federation certificate
	ApplicationURI string             // ours
	IssuerURI      string             // the token issuer's URI
	IssuerEndpoint string             // its WS-Trust endpoint
	Now            func() time.Time   // default time.Now
}

func (c *Client) now() time.Time {
	if c.Now != nil {
		return c.Now()
	}
	return time.Now()
}

func (c *Client) http() *http.Client {
	if c.HTTP != nil {
		return c.HTTP
	}
	return outbound.Default().HTTP(30 * time.Second)
}

// Token asks the token issuer for a delegation token for user to present
// to the organisation at targetURI, for offer. It returns the token, an
// xenc:EncryptedData element that declares every namespace it uses.
func (c *Client) Token(ctx context.Context, user, targetURI, offer string) ([]byte, error) {
	body, err := c.Request(user, targetURI, offer)
	if err != nil {
		return nil, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.IssuerEndpoint, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/soap+xml; charset=utf-8")
	resp, err := c.http().Do(req)
	if err != nil {
		return nil, fmt.Errorf("delegation: token request: %w", err)
	}
	defer resp.Body.Close()
	out, err := soap.ReadBody(resp.Body, wstrust.Limits)
	if err != nil {
		return nil, fmt.Errorf("delegation: token response: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("%w: %s: HTTP %d", ErrRefused, c.IssuerEndpoint, resp.StatusCode)
	}
	tok, err := wstrust.ReadResponse(out)
	if err != nil {
		return nil, fmt.Errorf("delegation: token response: %w", err)
	}
	return tok, nil
}

// Request is the signed RST envelope Token sends, element for element the
// request Exchange sends (docs/protocol.md §4.4; docs/gateway/DAuthRequest.xml). The
// request is signed with our certificate, and so is the OnBehalfOf
// assertion naming the user.
func (c *Client) Request(user, targetURI, offer string) ([]byte, error) {
	if c.Certificate == nil {
		return nil, errors.New("delegation: no federation certificate to sign with")
	}
	obo, err := c.onBehalfOf(user, offer)
	if err != nil {
		return nil, err
	}
	rst := wstrust.RequestSecurityToken{AppliesTo: targetURI, Offer: offer, Requestor: c.ApplicationURI, OnBehalfOf: obo}
	return rst.Envelope(c.IssuerEndpoint, c.Certificate, c.now())
}

// nameFormatUPN is the NameIdentifier Format for a user named by address.
// Exchange names a user by immutable id
// (http://schemas.microsoft.com/LiveID/Federation/2008/05/ImmutableID)
// when the directory has one, as in the 2010 sample; calfed has none and
// names the user by address. Deliberate; docs/protocol.md §4.4.
const nameFormatUPN = "http://schemas.xmlsoap.org/claims/UPN"

// onBehalfOf is our signed statement of who the user is, as Exchange
// writes it (docs/protocol.md §4.4; docs/gateway/DAuthRequest.xml): AssertionID
// "saml-<guid>", Issuer our ApplicationUri as it is (no scheme added),
// audience the token issuer's URI, valid for the offer's lifetime; an
// AttributeStatement with the EmailAddress claim, then an
// AuthenticationStatement, both for the user, sender-vouches; signed with
// our certificate, named by its Subject Key Identifier.
func (c *Client) onBehalfOf(user, offer string) (*etree.Element, error) {
	now := c.now().UTC()
	life, _ := fedtoken.OfferLifetime(offer)
	a := etree.NewElement("saml:Assertion")
	a.CreateAttr("MajorVersion", "1")
	a.CreateAttr("MinorVersion", "1")
	a.CreateAttr("AssertionID", "saml-"+newID())
	a.CreateAttr("Issuer", c.ApplicationURI)
	a.CreateAttr("IssueInstant", now.Format(fedtoken.SAMLTime))
	a.CreateAttr("xmlns:saml", fedtoken.NSSAML)
	cond := a.CreateElement("saml:Conditions")
	cond.CreateAttr("NotBefore", now.Format(fedtoken.SAMLTime))
	cond.CreateAttr("NotOnOrAfter", now.Add(life).Format(fedtoken.SAMLTime))
	cond.CreateElement("saml:AudienceRestrictionCondition").CreateElement("saml:Audience").SetText(c.IssuerURI)
	subject := func(parent *etree.Element) {
		subj := parent.CreateElement("saml:Subject")
		ni := subj.CreateElement("saml:NameIdentifier")
		ni.CreateAttr("Format", nameFormatUPN)
		ni.SetText(user)
		subj.CreateElement("saml:SubjectConfirmation").CreateElement("saml:ConfirmationMethod").SetText("urn:oasis:names:tc:SAML:1.0:cm:sender-vouches")
	}
	st := a.CreateElement("saml:AttributeStatement")
	subject(st)
	at := st.CreateElement("saml:Attribute")
	at.CreateAttr("AttributeName", "EmailAddress")
	at.CreateAttr("AttributeNamespace", "http://schemas.xmlsoap.org/ws/2005/05/identity/claims")
	at.CreateElement("saml:AttributeValue").SetText(user)
	as := a.CreateElement("saml:AuthenticationStatement")
	as.CreateAttr("AuthenticationMethod", "urn:oasis:names:tc:SAML:1.0:am:password")
	as.CreateAttr("AuthenticationInstant", now.Format(fedtoken.SAMLTime))
	subject(as)
	return wstrust.SignAssertion(a, c.Certificate)
}

// newID is a GUID in its registry form.
func newID() string {
	b := make([]byte, 16)
	rand.Read(b)
	b[6], b[8] = b[6]&0x0f|0x40, b[8]&0x3f|0x80 // version 4, RFC 4122 variant
	return fmt.Sprintf("%s-%s-%s-%s-%s", hex.EncodeToString(b[0:4]), hex.EncodeToString(b[4:6]), hex.EncodeToString(b[6:8]), hex.EncodeToString(b[8:10]), hex.EncodeToString(b[10:16]))
}

// WithToken returns envelope, a SOAP 1.1 or 1.2 request, with a fresh
// delegation token for user at targetURI in a wsse:Security header (an
// existing one is replaced). Replaying captured requests uses it.
func (c *Client) WithToken(ctx context.Context, user, targetURI, offer string, envelope []byte) ([]byte, error) {
	doc := etree.NewDocument()
	if err := doc.ReadFromBytes(envelope); err != nil {
		return nil, fmt.Errorf("delegation: the request is not XML: %w", err)
	}
	env := doc.Root()
	if env == nil || env.Tag != "Envelope" {
		return nil, errors.New("delegation: the request is not a SOAP envelope")
	}
	raw, err := c.Token(ctx, user, targetURI, offer)
	if err != nil {
		return nil, err
	}
	tokDoc := etree.NewDocument()
	if err := tokDoc.ReadFromBytes(raw); err != nil {
		return nil, fmt.Errorf("delegation: the token is not XML: %w", err)
	}
	var header *etree.Element
	for _, ch := range env.ChildElements() {
		if ch.Tag == "Header" && ch.NamespaceURI() == env.NamespaceURI() {
			header = ch
		}
	}
	if header == nil {
		header = etree.NewElement(env.Space + ":Header")
		if env.Space == "" {
			header = etree.NewElement("Header")
		}
		env.InsertChildAt(0, header)
	}
	for _, ch := range header.ChildElements() {
		if ch.Tag == "Security" && ch.NamespaceURI() == fedtoken.NSWSSE {
			header.RemoveChild(ch)
		}
	}
	sec := header.CreateElement("wsse:Security")
	sec.CreateAttr("xmlns:wsse", fedtoken.NSWSSE)
	sec.AddChild(tokDoc.Root())
	return doc.WriteToBytes()
}
