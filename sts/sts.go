// Package sts is calfed's development token issuer: it plays the Microsoft
// Federation Gateway for labs and tests (docs/protocol.md §4.4, §4.5), serving
// WS-Federation metadata and answering WS-Trust RequestSecurityToken with
// delegation tokens for the organisations in its configuration and those
// registered with it through ManageDelegation2 (package managedelegation,
// docs/protocol.md §4.7). `calfed sts serve` runs it. Issue mints the same
// tokens directly, for tests.
package sts

import (
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/beevik/etree"

	"github.com/calfed/calfed/certs"
	"github.com/calfed/calfed/internal/domainname"
	"github.com/calfed/calfed/internal/fedtoken"
	"github.com/calfed/calfed/internal/soap"
	"github.com/calfed/calfed/internal/xmltree"
	"github.com/calfed/calfed/managedelegation"
	"github.com/calfed/calfed/wsfed"
	"github.com/calfed/calfed/wstrust"
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
// the Microsoft Federation Gateway does for Exchange (docs/protocol.md §4.4, §4.5).
// It is for labs and tests, never for production: it knows organisations
// from its configuration and its registration service, and a requester
// proves who it is by its message signature and the signature of its
// OnBehalfOf assertion.
type STS struct {
	IssuerURI string
	Endpoint  string // its own RST URL, announced in the metadata
	DataAlg   string // the tokens' data encryption; default 3DES-CBC, as the gateway
	Orgs      []Organization
	// Registration, when set, is served at RegistrationPath, and the
	// applications registered there are organisations too.
	Registration *managedelegation.Server
	Now          func() time.Time
	Logger       *slog.Logger

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
		m := &wsfed.Metadata{IssuerURI: s.IssuerURI, Endpoint: s.Endpoint, Current: cur.Cert}
		if prev != nil {
			m.Previous = prev.Cert
		}
		w.Header().Set("Content-Type", "application/xml; charset=utf-8")
		w.Write(wsfed.WriteMetadata(m))
	})
}

// organizations are the configured organisations and the registered
// applications, whose domains are those added with AddUri.
func (s *STS) organizations() []Organization {
	if s.Registration == nil || s.Registration.Registry == nil {
		return s.Orgs
	}
	orgs := slices.Clone(s.Orgs)
	for _, a := range s.Registration.Registry.Apps() {
		c, err := a.Cert()
		if err != nil {
			if s.Logger != nil {
				s.Logger.Warn("registered application skipped: its certificate does not parse", "app", a.ID, "err", err)
			}
			continue
		}
		orgs = append(orgs, Organization{Name: "application " + a.ID, ApplicationURI: a.URI, Domains: a.URIs, Certificate: c})
	}
	return orgs
}

// ErrRequest is wrapped by every reason a token request is refused.
var ErrRequest = errors.New("sts: token request refused")

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
	body, err := soap.ReadRequest(r, wstrust.Limits)
	var resp *wstrust.Response
	if err == nil {
		resp, err = s.issue(body, now())
	}
	if err != nil {
		log.Warn("token request refused", "remote", r.RemoteAddr, "reason", err.Error())
		f := soap.Fault{Code: "Sender", SubcodeNS: "http://schemas.xmlsoap.org/ws/2005/02/trust", Subcode: "RequestFailed", Reason: "The token request was refused."}
		soap.WriteResponse(w, soap.V12, http.StatusInternalServerError, f.Write(soap.V12, nil))
		return
	}
	w.Header().Set("Content-Type", "application/soap+xml; charset=utf-8")
	w.Write(wstrust.WriteResponse(resp, now()))
}

