package wstrust

import (
	"crypto"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/subtle"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"fmt"
	"strings"
	"time"

	"github.com/beevik/etree"
	"github.com/jonboulle/clockwork"
	dsig "github.com/russellhaering/goxmldsig"
	"github.com/russellhaering/goxmldsig/etreeutils"

	"github.com/calfed/calfed/certs"
	"github.com/calfed/calfed/internal/xmltree"
)

// The WS-Security message signature of a token request: our certificate
// signs the wsu:Timestamp and the a:To header (exclusive c14n, RSA-SHA1,
// key named by its Subject Key Identifier). docs/protocol.md §4.4.

const (
	algExcC14N = "http://www.w3.org/2001/10/xml-exc-c14n#"
	algRSASHA1 = "http://www.w3.org/2000/09/xmldsig#rsa-sha1"
	algSHA1    = "http://www.w3.org/2000/09/xmldsig#sha1"
)

// canonical is the exclusive canonical form of el in its document.
func canonical(el *etree.Element) ([]byte, error) {
	ctx, err := etreeutils.NSBuildParentContext(el)
	if err != nil {
		return nil, err
	}
	detached, err := etreeutils.NSDetatch(ctx, el)
	if err != nil {
		return nil, err
	}
	return dsig.MakeC14N10ExclusiveCanonicalizerWithPrefixList("").Canonicalize(detached)
}

func wsuID(el *etree.Element) string {
	for _, a := range el.Attr {
		if a.Key == "Id" && a.NamespaceURI() == nsWSU {
			return a.Value
		}
	}
	return ""
}

// prefixFor is a prefix bound to ns where el is, declaring want for it on
// el when none is.
func prefixFor(el *etree.Element, ns, want string) string {
	for e := el; e != nil; e = e.Parent() {
		for _, a := range e.Attr {
			if a.Space == "xmlns" && a.Value == ns {
				return a.Key
			}
		}
	}
	el.CreateAttr("xmlns:"+want, ns)
	return want
}

// signMessage adds a Timestamp and a Signature over it and over to to the
// Security header sec, as Exchange signs its token request (docs/protocol.md §4.4;
// docs/gateway/DAuthRequest.xml): Timestamp "_0" of five minutes, To
// "_1", the Signature in the default namespace, its key named by the
// certificate's Subject Key Identifier. The header must already be in its
// document.
func signMessage(sec, to *etree.Element, cert *certs.Certificate, now time.Time) error {
	for _, a := range append([]etree.Attr(nil), to.Attr...) {
		if a.Key == "Id" && a.NamespaceURI() == nsWSU {
			to.RemoveAttr(a.FullKey())
		}
	}
	to.CreateAttr(prefixFor(to, nsWSU, "u")+":Id", "_1")
	ts := etree.NewElement("Timestamp")
	sec.AddChild(ts)
	ts.Space = prefixFor(ts, nsWSU, "u")
	ts.CreateAttr(ts.Space+":Id", "_0")
	ts.CreateElement(ts.Space + ":Created").SetText(now.UTC().Format(wsuTime))
	ts.CreateElement(ts.Space + ":Expires").SetText(now.UTC().Add(5 * time.Minute).Format(wsuTime))
	sig := sec.CreateElement("Signature")
	sig.CreateAttr("xmlns", nsDSig)
	si := sig.CreateElement("SignedInfo")
	si.CreateElement("CanonicalizationMethod").CreateAttr("Algorithm", algExcC14N)
	si.CreateElement("SignatureMethod").CreateAttr("Algorithm", algRSASHA1)
	for _, ref := range []*etree.Element{to, ts} {
		c, err := canonical(ref)
		if err != nil {
			return err
		}
		sum := sha1.Sum(c)
		r := si.CreateElement("Reference")
		r.CreateAttr("URI", "#"+wsuID(ref))
		r.CreateElement("Transforms").CreateElement("Transform").CreateAttr("Algorithm", algExcC14N)
		r.CreateElement("DigestMethod").CreateAttr("Algorithm", algSHA1)
		r.CreateElement("DigestValue").SetText(base64.StdEncoding.EncodeToString(sum[:]))
	}
	c, err := canonical(si)
	if err != nil {
		return err
	}
	sum := sha1.Sum(c)
	value, err := rsa.SignPKCS1v15(nil, cert.Key, crypto.SHA1, sum[:])
	if err != nil {
		return err
	}
	sig.CreateElement("SignatureValue").SetText(base64.StdEncoding.EncodeToString(value))
	ki := sig.CreateElement("KeyInfo")
	ki.AddChild(skiReference(ki, cert, sec.Space))
	return nil
}

