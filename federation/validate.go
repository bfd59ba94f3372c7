package federation

import (
	"bytes"
	"crypto/x509"
	"fmt"
	"net/mail"
	"strings"
	"time"

	"github.com/beevik/etree"
	"github.com/jonboulle/clockwork"
	dsig "github.com/russellhaering/goxmldsig"

	"github.com/calfed/calfed/certs"
	"github.com/calfed/calfed/internal/fedtoken"
	"github.com/calfed/calfed/internal/soap"
)

// Keys finds our decryption key by the Subject Key Identifier a token
// names (*certs.Ring: current and previous).
type Keys interface {
	ForKeyIdentifier(ski []byte) (*certs.Certificate, bool)
}

// Trust is what validation checks against, as it is now.
type Trust struct {
	Keys           Keys
	Issuers        []*x509.Certificate // the token issuer's current and previous signing certificates
	ApplicationURI string              // ours
}

// Claims are what a valid token says.
type Claims struct {
	Email     string // the requesting user; its domain selects the relationship
	Domain    string
	NameID    string
	Offer     string
	TokenID   string // the AssertionID
	NotBefore time.Time
	Expires   time.Time
}

// Validator accepts exactly the valid delegation tokens. NOTES §4.3.
type Validator struct {
	Trust func() *Trust // nil result: not federated
	// Skew tolerated on NotBefore and NotOnOrAfter; default 5 minutes.
	Skew time.Duration
	// MaxPlaintext bounds the decrypted assertion; default 64 KiB.
	MaxPlaintext int
	// AllowReuse accepts a token presented again until it expires, for
	// requesters that reuse their tokens; by default each token is
	// accepted once (replay protection). Either way a token seen before
	// is answered from the cache, without XML, RSA or signature work.
	AllowReuse bool

	cache cache // the validator's one cache: tokens seen and assertion IDs
}

// tokenLimits bound a token given to Validate on its own. A token found in
// a request is already within the request's limits.
var tokenLimits = soap.Limits{MaxBytes: 1 << 20, MaxDepth: 24, MaxElements: 500}

func (v *Validator) skew() time.Duration {
	if v.Skew > 0 {
		return v.Skew
	}
	return 5 * time.Minute
}

// Validate decrypts and checks one token for offer at now: the bytes of
// an xenc:EncryptedData element that declares every namespace it uses (as
// delegation.Client.Token returns it).
func (v *Validator) Validate(token []byte, offer string, now time.Time) (Claims, error) {
	return v.validate(token, nil, true, offer, now)
}

// validate checks the token raw, an xenc:EncryptedData element as it
// appeared in a request with the namespace declarations in scope there;
// bound asks to check it against tokenLimits first.
func (v *Validator) validate(raw []byte, scope []nsDecl, bound bool, offer string, now time.Time) (Claims, error) {
	t := v.Trust()
	if t == nil || t.Keys == nil || len(t.Issuers) == 0 || t.ApplicationURI == "" {
		return Claims{}, ErrNotFederated
	}
	if c, ok := v.cache.token(raw, now); ok {
		if !v.AllowReuse {
			return Claims{}, ErrReplay
		}
		if c.Offer != offer {
			return Claims{}, ErrOffer
		}
		return c, nil
	}
	if bound {
		if _, err := soap.CheckLimits(raw, tokenLimits); err != nil {
			return Claims{}, fmt.Errorf("%w: %v", ErrMalformed, err)
		}
	}
	ed, err := parseToken(raw, scope)
	if err != nil {
		return Claims{}, err
	}
	enc, err := parseEncrypted(ed)
	if err != nil {
		return Claims{}, err
	}
	key, ok := t.Keys.ForKeyIdentifier(enc.ski)
	if !ok {
		return Claims{}, ErrUnknownKey
	}
	plain, err := enc.decrypt(key.Key)
	if err != nil {
		return Claims{}, err
	}
	max := v.MaxPlaintext
	if max <= 0 {
		max = 64 << 10
	}
	if len(plain) > max {
		return Claims{}, fmt.Errorf("%w: the assertion is %d bytes", ErrMalformed, len(plain))
	}
	assertion, err := parseAssertion(plain)
	if err != nil {
		return Claims{}, err
	}
	verified, err := verifySignature(assertion, t.Issuers, now)
	if err != nil {
		return Claims{}, err
	}
	// From here on, only what the verifier returned is read.
	c, err := v.check(verified, offer, t.ApplicationURI, now)
	if err != nil {
		return Claims{}, err
	}
	if !v.cache.admit(raw, c, c.Expires.Add(v.skew()), now, v.AllowReuse) && !v.AllowReuse {
		return Claims{}, ErrReplay // the same assertion, encrypted anew
	}
	return c, nil
}

