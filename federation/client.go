package federation

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/hex"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/beevik/etree"
	dsig "github.com/russellhaering/goxmldsig"

	"github.com/calfed/calfed/certs"
)

// Client asks partners for free/busy on behalf of our users: a delegation
// token from the token issuer (NOTES §4.4), the partner's EWS URL from its
// Autodiscover over /WSSecurity (or its TargetSharingEpr), then
// GetUserAvailability with the token. NOTES §4.1.
type Client struct {
	HTTP           *http.Client
	Certificate    *certs.Certificate // our current federation certificate
	ApplicationURI string             // ours
	IssuerURI      string             // the token issuer's URI
	IssuerEndpoint string             // its WS-Trust endpoint
	Now            func() time.Time
}

// Partner is where a partner organisation is, as our relationship with it
// records (New-OrganizationRelationship's Target* parameters).
type Partner struct {
	ApplicationURI  string
	AutodiscoverEPR string
	SharingEPR      string
}

// FreeBusyQuery is what to ask.
type FreeBusyQuery struct {
	User      string // ours, on whose behalf we ask
	Mailboxes []string
	Start     time.Time
	End       time.Time
	View      string // FreeBusy, DetailedMerged, …
	Interval  int    // minutes
}

// MailboxAnswer is one mailbox's part of the answer.
type MailboxAnswer struct {
	Mailbox      string  `json:"mailbox"`
	ResponseCode string  `json:"response_code"`
	View         string  `json:"view,omitempty"`
	Merged       string  `json:"merged,omitempty"`
	Events       []Event `json:"events,omitempty"`
}

// Event is one calendar event of an answer.
type Event struct {
	Start    string `json:"start"`
	End      string `json:"end"`
	Busy     string `json:"busy"`
	Subject  string `json:"subject,omitempty"`
	Location string `json:"location,omitempty"`
	Private  bool   `json:"private,omitempty"`
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
	return &http.Client{Timeout: 30 * time.Second}
}

func uuid() string {
	b := make([]byte, 16)
	rand.Read(b)
	return fmt.Sprintf("%s-%s-%s-%s-%s", hex.EncodeToString(b[0:4]), hex.EncodeToString(b[4:6]), hex.EncodeToString(b[6:8]), hex.EncodeToString(b[8:10]), hex.EncodeToString(b[10:16]))
}

// Token asks the token issuer for a delegation token for user to present
// to the organisation at targetURI, for offer. The request is signed with
// our certificate, and so is the OnBehalfOf assertion naming the user.
func (c *Client) Token(ctx context.Context, user, targetURI, offer string) (*etree.Element, error) {
	body, err := c.requestSecurityToken(user, targetURI, offer)
	if err != nil {
		return nil, err
	}
	resp, err := c.post(ctx, c.IssuerEndpoint, "application/soap+xml; charset=utf-8", body)
	if err != nil {
		return nil, fmt.Errorf("federation: token request: %w", err)
	}
	out := etree.NewDocument()
	if err := out.ReadFromBytes(resp); err != nil {
		return nil, fmt.Errorf("federation: token response: %w", err)
	}
	rt := find(out.Root(), nsWST, "RequestedSecurityToken")
	if rt == nil {
		return nil, errors.New("federation: the token issuer answered without a token")
	}
	ed := find(rt, nsXEnc, "EncryptedData")
	if ed == nil {
		return nil, errors.New("federation: the token issuer's token is not encrypted")
	}
	return ed.Copy(), nil
}

