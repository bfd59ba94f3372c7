package federation

import (
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/beevik/etree"
	"github.com/jonboulle/clockwork"
	dsig "github.com/russellhaering/goxmldsig"

	"github.com/calfed/calfed/certs"
	"github.com/calfed/calfed/internal/soap"
)

// Organization is one organisation registered with the development token
// issuer: its ApplicationUri, domains and federation certificate.
type Organization struct {
	Name           string
	ApplicationURI string
	Domains        []string
	Certificate    *x509.Certificate
}

// STS is a development token issuer: it serves WS-Federation metadata and
// answers WS-Trust 2005/02 RequestSecurityToken with delegation tokens, as
// the Microsoft Federation Gateway does for Exchange (NOTES §4.4, §4.5).
// It is for labs and tests, never for production: it knows organisations
// only from its configuration, and a requester proves who it is by its
// message signature and the signature of its OnBehalfOf assertion.
type STS struct {
	IssuerURI string
	Endpoint  string // its own RST URL, announced in the metadata
	Orgs      []Organization
	Now       func() time.Time
	Logger    *slog.Logger

	mu       sync.Mutex
	current  *certs.Certificate
	previous *certs.Certificate
}

// SetSigners sets the signing certificates (previous may be nil).
func (s *STS) SetSigners(current, previous *certs.Certificate) {
	s.mu.Lock()
	s.current, s.previous = current, previous
	s.mu.Unlock()
}

func (s *STS) signers() (*certs.Certificate, *certs.Certificate) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.current, s.previous
}

// Metadata serves the metadata document.
func (s *STS) Metadata() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		cur, prev := s.signers()
		m := &Metadata{IssuerURI: s.IssuerURI, Endpoint: s.Endpoint, Current: cur.Cert}
		if prev != nil {
			m.Previous = prev.Cert
		}
		w.Header().Set("Content-Type", "application/xml; charset=utf-8")
		w.Write(WriteMetadata(m))
	})
}

const (
	nsSOAP12 = "http://www.w3.org/2003/05/soap-envelope"
	nsWST    = "http://schemas.xmlsoap.org/ws/2005/02/trust"
	nsWSP    = "http://schemas.xmlsoap.org/ws/2004/09/policy"
	nsAuth   = "http://schemas.xmlsoap.org/ws/2006/12/authorization"
)

// Errors of the token request.
var ErrRequest = errors.New("federation: token request refused")

// ServeHTTP answers RequestSecurityToken.
func (s *STS) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	log := s.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	now := time.Now
	if s.Now != nil {
		now = s.Now
	}
	body, err := soap.ReadRequest(r, soap.Limits{MaxBytes: 256 << 10})
	var tok *etree.Element
	if err == nil {
		tok, err = s.issue(body, now())
	}
	if err != nil {
		log.Warn("token request refused", "remote", r.RemoteAddr, "reason", err.Error())
		f := soap.Fault{Code: "Sender", SubcodeNS: nsWST, Subcode: "RequestFailed", Reason: "The token request was refused."}
		soap.WriteResponse(w, soap.V12, http.StatusInternalServerError, f.Write(soap.V12, nil))
		return
	}
	out := etree.NewDocument()
	env := out.CreateElement("s:Envelope")
	env.CreateAttr("xmlns:s", nsSOAP12)
	rstr := env.CreateElement("s:Body").CreateElement("t:RequestSecurityTokenResponse")
	rstr.CreateAttr("xmlns:t", nsWST)
	lt := rstr.CreateElement("t:Lifetime")
	lt.CreateElement("wsu:Created").SetText(now().UTC().Format(samlTime))
	lt.CreateAttr("xmlns:wsu", nsWSU)
	rstr.CreateElement("t:RequestedSecurityToken").AddChild(tok)
	b, _ := out.WriteToBytes()
	w.Header().Set("Content-Type", "application/soap+xml; charset=utf-8")
	w.Write(b)
}