// parseToken reads the token's element, with the declarations in scope
// where it appeared.
func parseToken(raw []byte, scope []nsDecl) (*etree.Element, error) {
	doc := etree.NewDocument()
	doc.ReadSettings.Permissive = false
	if len(scope) == 0 {
		if err := doc.ReadFromBytes(raw); err != nil {
			return nil, fmt.Errorf("%w: %v", ErrMalformed, err)
		}
		if doc.Root() == nil {
			return nil, fmt.Errorf("%w: no element", ErrMalformed)
		}
		return doc.Root(), nil
	}
	// The declarations on a wrapper element: the scanner refused any
	// value that needs decoding, so each is copied as it was written.
	var b []byte
	b = append(b, "<scope"...)
	for _, d := range scope {
		b = append(b, " xmlns"...)
		if d.prefix != nil {
			b = append(b, ':')
			b = append(b, d.prefix...)
		}
		q := byte('"')
		if bytes.IndexByte(d.ns, '"') >= 0 {
			q = '\''
		}
		b = append(b, '=', q)
		b = append(b, d.ns...)
		b = append(b, q)
	}
	b = append(b, '>')
	b = append(b, raw...)
	b = append(b, "</scope>"...)
	if err := doc.ReadFromBytes(b); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	kids := doc.Root().ChildElements()
	if len(kids) != 1 {
		return nil, fmt.Errorf("%w: the token is not one element", ErrMalformed)
	}
	return kids[0], nil
}

// parseAssertion reads the plaintext: one saml:Assertion, no DTD, within
// the same depth and size limits as any request.
func parseAssertion(plain []byte) (*etree.Element, error) {
	if _, err := soap.CheckLimits(plain, soap.Limits{MaxBytes: int64(len(plain)) + 1, MaxDepth: 24, MaxElements: 500}); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	doc := etree.NewDocument()
	doc.ReadSettings.Permissive = false
	if err := doc.ReadFromBytes(plain); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	root := doc.Root()
	if root == nil || root.Tag != "Assertion" || root.NamespaceURI() != nsSAML {
		return nil, fmt.Errorf("%w: the token is not a SAML 1.1 assertion", ErrMalformed)
	}
	if root.SelectAttrValue("MajorVersion", "") != "1" {
		return nil, fmt.Errorf("%w: SAML MajorVersion %q", ErrMalformed, root.SelectAttrValue("MajorVersion", ""))
	}
	ids := 0
	for _, a := range root.Attr {
		if a.Key == "AssertionID" {
			ids++
		}
	}
	if ids != 1 {
		return nil, fmt.Errorf("%w: the assertion needs exactly one AssertionID", ErrMalformed)
	}
	return root, nil
}

// verifySignature checks the enveloped signature over the assertion
// against the trusted issuer certificates and returns the verified element.
func verifySignature(assertion *etree.Element, issuers []*x509.Certificate, now time.Time) (*etree.Element, error) {
	sigs := childNS(assertion, nsDSig, "Signature")
	if len(sigs) != 1 {
		return nil, fmt.Errorf("%w: the assertion has %d signatures", ErrSignature, len(sigs))
	}
	sm := sigs[0].FindElement("./SignedInfo/SignatureMethod")
	if sm == nil {
		return nil, fmt.Errorf("%w: no SignatureMethod", ErrSignature)
	}
	if _, ok := signatureHashes[sm.SelectAttrValue("Algorithm", "")]; !ok {
		return nil, fmt.Errorf("%w: signature method %q", ErrAlgorithm, sm.SelectAttrValue("Algorithm", ""))
	}
	clock := dsig.NewFakeClock(clockwork.NewFakeClockAt(now))
	withCert := false
	if ki := childNS(sigs[0], nsDSig, "KeyInfo"); len(ki) == 1 && len(childNS(ki[0], nsDSig, "X509Data")) > 0 {
		withCert = true
	}
	if withCert {
		ctx := dsig.NewDefaultValidationContext(&dsig.MemoryX509CertificateStore{Roots: issuers})
		ctx.IdAttribute = "AssertionID"
		ctx.Clock = clock
		out, err := ctx.Validate(assertion)
		if err != nil {
			return nil, fmt.Errorf("%w: %v", ErrSignature, err)
		}
		return out, nil
	}
	// No certificate in KeyInfo (a reference, or nothing): try each
	// trusted certificate alone. See variants.go.
	stripped := assertion.Copy()
	if sig := childNS(stripped, nsDSig, "Signature"); len(sig) == 1 {
		for _, ki := range childNS(sig[0], nsDSig, "KeyInfo") {
			sig[0].RemoveChild(ki)
		}
	}
	var last error
	for _, c := range issuers {
		ctx := dsig.NewDefaultValidationContext(&dsig.MemoryX509CertificateStore{Roots: []*x509.Certificate{c}})
		ctx.IdAttribute = "AssertionID"
		ctx.Clock = clock
		out, err := ctx.Validate(stripped)
		if err == nil {
			return out, nil
		}
		last = err
	}
	return nil, fmt.Errorf("%w: %v", ErrSignature, last)
}