// requestSecurityToken builds the signed RST. NOTES §4.4.
func (c *Client) requestSecurityToken(user, targetURI, offer string) ([]byte, error) {
	obo, err := c.onBehalfOf(user, offer)
	if err != nil {
		return nil, err
	}
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
	to.SetText(c.IssuerEndpoint)
	sec := h.CreateElement("o:Security")
	sec.CreateAttr("xmlns:o", nsWSSE)
	sec.CreateAttr("s:mustUnderstand", "1")
	rst := env.CreateElement("s:Body").CreateElement("t:RequestSecurityToken")
	rst.CreateAttr("xmlns:t", nsWST)
	rst.CreateAttr("Id", "uuid-"+uuid())
	rst.CreateElement("t:RequestType").SetText("http://schemas.xmlsoap.org/ws/2005/02/trust/Issue")
	ap := rst.CreateElement("wsp:AppliesTo")
	ap.CreateAttr("xmlns:wsp", nsWSP)
	ap.CreateElement("a:EndpointReference").CreateElement("a:Address").SetText(AbsoluteURI(targetURI))
	rst.CreateElement("t:OnBehalfOf").AddChild(obo)
	rst.CreateElement("t:TokenType").SetText("http://docs.oasis-open.org/wss/oasis-wss-saml-token-profile-1.1#SAMLV1.1")
	rst.CreateElement("t:KeyType").SetText("http://schemas.xmlsoap.org/ws/2005/02/trust/SymmetricKey")
	rst.CreateElement("t:KeySize").SetText("256")
	cl := rst.CreateElement("t:Claims")
	cl.CreateAttr("Dialect", "http://schemas.xmlsoap.org/ws/2006/12/authorization/authclaims")
	ct := cl.CreateElement("auth:ClaimType")
	ct.CreateAttr("xmlns:auth", nsAuth)
	ct.CreateAttr("Uri", claimAction)
	ct.CreateElement("auth:Value").SetText(offer)
	rst.CreateElement("wsp:PolicyReference").CreateAttr("URI", "EX_MBI_FED_SSL")
	if err := signMessage(sec, to, c.Certificate, c.now()); err != nil {
		return nil, err
	}
	return doc.WriteToBytes()
}

// onBehalfOf is our signed statement of who the user is. NOTES §4.4.
func (c *Client) onBehalfOf(user, offer string) (*etree.Element, error) {
	now := c.now().UTC()
	a := etree.NewElement("saml:Assertion")
	a.CreateAttr("xmlns:saml", nsSAML)
	a.CreateAttr("MajorVersion", "1")
	a.CreateAttr("MinorVersion", "1")
	a.CreateAttr("AssertionID", newID())
	a.CreateAttr("Issuer", AbsoluteURI(c.ApplicationURI))
	a.CreateAttr("IssueInstant", now.Format(samlTime))
	cond := a.CreateElement("saml:Conditions")
	cond.CreateAttr("NotBefore", now.Format(samlTime))
	cond.CreateAttr("NotOnOrAfter", now.Add(offerLifetimes[offer]).Format(samlTime))
	cond.CreateElement("saml:AudienceRestrictionCondition").CreateElement("saml:Audience").SetText(c.IssuerURI)
	st := a.CreateElement("saml:AttributeStatement")
	subj := st.CreateElement("saml:Subject")
	ni := subj.CreateElement("saml:NameIdentifier")
	ni.CreateAttr("Format", "http://schemas.xmlsoap.org/claims/UPN")
	ni.SetText(user)
	subj.CreateElement("saml:SubjectConfirmation").CreateElement("saml:ConfirmationMethod").SetText("urn:oasis:names:tc:SAML:1.0:cm:sender-vouches")
	at := st.CreateElement("saml:Attribute")
	at.CreateAttr("AttributeName", "EmailAddress")
	at.CreateAttr("AttributeNamespace", "http://schemas.xmlsoap.org/ws/2005/05/identity/claims")
	at.CreateElement("saml:AttributeValue").SetText(user)
	ks := dsig.TLSCertKeyStore(tls.Certificate{Certificate: [][]byte{c.Certificate.Cert.Raw}, PrivateKey: c.Certificate.Key})
	ctx := dsig.NewDefaultSigningContext(ks)
	ctx.IdAttribute = "AssertionID"
	ctx.Prefix = "ds"
	ctx.Canonicalizer = dsig.MakeC14N10ExclusiveCanonicalizerWithPrefixList("")
	if err := ctx.SetSignatureMethod(dsig.RSASHA1SignatureMethod); err != nil {
		return nil, err
	}
	return ctx.SignEnveloped(a)
}

func (c *Client) post(ctx context.Context, url, contentType string, body []byte) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", contentType)
	resp, err := c.http().Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	out, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return out, fmt.Errorf("%s: HTTP %d", url, resp.StatusCode)
	}
	return out, nil
}

// WSSecurityURL appends /WSSecurity unless the URL already ends in it, as
// Exchange's EwsWsSecurityUrl.Fix does. NOTES §1.1.
func WSSecurityURL(u string) string {
	t := strings.TrimRight(u, "/")
	if strings.HasSuffix(strings.ToLower(t), "/wssecurity") {
		return u
	}
	return t + "/WSSecurity"
}