// issue checks a RequestSecurityToken and mints the token it asks for.
func (s *STS) issue(body []byte, now time.Time) (*etree.Element, error) {
	if _, err := soap.CheckLimits(body, soap.Limits{MaxBytes: 256 << 10}); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrRequest, err)
	}
	doc := etree.NewDocument()
	if err := doc.ReadFromBytes(body); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrRequest, err)
	}
	rst := find(doc.Root(), nsWST, "RequestSecurityToken")
	if rst == nil {
		return nil, fmt.Errorf("%w: no RequestSecurityToken", ErrRequest)
	}
	applies := ""
	if a := find(rst, nsWSA, "Address"); a != nil {
		applies = strings.TrimSpace(a.Text())
	}
	offer := ""
	for _, ct := range findAll(rst, nsAuth, "ClaimType") {
		if ct.SelectAttrValue("Uri", "") == claimAction {
			if v := find(ct, nsAuth, "Value"); v != nil {
				offer = strings.TrimSpace(v.Text())
			}
		}
	}
	if _, ok := offerLifetimes[offer]; !ok {
		return nil, fmt.Errorf("%w: unknown offer %q", ErrRequest, offer)
	}
	var target *Organization
	for i := range s.Orgs {
		if strings.EqualFold(AbsoluteURI(s.Orgs[i].ApplicationURI), AbsoluteURI(applies)) {
			target = &s.Orgs[i]
		}
	}
	if target == nil {
		return nil, fmt.Errorf("%w: no registered organisation has ApplicationUri %q", ErrRequest, applies)
	}
	obo := find(rst, nsWST, "OnBehalfOf")
	if obo == nil {
		return nil, fmt.Errorf("%w: no OnBehalfOf", ErrRequest)
	}
	a := find(obo, nsSAML, "Assertion")
	if a == nil {
		return nil, fmt.Errorf("%w: OnBehalfOf holds no SAML assertion", ErrRequest)
	}
	// The requester is the registered organisation whose certificate
	// signed the message; it must also have signed the assertion, and the
	// user must be in its domains.
	requester, err := verifyMessage(doc.Root(), s.Orgs, now)
	if err != nil {
		return nil, err
	}
	ctx := dsig.NewDefaultValidationContext(&dsig.MemoryX509CertificateStore{Roots: []*x509.Certificate{requester.Certificate}})
	ctx.IdAttribute = "AssertionID"
	ctx.Clock = dsig.NewFakeClock(clockwork.NewFakeClockAt(now))
	verified, err := ctx.Validate(a)
	if err != nil {
		return nil, fmt.Errorf("%w: the OnBehalfOf assertion is not signed by the requesting organisation: %v", ErrRequest, err)
	}
	email := ""
	for _, at := range findAll(verified, nsSAML, "Attribute") {
		if at.SelectAttrValue("AttributeName", "") == "EmailAddress" {
			if v := find(at, nsSAML, "AttributeValue"); v != nil {
				email = strings.ToLower(strings.TrimSpace(v.Text()))
			}
		}
	}
	at := strings.LastIndexByte(email, '@')
	if at < 0 {
		return nil, fmt.Errorf("%w: the assertion names no user", ErrRequest)
	}
	inDomain := false
	for _, d := range requester.Domains {
		inDomain = inDomain || strings.EqualFold(d, email[at+1:])
	}
	if !inDomain {
		return nil, fmt.Errorf("%w: %s is not in %s's domains", ErrRequest, email, requester.Name)
	}
	cur, _ := s.signers()
	return Issue{Issuer: s.IssuerURI, Signer: cur, Audience: target.ApplicationURI, Email: email, Offer: offer,
		Target: target.Certificate, NotBefore: now}.Token()
}

func find(el *etree.Element, ns, local string) *etree.Element {
	if all := findAll(el, ns, local); len(all) > 0 {
		return all[0]
	}
	return nil
}

func findAll(el *etree.Element, ns, local string) []*etree.Element {
	var out []*etree.Element
	var walk func(*etree.Element)
	walk = func(e *etree.Element) {
		if e.Tag == local && e.NamespaceURI() == ns {
			out = append(out, e)
		}
		for _, c := range e.ChildElements() {
			walk(c)
		}
	}
	if el != nil {
		walk(el)
	}
	return out
}