// skiReference is a wsse:SecurityTokenReference naming cert by its Subject
// Key Identifier, without EncodingType, as Exchange writes it. It uses
// prefix for wsse when that is bound to it where parent is, and declares
// its own "o" otherwise.
func skiReference(parent *etree.Element, cert *certs.Certificate, prefix string) *etree.Element {
	str := etree.NewElement("SecurityTokenReference")
	bound := false
	for e := parent; e != nil && prefix != ""; e = e.Parent() {
		if v := e.SelectAttrValue("xmlns:"+prefix, ""); v != "" {
			bound = v == nsWSSE
			break
		}
	}
	if !bound {
		prefix = "o"
		str.CreateAttr("xmlns:o", nsWSSE)
	}
	str.Space = prefix
	kid := str.CreateElement(prefix + ":KeyIdentifier")
	kid.CreateAttr("ValueType", valueSKI)
	kid.SetText(base64.StdEncoding.EncodeToString(cert.SKI()))
	return str
}

// SignEnvelope signs a token request envelope again with cert at now: the
// Timestamp and Signature in its Security header are replaced with fresh
// ones over the Timestamp and the To header. Tests use it to replay a
// captured request, such as Exchange's, under a key of their own.
func SignEnvelope(envelope []byte, cert *certs.Certificate, now time.Time) ([]byte, error) {
	doc := etree.NewDocument()
	if err := doc.ReadFromBytes(envelope); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrMessage, err)
	}
	env := doc.Root()
	if env == nil {
		return nil, fmt.Errorf("%w: no envelope", ErrMessage)
	}
	var to, sec *etree.Element
	for _, h := range xmltree.Children(env, env.NamespaceURI(), "Header") {
		if t := xmltree.Children(h, nsWSA, "To"); len(t) == 1 {
			to = t[0]
		}
		if s := xmltree.Children(h, nsWSSE, "Security"); len(s) == 1 {
			sec = s[0]
		}
	}
	if to == nil || sec == nil {
		return nil, fmt.Errorf("%w: the header has no To or no Security", ErrMessage)
	}
	for _, old := range append(xmltree.Children(sec, nsWSU, "Timestamp"), xmltree.Children(sec, nsDSig, "Signature")...) {
		sec.RemoveChild(old)
	}
	if err := signMessage(sec, to, cert, now); err != nil {
		return nil, err
	}
	return doc.WriteToBytes()
}

// SignAssertion signs a SAML 1.1 assertion as Exchange signs its
// OnBehalfOf assertion (docs/protocol.md §4.4; docs/gateway/DAuthRequest.xml): an
// enveloped signature, last, in the default namespace, exclusive c14n,
// RSA-SHA1 and SHA-1 over the AssertionID, its KeyInfo a
// SecurityTokenReference naming cert by Subject Key Identifier. It returns
// a signed copy, without any signature a had.
func SignAssertion(a *etree.Element, cert *certs.Certificate) (*etree.Element, error) {
	a = a.Copy()
	for _, old := range xmltree.Children(a, nsDSig, "Signature") {
		a.RemoveChild(old)
	}
	ks := dsig.TLSCertKeyStore(tls.Certificate{Certificate: [][]byte{cert.Cert.Raw}, PrivateKey: cert.Key})
	ctx := dsig.NewDefaultSigningContext(ks)
	ctx.IdAttribute = "AssertionID"
	ctx.Prefix = ""
	ctx.Canonicalizer = dsig.MakeC14N10ExclusiveCanonicalizerWithPrefixList("")
	if err := ctx.SetSignatureMethod(dsig.RSASHA1SignatureMethod); err != nil {
		return nil, err
	}
	signed, err := ctx.SignEnveloped(a)
	if err != nil {
		return nil, err
	}
	sigs := xmltree.Children(signed, nsDSig, "Signature")
	if len(sigs) != 1 {
		return nil, fmt.Errorf("wstrust: the signed assertion has %d signatures", len(sigs))
	}
	// KeyInfo is outside what the signature covers: the certificate the
	// signer put there gives way to the reference Exchange writes.
	for _, ki := range xmltree.Children(sigs[0], nsDSig, "KeyInfo") {
		sigs[0].RemoveChild(ki)
	}
	ki := sigs[0].CreateElement("KeyInfo")
	ki.AddChild(skiReference(ki, cert, ""))
	return signed, nil
}