func soapWithToken(tok *etree.Element, headers, body string) ([]byte, error) {
	doc := etree.NewDocument()
	doc.SetRoot(tok)
	t, err := doc.WriteToString()
	if err != nil {
		return nil, err
	}
	return []byte(`<?xml version="1.0" encoding="utf-8"?><soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/" xmlns:t="http://schemas.microsoft.com/exchange/services/2006/types" xmlns:m="http://schemas.microsoft.com/exchange/services/2006/messages" xmlns:o="` + nsWSSE + `"><soap:Header>` +
		headers + `<o:Security soap:mustUnderstand="1">` + t + `</o:Security></soap:Header><soap:Body>` + body + `</soap:Body></soap:Envelope>`), nil
}

func xmlText(s string) string {
	var b strings.Builder
	xml.EscapeText(&b, []byte(s))
	return b.String()
}

// EWSURL learns the partner's EWS URL: its TargetSharingEpr, or
// ExternalEwsUrl from GetUserSettings at its Autodiscover /WSSecurity.
func (c *Client) EWSURL(ctx context.Context, p Partner, user, mailbox string) (string, error) {
	if p.SharingEPR != "" {
		return p.SharingEPR, nil
	}
	if p.AutodiscoverEPR == "" {
		return "", errors.New("federation: the relationship has neither TargetSharingEpr nor TargetAutodiscoverEpr")
	}
	tok, err := c.Token(ctx, user, p.ApplicationURI, OfferAutodiscover)
	if err != nil {
		return "", err
	}
	body, err := soapWithToken(tok, `<ad:RequestedServerVersion xmlns:ad="http://schemas.microsoft.com/exchange/2010/Autodiscover">Exchange2010</ad:RequestedServerVersion>`,
		`<GetUserSettingsRequestMessage xmlns="http://schemas.microsoft.com/exchange/2010/Autodiscover"><Request><Users><User><Mailbox>`+xmlText(mailbox)+
			`</Mailbox></User></Users><RequestedSettings><Setting>ExternalEwsUrl</Setting><Setting>ExternalEwsVersion</Setting><Setting>InteropExternalEwsUrl</Setting></RequestedSettings><RequestedVersion>Exchange2010</RequestedVersion></Request></GetUserSettingsRequestMessage>`)
	if err != nil {
		return "", err
	}
	resp, err := c.post(ctx, WSSecurityURL(p.AutodiscoverEPR), "text/xml; charset=utf-8", body)
	if err != nil {
		return "", fmt.Errorf("federation: the partner's Autodiscover: %w", err)
	}
	var v struct {
		Users []struct {
			Code     string `xml:"ErrorCode"`
			Settings []struct {
				Name  string `xml:"Name"`
				Value string `xml:"Value"`
			} `xml:"UserSettings>UserSetting"`
		} `xml:"Body>GetUserSettingsResponseMessage>Response>UserResponses>UserResponse"`
	}
	if err := xml.Unmarshal(resp, &v); err != nil || len(v.Users) != 1 {
		return "", fmt.Errorf("federation: the partner's Autodiscover answer is not usable")
	}
	if v.Users[0].Code != "NoError" {
		return "", fmt.Errorf("federation: the partner's Autodiscover answered %s for %s", v.Users[0].Code, mailbox)
	}
	for _, s := range v.Users[0].Settings {
		if s.Name == "ExternalEwsUrl" && s.Value != "" {
			return s.Value, nil
		}
	}
	for _, s := range v.Users[0].Settings {
		if s.Name == "InteropExternalEwsUrl" && s.Value != "" {
			return s.Value, nil
		}
	}
	return "", errors.New("federation: the partner's Autodiscover gave no EWS URL")
}