func samlTimeAttr(el *etree.Element, name string) (time.Time, error) {
	v := el.SelectAttrValue(name, "")
	t, err := time.Parse(time.RFC3339Nano, v)
	if err != nil {
		return time.Time{}, fmt.Errorf("%w: %s %q", ErrMalformed, name, v)
	}
	return t, nil
}

// text returns an element's text, refusing mixed content: a comment or an
// element inside a signed value splits it for a naive reader while
// exclusive canonicalisation leaves the signature intact (the SAML
// comment-truncation attack).
func text(el *etree.Element) (string, error) {
	var b strings.Builder
	for _, tok := range el.Child {
		switch t := tok.(type) {
		case *etree.CharData:
			b.WriteString(t.Data)
		default:
			return "", fmt.Errorf("%w: %s has mixed content", ErrMalformed, el.Tag)
		}
	}
	return strings.TrimSpace(b.String()), nil
}

// check reads the conditions and claims of the verified assertion.
func (v *Validator) check(a *etree.Element, offer, appURI string, now time.Time) (Claims, error) {
	c := Claims{TokenID: a.SelectAttrValue("AssertionID", "")}
	cond, err := one(a, nsSAML, "Conditions")
	if err != nil {
		return c, err
	}
	if c.NotBefore, err = samlTimeAttr(cond, "NotBefore"); err != nil {
		return c, err
	}
	if c.Expires, err = samlTimeAttr(cond, "NotOnOrAfter"); err != nil {
		return c, err
	}
	skew := v.skew()
	if now.Add(skew).Before(c.NotBefore) {
		return c, ErrNotYetValid
	}
	if !now.Add(-skew).Before(c.Expires) {
		return c, ErrExpired
	}
	// Exchange also requires ValidFrom + the offer's lifetime ≥ now.
	if life, ok := fedtoken.OfferLifetime(offer); ok && c.NotBefore.Add(life).Add(skew).Before(now) {
		return c, ErrExpired
	}
	want := fedtoken.AbsoluteURI(appURI)
	audienceOK := false
	for _, arc := range childNS(cond, nsSAML, "AudienceRestrictionCondition") {
		for _, aud := range childNS(arc, nsSAML, "Audience") {
			got, err := text(aud)
			if err != nil {
				return c, err
			}
			if strings.EqualFold(got, want) {
				audienceOK = true
			}
		}
	}
	if !audienceOK {
		return c, ErrAudience
	}
	attrs := map[string][]string{}
	for _, st := range childNS(a, nsSAML, "AttributeStatement") {
		for _, at := range childNS(st, nsSAML, "Attribute") {
			name := at.SelectAttrValue("AttributeNamespace", "") + "/" + at.SelectAttrValue("AttributeName", "")
			for _, val := range childNS(at, nsSAML, "AttributeValue") {
				v, err := text(val)
				if err != nil {
					return c, err
				}
				attrs[name] = append(attrs[name], v)
			}
		}
		for _, subj := range childNS(st, nsSAML, "Subject") {
			for _, ni := range childNS(subj, nsSAML, "NameIdentifier") {
				v, err := text(ni)
				if err != nil {
					return c, err
				}
				if c.NameID == "" {
					c.NameID = v
				}
			}
		}
	}
	if c.NameID == "" {
		return c, fmt.Errorf("%w: NameIdentifier", ErrClaims)
	}
	if acts := attrs[claimAction]; len(acts) != 1 || acts[0] != offer {
		return c, fmt.Errorf("%w: %v, want %s", ErrOffer, acts, offer)
	}
	c.Offer = offer
	emails := attrs[claimEmail]
	if len(emails) != 1 {
		return c, fmt.Errorf("%w: EmailAddress (%d values)", ErrClaims, len(emails))
	}
	addr, err := mail.ParseAddress(emails[0])
	if err != nil || addr.Name != "" || addr.Address != emails[0] {
		return c, fmt.Errorf("%w: EmailAddress %q is not an SMTP address", ErrClaims, emails[0])
	}
	c.Email = strings.ToLower(addr.Address)
	c.Domain = c.Email[strings.LastIndexByte(c.Email, '@')+1:]
	return c, nil
}