// VerifyAssertion checks the enveloped signature of an OnBehalfOf
// assertion against cert, whether its KeyInfo carries the certificate or
// names it by Subject Key Identifier (as Exchange does), and returns the
// element the signature covers. a is an assertion as read from a message:
// goxmldsig does not verify the element SignAssertion returns until it has
// been written and read again.
func VerifyAssertion(a *etree.Element, cert *x509.Certificate, now time.Time) (*etree.Element, error) {
	sigs := xmltree.Children(a, nsDSig, "Signature")
	if len(sigs) != 1 {
		return nil, fmt.Errorf("%w: the assertion has %d signatures", ErrSignature, len(sigs))
	}
	el := a
	if kis := xmltree.Children(sigs[0], nsDSig, "KeyInfo"); len(kis) == 1 && len(xmltree.Children(kis[0], nsDSig, "X509Data")) == 0 {
		if kid := xmltree.Find(kis[0], nsWSSE, "KeyIdentifier"); kid != nil {
			ski, err := b64(kid)
			if err != nil {
				return nil, err
			}
			if string(ski) != string(cert.SubjectKeyId) {
				return nil, fmt.Errorf("%w: the assertion's signature names another key", ErrSignature)
			}
		}
		// goxmldsig wants the certificate in KeyInfo or no KeyInfo: verify
		// a copy without the reference, with cert alone.
		el = a.Copy()
		sig := xmltree.Children(el, nsDSig, "Signature")[0]
		for _, ki := range xmltree.Children(sig, nsDSig, "KeyInfo") {
			sig.RemoveChild(ki)
		}
	}
	ctx := dsig.NewDefaultValidationContext(&dsig.MemoryX509CertificateStore{Roots: []*x509.Certificate{cert}})
	ctx.IdAttribute = "AssertionID"
	ctx.Clock = dsig.NewFakeClock(clockwork.NewFakeClockAt(now))
	verified, err := ctx.Validate(el)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrSignature, err)
	}
	return verified, nil
}