// FreeBusy asks a partner for free/busy.
func (c *Client) FreeBusy(ctx context.Context, p Partner, q FreeBusyQuery) ([]MailboxAnswer, error) {
	if len(q.Mailboxes) == 0 {
		return nil, errors.New("federation: no mailbox to ask about")
	}
	ews, err := c.EWSURL(ctx, p, q.User, q.Mailboxes[0])
	if err != nil {
		return nil, err
	}
	tok, err := c.Token(ctx, q.User, p.ApplicationURI, OfferFreeBusy)
	if err != nil {
		return nil, err
	}
	var b strings.Builder
	b.WriteString(`<m:GetUserAvailabilityRequest><t:TimeZone><t:Bias>0</t:Bias><t:StandardTime><t:Bias>0</t:Bias><t:Time>00:00:00</t:Time><t:DayOrder>0</t:DayOrder><t:Month>0</t:Month><t:DayOfWeek>Sunday</t:DayOfWeek></t:StandardTime><t:DaylightTime><t:Bias>0</t:Bias><t:Time>00:00:00</t:Time><t:DayOrder>0</t:DayOrder><t:Month>0</t:Month><t:DayOfWeek>Sunday</t:DayOfWeek></t:DaylightTime></t:TimeZone><m:MailboxDataArray>`)
	for _, m := range q.Mailboxes {
		b.WriteString(`<t:MailboxData><t:Email><t:Address>` + xmlText(m) + `</t:Address></t:Email><t:AttendeeType>Required</t:AttendeeType><t:ExcludeConflicts>false</t:ExcludeConflicts></t:MailboxData>`)
	}
	interval := q.Interval
	if interval == 0 {
		interval = 30
	}
	fmt.Fprintf(&b, `</m:MailboxDataArray><t:FreeBusyViewOptions><t:TimeWindow><t:StartTime>%s</t:StartTime><t:EndTime>%s</t:EndTime></t:TimeWindow><t:MergedFreeBusyIntervalInMinutes>%d</t:MergedFreeBusyIntervalInMinutes><t:RequestedView>%s</t:RequestedView></t:FreeBusyViewOptions></m:GetUserAvailabilityRequest>`,
		q.Start.UTC().Format("2006-01-02T15:04:05"), q.End.UTC().Format("2006-01-02T15:04:05"), interval, xmlText(q.View))
	body, err := soapWithToken(tok, `<t:RequestServerVersion Version="Exchange2012"/><t:RequestTypeHeader><t:RequestType>CrossForest</t:RequestType></t:RequestTypeHeader>`, b.String())
	if err != nil {
		return nil, err
	}
	resp, err := c.post(ctx, WSSecurityURL(ews), "text/xml; charset=utf-8", body)
	if err != nil {
		return nil, fmt.Errorf("federation: the partner's EWS: %w", err)
	}
	var v struct {
		Responses []struct {
			Code   string `xml:"ResponseMessage>ResponseCode"`
			View   string `xml:"FreeBusyView>FreeBusyViewType"`
			Merged string `xml:"FreeBusyView>MergedFreeBusy"`
			Events []struct {
				Start    string `xml:"StartTime"`
				End      string `xml:"EndTime"`
				Busy     string `xml:"BusyType"`
				Subject  string `xml:"CalendarEventDetails>Subject"`
				Location string `xml:"CalendarEventDetails>Location"`
				Private  bool   `xml:"CalendarEventDetails>IsPrivate"`
			} `xml:"FreeBusyView>CalendarEventArray>CalendarEvent"`
		} `xml:"Body>GetUserAvailabilityResponse>FreeBusyResponseArray>FreeBusyResponse"`
	}
	if err := xml.Unmarshal(resp, &v); err != nil {
		return nil, fmt.Errorf("federation: the partner's answer: %w", err)
	}
	if len(v.Responses) != len(q.Mailboxes) {
		return nil, fmt.Errorf("federation: the partner answered %d mailboxes of %d", len(v.Responses), len(q.Mailboxes))
	}
	out := make([]MailboxAnswer, len(v.Responses))
	for i, r := range v.Responses {
		out[i] = MailboxAnswer{Mailbox: q.Mailboxes[i], ResponseCode: r.Code, Merged: r.Merged}
		if r.Code == "NoError" {
			out[i].View = r.View
		}
		for _, e := range r.Events {
			out[i].Events = append(out[i].Events, Event{Start: e.Start, End: e.End, Busy: e.Busy, Subject: e.Subject, Location: e.Location, Private: e.Private})
		}
	}
	return out, nil
}

// WithToken returns envelope, a SOAP 1.1 or 1.2 request, with a fresh
// delegation token for user at targetURI in a wsse:Security header (an
// existing one is replaced). Replaying captured requests uses it.
func (c *Client) WithToken(ctx context.Context, user, targetURI, offer string, envelope []byte) ([]byte, error) {
	doc := etree.NewDocument()
	if err := doc.ReadFromBytes(envelope); err != nil {
		return nil, fmt.Errorf("federation: the request is not XML: %w", err)
	}
	env := doc.Root()
	if env == nil || env.Tag != "Envelope" {
		return nil, errors.New("federation: the request is not a SOAP envelope")
	}
	tok, err := c.Token(ctx, user, targetURI, offer)
	if err != nil {
		return nil, err
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
		if ch.Tag == "Security" && ch.NamespaceURI() == nsWSSE {
			header.RemoveChild(ch)
		}
	}
	sec := header.CreateElement("wsse:Security")
	sec.CreateAttr("xmlns:wsse", nsWSSE)
	sec.AddChild(tok)
	return doc.WriteToBytes()
}
