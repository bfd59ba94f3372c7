package federation

import (
	"bytes"
	"context"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/x509"
	"encoding/asn1"
	"encoding/hex"
	"fmt"
	"net/mail"
	"strings"
	"time"

	"github.com/beevik/etree"
	"github.com/jonboulle/clockwork"
	dsig "github.com/russellhaering/goxmldsig"

	"github.com/calfed/calfed/certs"
	"github.com/calfed/calfed/internal/domainname"
	"github.com/calfed/calfed/internal/fedtoken"
	"github.com/calfed/calfed/internal/soap"
)

// Keys finds our decryption key by the Subject Key Identifier a token
// names (*certs.Ring: current and previous).
type Keys interface {
	ForKeyIdentifier(ski []byte) (*certs.Certificate, bool)
}

// Trust is what validation checks against, as it is now. A Validator
// caches tokens validated under the *Trust its Trust function returns,
// and empties its cache when that returns another: return the same
// pointer while nothing in it changes, a new one on every change (as
// live.Policy does).
type Trust struct {
	Keys           Keys
	Issuers        []*x509.Certificate // the token issuer's current and previous signing certificates
	ApplicationURI string              // ours
}

// Claims are what a valid token says.
type Claims struct {
	Email  string // the requesting user, canonical (internal/domainname)
	Domain string // selects the relationship: RelationshipDomain
	NameID string // the opaque external identity
	Offer  string // the token's offer (action claim)
	// RequestorDomain is the requesting organisation's ApplicationUri as
	// the gateway vouches for it (e.g. outlook.com for Exchange Online);
	// recorded, not used for access (RelationshipDomain). Canonical
	// (internal/domainname); empty when the token has none.
	RequestorDomain string
	TokenID         string // the AssertionID
	Issuer          string // the assertion's Issuer: the token issuer's URI
	NotBefore       time.Time
	Expires         time.Time // NotOnOrAfter as written (the gateway: 15 days on)
	UsableUntil     time.Time // when the token stops being accepted: NotBefore + offer lifetime + skew, or Expires + skew if sooner
	// DoNotCache: the assertion carries a DoNotCacheCondition, so the
	// validator keeps no copy of it and validates it in full whenever it
	// is presented (conditions).
	DoNotCache bool
}

// Validator accepts exactly the valid delegation tokens. docs/protocol.md §4.3.
type Validator struct {
	Trust func() *Trust // nil result: not federated
	// Skew tolerated on NotBefore and NotOnOrAfter, and (to be liberal
	// where Exchange adds none) on NotBefore + the offer's lifetime;
	// default 5 minutes.
	Skew time.Duration
	// MaxPlaintext bounds the decrypted assertion; default 64 KiB.
	MaxPlaintext int
	// RefuseReuse accepts each token, and each assertion, once: a
	// hardening beyond Exchange, which keeps no replay cache and re-sends
	// tokens it received (FINDINGS §4). By default a token is accepted
	// as often as it is presented while NotBefore + its offer's lifetime
	// (+ Skew) holds. Either way a token seen before is answered from the
	// cache, without XML, RSA or signature work. RefuseReuse needs Replay.
	RefuseReuse bool
	// Replay records the assertions accepted under RefuseReuse and
	// decides which use is the first: *store.DB, shared by every server
	// on the database and kept across restarts. The cache only remembers
	// what Replay answered, so a replay it remembers costs no round trip.
	Replay Replay
	// AcceptRSA15 accepts PKCS#1 v1.5 key transport (rsa-1_5) beside
	// RSA-OAEP; off by default, the gateway uses OAEP (FINDINGS §1.2).
	AcceptRSA15 bool
	// MaxCacheEntries and MaxCacheBytes bound the cache (cache.go):
	// entries, and bytes as it counts them; beyond either the oldest
	// entries are forgotten. Defaults DefaultMaxCacheEntries and
	// DefaultMaxCacheBytes.
	MaxCacheEntries int
	MaxCacheBytes   int

	cache cache // the validator's one cache: tokens seen and replay keys used
}