// verifyMessage checks the signature in the Security header of a request
// envelope: it must reference exactly the Timestamp and the To header,
// both digests must match, the signature must verify with the key of the
// certificate its KeyIdentifier names, and the Timestamp must be current.
// It returns the index of that certificate in signers.
func verifyMessage(env *etree.Element, signers []*x509.Certificate, now time.Time) (int, error) {
	sec := xmltree.Find(env, nsWSSE, "Security")
	if sec == nil {
		return -1, fmt.Errorf("%w: no Security header", ErrSignature)
	}
	sigs := xmltree.Children(sec, nsDSig, "Signature")
	if len(sigs) != 1 {
		return -1, fmt.Errorf("%w: %d message signatures", ErrSignature, len(sigs))
	}
	sig := sigs[0]
	si, err := one(sig, nsDSig, "SignedInfo")
	if err != nil {
		return -1, err
	}
	if m, _ := one(si, nsDSig, "SignatureMethod"); m == nil || m.SelectAttrValue("Algorithm", "") != algRSASHA1 {
		return -1, fmt.Errorf("%w: signature method", ErrSignature)
	}
	if m, _ := one(si, nsDSig, "CanonicalizationMethod"); m == nil || m.SelectAttrValue("Algorithm", "") != algExcC14N {
		return -1, fmt.Errorf("%w: canonicalization method", ErrSignature)
	}
	ids := map[string]*etree.Element{}
	for _, el := range findAllIDs(env) {
		id := wsuID(el)
		if _, dup := ids[id]; dup {
			return -1, fmt.Errorf("%w: wsu:Id %q appears twice", ErrSignature, id)
		}
		ids[id] = el
	}
	covered := map[string]bool{}
	for _, ref := range xmltree.Children(si, nsDSig, "Reference") {
		uri := ref.SelectAttrValue("URI", "")
		el := ids[strings.TrimPrefix(uri, "#")]
		if !strings.HasPrefix(uri, "#") || el == nil {
			return -1, fmt.Errorf("%w: reference %q", ErrSignature, uri)
		}
		if dm, _ := one(ref, nsDSig, "DigestMethod"); dm == nil || dm.SelectAttrValue("Algorithm", "") != algSHA1 {
			return -1, fmt.Errorf("%w: digest method", ErrSignature)
		}
		dv, err := one(ref, nsDSig, "DigestValue")
		if err != nil {
			return -1, err
		}
		want, err := b64(dv)
		if err != nil {
			return -1, err
		}
		c, err := canonical(el)
		if err != nil {
			return -1, err
		}
		sum := sha1.Sum(c)
		if subtle.ConstantTimeCompare(sum[:], want) != 1 {
			return -1, fmt.Errorf("%w: the digest of %s does not match", ErrSignature, uri)
		}
		if el.Tag == "To" && el.NamespaceURI() == nsWSA && el.Parent() != nil && el.Parent().Tag == "Header" {
			covered["header To"] = true
		}
		if el.Tag == "Timestamp" && el.NamespaceURI() == nsWSU && el.Parent() == sec {
			covered["Timestamp"] = true
			created, err1 := time.Parse(time.RFC3339, textOf(el, nsWSU, "Created"))
			expires, err2 := time.Parse(time.RFC3339, textOf(el, nsWSU, "Expires"))
			if err1 != nil || err2 != nil || now.Add(5*time.Minute).Before(created) || !now.Before(expires.Add(5*time.Minute)) {
				return -1, fmt.Errorf("%w: the Timestamp is not current", ErrSignature)
			}
		}
	}
	if !covered["header To"] || !covered["Timestamp"] {
		return -1, fmt.Errorf("%w: the signature must cover the To header and the Timestamp", ErrSignature)
	}
	kid := xmltree.Find(sig, nsWSSE, "KeyIdentifier")
	if kid == nil {
		return -1, fmt.Errorf("%w: the signature names no key", ErrSignature)
	}
	ski, err := b64(kid)
	if err != nil {
		return -1, err
	}
	value, err := one(sig, nsDSig, "SignatureValue")
	if err != nil {
		return -1, err
	}
	sv, err := b64(value)
	if err != nil {
		return -1, err
	}
	c, err := canonical(si)
	if err != nil {
		return -1, err
	}
	sum := sha1.Sum(c)
	for i, c := range signers {
		if string(c.SubjectKeyId) != string(ski) {
			continue
		}
		pub, ok := c.PublicKey.(*rsa.PublicKey)
		if ok && rsa.VerifyPKCS1v15(pub, crypto.SHA1, sum[:], sv) == nil {
			return i, nil
		}
	}
	return -1, fmt.Errorf("%w: the message signature is not by a known key", ErrSignature)
}

func textOf(el *etree.Element, ns, local string) string {
	if c := xmltree.Children(el, ns, local); len(c) == 1 {
		return strings.TrimSpace(c[0].Text())
	}
	return ""
}

// findAllIDs returns every element with a wsu:Id.
func findAllIDs(el *etree.Element) []*etree.Element {
	var out []*etree.Element
	var walk func(*etree.Element)
	walk = func(e *etree.Element) {
		if wsuID(e) != "" {
			out = append(out, e)
		}
		for _, c := range e.ChildElements() {
			walk(c)
		}
	}
	walk(el)
	return out
}