// issue checks a RequestSecurityToken and answers it with the token it
// asks for. It reads the request in the layout Exchange sends (docs/protocol.md §4.4;
// docs/gateway/DAuthRequest.xml): the message and the OnBehalfOf assertion
// signed by the requester, either naming its certificate by Subject Key
// Identifier or carrying it.
func (s *STS) issue(body []byte, now time.Time) (*wstrust.Response, error) {
	req, err := wstrust.ReadRequest(body)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrRequest, err)
	}
	offer := req.Offer
	if _, ok := fedtoken.OfferLifetime(offer); !ok {
		return nil, fmt.Errorf("%w: unknown offer %q", ErrRequest, offer)
	}
	orgs := s.organizations()
	var target *Organization
	for i := range orgs {
		if domainname.EqualFoldASCII(fedtoken.AbsoluteURI(orgs[i].ApplicationURI), fedtoken.AbsoluteURI(req.AppliesTo)) {
			target = &orgs[i]
		}
	}
	if target == nil {
		return nil, fmt.Errorf("%w: no registered organisation has ApplicationUri %q", ErrRequest, req.AppliesTo)
	}
	a := req.OnBehalfOf
	if a == nil {
		return nil, fmt.Errorf("%w: OnBehalfOf holds no SAML assertion", ErrRequest)
	}
	// The requester is the registered organisation whose certificate
	// signed the message; it must also have signed the assertion, and the
	// user must be in its domains.
	keys := make([]*x509.Certificate, len(orgs))
	for i := range orgs {
		keys[i] = orgs[i].Certificate
	}
	i, err := req.Signer(keys, now)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrRequest, err)
	}
	requester := &orgs[i]
	verified, err := wstrust.VerifyAssertion(a, requester.Certificate, now)
	if err != nil {
		return nil, fmt.Errorf("%w: the OnBehalfOf assertion is not signed by the requesting organisation: %v", ErrRequest, err)
	}
	email := ""
	for _, at := range xmltree.FindAll(verified, nsSAML, "Attribute") {
		if at.SelectAttrValue("AttributeName", "") == "EmailAddress" {
			if v := xmltree.Find(at, nsSAML, "AttributeValue"); v != nil {
				email = strings.TrimSpace(v.Text())
			}
		}
	}
	if email == "" {
		return nil, fmt.Errorf("%w: the assertion names no user", ErrRequest)
	}
	// Compared in canonical form (internal/domainname), as the receiver
	// will read the token's EmailAddress.
	email, err = domainname.Address(email)
	if err != nil {
		return nil, fmt.Errorf("%w: the assertion's EmailAddress: %v", ErrRequest, err)
	}
	domain := email[strings.LastIndexByte(email, '@')+1:]
	inDomain := false
	for _, d := range requester.Domains {
		c, err := domainname.Canonical(strings.TrimSpace(d))
		inDomain = inDomain || err == nil && c == domain
	}
	if !inDomain {
		return nil, fmt.Errorf("%w: %s is not in %s's domains", ErrRequest, email, requester.Name)
	}
	cur, _ := s.signers()
	is := Issue{Issuer: s.IssuerURI, Signer: cur, Audience: target.ApplicationURI, Email: email, Offer: offer,
		Target: target.Certificate, NotBefore: now, RequestorDomain: requester.ApplicationURI, DataAlg: s.DataAlg}
	// Issue.Token, in its two steps: the answer names the assertion and
	// gives its lifetime and proof key.
	assertion, err := is.Assertion()
	if err != nil {
		return nil, err
	}
	tok, err := EncryptAssertion(assertion, is.Target, is.KeyTransport, is.DataAlg)
	if err != nil {
		return nil, err
	}
	return response(assertion, tok, target.ApplicationURI, now), nil
}

// response is the answer carrying tok, the encryption of assertion, as
// the gateway answers (docs/protocol.md §4.4; docs/gateway/DAuthResponse.xml): the
// assertion's id in the attached and unattached references, its validity
// as the Lifetime, and its proof key when the assertion holds it in clear
// (a BinarySecret in its subject confirmation, as the gateway's tokens do,
// docs/protocol.md §4.3).
func response(assertion, tok *etree.Element, appliesTo string, now time.Time) *wstrust.Response {
	r := &wstrust.Response{AppliesTo: appliesTo, Token: tok, AssertionID: assertion.SelectAttrValue("AssertionID", ""), Created: now, Expires: now}
	if cond := xmltree.Find(assertion, nsSAML, "Conditions"); cond != nil {
		if t, err := time.Parse(time.RFC3339Nano, cond.SelectAttrValue("NotBefore", "")); err == nil {
			r.Created = t
		}
		if t, err := time.Parse(time.RFC3339Nano, cond.SelectAttrValue("NotOnOrAfter", "")); err == nil {
			r.Expires = t
		}
	}
	for _, sc := range xmltree.FindAll(assertion, nsSAML, "SubjectConfirmation") {
		for _, ki := range xmltree.Children(sc, nsDSig, "KeyInfo") {
			for _, bs := range ki.ChildElements() {
				if bs.Tag != "BinarySecret" {
					continue
				}
				if key, err := xmltree.Base64(bs); err == nil && len(key) > 0 {
					r.ProofKey = key
					return r
				}
			}
		}
	}
	return r
}