// Replay records which assertions were used, under RefuseReuse.
type Replay interface {
	// UseToken records key (ReplayKey) as used until until and reports
	// whether this is its first use. Of concurrent first uses of one key,
	// from any server sharing the record, exactly one is first.
	UseToken(ctx context.Context, key string, until time.Time) (first bool, err error)
}

// ReplayKey names an assertion for the replay record: the hex SHA-256 of
// its issuer and AssertionID, the same however the assertion is
// encrypted, and of a fixed length however long the ID.
func ReplayKey(c Claims) string {
	k := replayKey(c)
	return hex.EncodeToString(k[:])
}

func replayKey(c Claims) [32]byte {
	h := sha256.New()
	h.Write([]byte(c.Issuer))
	h.Write([]byte{0})
	h.Write([]byte(c.TokenID))
	var k [32]byte
	h.Sum(k[:0])
	return k
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
// delegation.Client.Token returns it). A valid token for another offer is
// ErrOffer, returned with its claims.
func (v *Validator) Validate(token []byte, offer string, now time.Time) (Claims, error) {
	return v.ValidateContext(context.Background(), token, offer, now)
}

// ValidateContext is Validate with a context for the Replay store.
func (v *Validator) ValidateContext(ctx context.Context, token []byte, offer string, now time.Time) (Claims, error) {
	return v.validate(ctx, token, nil, true, offer, now)
}

// validate checks the token raw, an xenc:EncryptedData element as it
// appeared in a request with the namespace declarations in scope there;
// bound asks to check it against tokenLimits first.
func (v *Validator) validate(ctx context.Context, raw []byte, scope []nsDecl, bound bool, offer string, now time.Time) (Claims, error) {
	t := v.Trust()
	if t == nil || t.Keys == nil || len(t.Issuers) == 0 || t.ApplicationURI == "" {
		v.cache.empty(t) // a trust back after this is a change, too
		return Claims{}, ErrNotFederated
	}
	if v.RefuseReuse && v.Replay == nil {
		return Claims{}, fmt.Errorf("%w: RefuseReuse is set without a Replay store", ErrReplayStore)
	}
	sum := digest(raw)
	if c, ok := v.cache.token(t, sum, now); ok {
		if v.RefuseReuse {
			return Claims{}, ErrReplay
		}
		if !fedtoken.SameOffer(c.Offer, offer) {
			return c, fmt.Errorf("%w: %s, want %s", ErrOffer, c.Offer, offer)
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
	plain, err := enc.decrypt(key.Key, v.AcceptRSA15)
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
	c, err := v.check(verified, t.ApplicationURI, now)
	if err != nil {
		return Claims{}, err
	}
	// The token is valid; whether it suits this operation is a separate
	// answer (ErrOffer), as in Exchange, where the operation compares the
	// offer (FINDINGS §5b). It is cached either way.
	if !v.RefuseReuse {
		v.cache.admit(t, sum, nil, c, now, v.MaxCacheEntries, v.MaxCacheBytes)
	} else if err := v.firstUse(ctx, t, sum, c, now); err != nil {
		return Claims{}, err
	}
	if !fedtoken.SameOffer(c.Offer, offer) {
		return c, fmt.Errorf("%w: %s, want %s", ErrOffer, c.Offer, offer) // the claims, for the log
	}
	return c, nil
}

// firstUse asks the Replay store whether this is the first use of c's
// assertion, unless the cache remembers it used: ErrReplay if not. The
// token and its replay key are cached as used either way.
func (v *Validator) firstUse(ctx context.Context, t *Trust, sum [32]byte, c Claims, now time.Time) error {
	key := replayKey(c)
	if v.cache.isUsed(t, key, now) {
		v.cache.admit(t, sum, &key, c, now, v.MaxCacheEntries, v.MaxCacheBytes)
		return fmt.Errorf("%w: the assertion, encrypted anew", ErrReplay)
	}
	first, err := v.Replay.UseToken(ctx, hex.EncodeToString(key[:]), c.UsableUntil)
	if err != nil {
		return fmt.Errorf("%w: %v", ErrReplayStore, err)
	}
	v.cache.admit(t, sum, &key, c, now, v.MaxCacheEntries, v.MaxCacheBytes)
	if !first {
		return fmt.Errorf("%w: recorded as used", ErrReplay)
	}
	return nil
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
		return onlyElement(doc.Child, "the token")
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
	wrapper, err := onlyElement(doc.Child, "the token")
	if err != nil {
		return nil, err
	}
	return onlyElement(wrapper.Child, "the token")
}

// onlyElement returns the one element among toks, a document's or an
// element's content. Anything beside it but comments, processing
// instructions and white space is refused: a second element after a
// signed one would be read by nothing here, and so must not be there at
// all.
func onlyElement(toks []etree.Token, what string) (*etree.Element, error) {
	var root *etree.Element
	for _, tok := range toks {
		switch t := tok.(type) {
		case *etree.Element:
			if root != nil {
				return nil, fmt.Errorf("%w: %s holds a second element, %s, after %s", ErrMalformed, what, t.Tag, root.Tag)
			}
			root = t
		case *etree.CharData:
			if strings.TrimSpace(t.Data) != "" {
				return nil, fmt.Errorf("%w: %s holds text beside its element", ErrMalformed, what)
			}
		case *etree.Directive:
			return nil, fmt.Errorf("%w: %s holds a DTD", ErrMalformed, what)
		}
	}
	if root == nil {
		return nil, fmt.Errorf("%w: %s holds no element", ErrMalformed, what)
	}
	return root, nil
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
	root, err := onlyElement(doc.Child, "the decrypted token")
	if err != nil {
		return nil, err
	}
	if root.Tag != "Assertion" || root.NamespaceURI() != nsSAML {
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
// A signature whose KeyInfo names a signer (X509Data, or a
// SecurityTokenReference by SKI, as the gateway writes it) is checked
// against that certificate alone, and a signer we do not trust is
// ErrUntrustedIssuer; with no usable KeyInfo each trusted certificate is
// tried (variants.go).
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
	named, withCert, err := namedSigner(sigs[0], issuers)
	if err != nil {
		return nil, err
	}
	if withCert {
		ctx := dsig.NewDefaultValidationContext(&dsig.MemoryX509CertificateStore{Roots: named})
		ctx.IdAttribute = "AssertionID"
		ctx.Clock = clock
		out, err := ctx.Validate(assertion)
		if err != nil {
			return nil, fmt.Errorf("%w: %v", ErrSignature, err)
		}
		return out, nil
	}
	// No certificate in KeyInfo: try the named certificate, or each
	// trusted one, alone.
	stripped := assertion.Copy()
	if sig := childNS(stripped, nsDSig, "Signature"); len(sig) == 1 {
		for _, ki := range childNS(sig[0], nsDSig, "KeyInfo") {
			sig[0].RemoveChild(ki)
		}
	}
	var last error
	for _, c := range named {
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

// namedSigner reads the signature's KeyInfo: the trusted certificates the
// signature may be checked with (the one it names, or all), and whether
// KeyInfo carries the certificate itself. A named signer that is not
// trusted is ErrUntrustedIssuer.
func namedSigner(sig *etree.Element, issuers []*x509.Certificate) ([]*x509.Certificate, bool, error) {
	kis := childNS(sig, nsDSig, "KeyInfo")
	if len(kis) != 1 {
		return issuers, false, nil
	}
	if xd := childNS(kis[0], nsDSig, "X509Data"); len(xd) > 0 {
		for _, xc := range xd[0].SelectElements("X509Certificate") {
			if xc.NamespaceURI() != nsDSig {
				continue
			}
			der, err := b64(xc)
			if err != nil {
				return nil, false, fmt.Errorf("%w: %v", ErrSignature, err)
			}
			for _, c := range issuers {
				if bytes.Equal(c.Raw, der) {
					return []*x509.Certificate{c}, true, nil
				}
			}
			return nil, false, ErrUntrustedIssuer
		}
		return issuers, true, nil
	}
	for _, str := range childNS(kis[0], nsWSSE, "SecurityTokenReference") {
		for _, kid := range childNS(str, nsWSSE, "KeyIdentifier") {
			if kid.SelectAttrValue("ValueType", "") != valueSKI {
				continue
			}
			ski, err := b64(kid)
			if err != nil {
				return nil, false, fmt.Errorf("%w: %v", ErrSignature, err)
			}
			for _, c := range issuers {
				if bytes.Equal(subjectKeyID(c), ski) {
					return []*x509.Certificate{c}, false, nil
				}
			}
			return nil, false, ErrUntrustedIssuer
		}
	}
	return issuers, false, nil
}

// subjectKeyID is a certificate's Subject Key Identifier: its extension,
// or else the SHA-1 of its public key (RFC 5280 4.2.1.2, method 1).
func subjectKeyID(c *x509.Certificate) []byte {
	if len(c.SubjectKeyId) > 0 {
		return c.SubjectKeyId
	}
	var spki struct {
		Algorithm asn1.RawValue
		Key       asn1.BitString
	}
	if _, err := asn1.Unmarshal(c.RawSubjectPublicKeyInfo, &spki); err != nil {
		return nil
	}
	sum := sha1.Sum(spki.Key.Bytes)
	return sum[:]
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

// conditions checks every condition of the assertion's Conditions: the
// assertion is valid only if each one holds, and a condition the relying
// party does not understand makes it Indeterminate (OASIS SAML 1.1 core
// §2.3.2.1), which calfed refuses (ErrCondition). The conditions
// understood:
//
//   - AudienceRestrictionCondition (§2.3.2.1.2): each one must name
//     audience among its Audience children; several restrict the
//     assertion to the audiences all of them name, so one that does not
//     name us is ErrAudience, whatever the others say.
//   - DoNotCacheCondition (§2.3.2.1.3: the assertion "MUST NOT be retained
//     for future use"): honoured by keeping the token out of the
//     validator's cache, so that every presentation is validated in full
//     and nothing of it is kept for the next; with RefuseReuse its
//     AssertionID is still recorded, which refuses it again rather than
//     reusing it. doNotCache reports it.
//
// NotBefore and NotOnOrAfter, the Conditions element's attributes, are
// the caller's.
func conditions(cond *etree.Element, audience string) (doNotCache bool, err error) {
	for _, tok := range cond.Child {
		if cd, ok := tok.(*etree.CharData); ok && strings.TrimSpace(cd.Data) != "" {
			return false, fmt.Errorf("%w: Conditions holds text", ErrMalformed)
		}
	}
	kids := cond.ChildElements()
	arcs := 0
	for _, k := range kids {
		if k.NamespaceURI() == nsSAML && k.Tag == "AudienceRestrictionCondition" {
			arcs++
		}
	}
	n := 0
	for _, k := range kids {
		switch {
		case k.NamespaceURI() == nsSAML && k.Tag == "AudienceRestrictionCondition":
			n++
			if err := audienceRestriction(k, audience); err != nil {
				return false, fmt.Errorf("%w (AudienceRestrictionCondition %d of %d)", err, n, arcs)
			}
		case k.NamespaceURI() == nsSAML && k.Tag == "DoNotCacheCondition":
			if len(k.ChildElements()) > 0 {
				return false, fmt.Errorf("%w: DoNotCacheCondition is not empty", ErrMalformed)
			}
			doNotCache = true
		default:
			// saml:Condition (an extension by xsi:type) or any other element.
			what := "{" + k.NamespaceURI() + "}" + k.Tag
			if t := k.SelectAttrValue("xsi:type", ""); t != "" {
				what += " of type " + t
			}
			return false, fmt.Errorf("%w: %s", ErrCondition, what)
		}
	}
	if arcs == 0 {
		// The gateway always restricts the audience; an assertion for
		// anyone is not one for us. docs/protocol.md §4.3.
		return false, fmt.Errorf("%w: no AudienceRestrictionCondition", ErrAudience)
	}
	return doNotCache, nil
}

// audienceRestriction checks one AudienceRestrictionCondition: one of its
// Audiences must be ours, compared without regard to the case of ASCII
// letters (variants.go).
func audienceRestriction(arc *etree.Element, audience string) error {
	var got []string
	ok := false
	for _, k := range arc.ChildElements() {
		if k.NamespaceURI() != nsSAML || k.Tag != "Audience" {
			return fmt.Errorf("%w: AudienceRestrictionCondition holds {%s}%s", ErrMalformed, k.NamespaceURI(), k.Tag)
		}
		v, err := text(k)
		if err != nil {
			return err
		}
		ok = ok || domainname.EqualFoldASCII(v, audience)
		got = append(got, v)
	}
	if !ok {
		return fmt.Errorf("%w: %q, not %s", ErrAudience, got, audience)
	}
	return nil
}

// check reads the conditions and claims of the verified assertion, in
// Exchange's order (TokenValidator, FINDINGS §4): the validity window with
// skew (WCF), the NameIdentifier, a known offer, NotBefore + the offer's
// lifetime, the EmailAddress. Whether the offer suits the operation is
// the caller's question.
func (v *Validator) check(a *etree.Element, appURI string, now time.Time) (Claims, error) {
	c := Claims{TokenID: a.SelectAttrValue("AssertionID", ""), Issuer: a.SelectAttrValue("Issuer", "")}
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
	if c.DoNotCache, err = conditions(cond, fedtoken.AbsoluteURI(appURI)); err != nil {
		return c, err
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
	}
	// The NameIdentifier of the AttributeStatement's subject, else of the
	// AuthenticationStatement's (the gateway writes both, the same).
	for _, stmt := range []string{"AttributeStatement", "AuthenticationStatement"} {
		for _, st := range childNS(a, nsSAML, stmt) {
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
	}
	if c.NameID == "" {
		return c, fmt.Errorf("%w: NameIdentifier", ErrClaims)
	}
	acts := attrs[claimAction]
	if len(acts) != 1 {
		return c, fmt.Errorf("%w: %d action claims", ErrClaims, len(acts))
	}
	life, ok := fedtoken.OfferLifetime(acts[0])
	if !ok {
		return c, fmt.Errorf("%w: unknown offer %q", ErrClaims, acts[0])
	}
	c.Offer = acts[0]
	// Exchange refuses once now is past NotBefore + the offer's lifetime,
	// with no skew (FINDINGS §4); calfed adds the skew, to be liberal.
	c.UsableUntil = c.NotBefore.Add(life).Add(skew)
	if end := c.Expires.Add(skew); end.Before(c.UsableUntil) {
		c.UsableUntil = end
	}
	if !now.Before(c.UsableUntil) {
		return c, fmt.Errorf("%w: past NotBefore + the lifetime of %s", ErrExpired, c.Offer)
	}
	emails := attrs[claimEmail]
	if len(emails) != 1 {
		return c, fmt.Errorf("%w: EmailAddress (%d values)", ErrClaims, len(emails))
	}
	addr, err := mail.ParseAddress(emails[0])
	if err != nil || addr.Name != "" || addr.Address != emails[0] {
		return c, fmt.Errorf("%w: EmailAddress %q is not an SMTP address", ErrClaims, emails[0])
	}
	// The address as calfed compares it (internal/domainname): a domain
	// that is no host name, or one spelt to fold onto another (KELVIN
	// SIGN for k), selects nothing and refuses the token.
	if c.Email, err = domainname.Address(addr.Address); err != nil {
		return c, fmt.Errorf("%w: EmailAddress: %v", ErrClaims, err)
	}
	switch rd := attrs[claimRequestorDomain]; len(rd) {
	case 0:
	case 1:
		if c.RequestorDomain, err = domainname.Canonical(rd[0]); err != nil {
			return c, fmt.Errorf("%w: RequestorDomain: %v", ErrClaims, err)
		}
	default:
		return c, fmt.Errorf("%w: %d RequestorDomain values", ErrClaims, len(rd))
	}
	c.Domain = RelationshipDomain(c)
	return c, nil
}
