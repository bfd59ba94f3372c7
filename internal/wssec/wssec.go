// Package wssec signs and verifies the WS-Security message signatures
// Exchange's SOAP clients write: a wsu:Timestamp of five minutes and the
// elements the message names, exclusive c14n, RSA-SHA1 and SHA-1, the key
// named by its Subject Key Identifier (token requests, docs/protocol.md
// §4.4) or carried as X509Data (ManageDelegation2, docs/protocol.md §4.5, §4.7).
package wssec

import (
	"crypto"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/subtle"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/beevik/etree"
	dsig "github.com/russellhaering/goxmldsig"
	"github.com/russellhaering/goxmldsig/etreeutils"

	"github.com/calfed/calfed/certs"
	"github.com/calfed/calfed/internal/fedtoken"
	"github.com/calfed/calfed/internal/xmltree"
)

const (
	nsWSU    = fedtoken.NSWSU
	nsWSSE   = fedtoken.NSWSSE
	nsDSig   = fedtoken.NSDSig
	nsWSA    = fedtoken.NSWSA
	valueSKI = fedtoken.ValueSKI

	algExcC14N = "http://www.w3.org/2001/10/xml-exc-c14n#"
	algRSASHA1 = "http://www.w3.org/2000/09/xmldsig#rsa-sha1"
	algSHA1    = "http://www.w3.org/2000/09/xmldsig#sha1"

	// TimeFormat is the form of wsu:Created and wsu:Expires both sides write.
	TimeFormat = "2006-01-02T15:04:05Z"
)

// ErrSignature: the message signature does not verify against an
// acceptable key, or does not cover what it must.
var ErrSignature = errors.New("wssec: message signature refused")

// KeyRef is how a signature names its key.
type KeyRef int

const (
	// BySKI names the certificate by its Subject Key Identifier, as
	// Exchange's token requests do.
	BySKI KeyRef = iota
	// ByCertificate carries the whole certificate as X509Data, as
	// Exchange's ManageDelegation2 requests do.
	ByCertificate
)

// Canonical is the exclusive canonical form of el in its document.
func Canonical(el *etree.Element) ([]byte, error) {
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

// Sign adds a Timestamp "_0" of five minutes to the Security header sec and
// a Signature over each of refs (given wsu:Id "_1", "_2", …, in order) and
// the Timestamp, in the default namespace, its key named as key says. The
// header must already be in its document.
func Sign(sec *etree.Element, cert *certs.Certificate, key KeyRef, now time.Time, refs ...*etree.Element) error {
	for i, ref := range refs {
		for _, a := range append([]etree.Attr(nil), ref.Attr...) {
			if a.Key == "Id" && a.NamespaceURI() == nsWSU {
				ref.RemoveAttr(a.FullKey())
			}
		}
		ref.CreateAttr(prefixFor(ref, nsWSU, "u")+":Id", fmt.Sprintf("_%d", i+1))
	}
	ts := etree.NewElement("Timestamp")
	sec.AddChild(ts)
	ts.Space = prefixFor(ts, nsWSU, "u")
	ts.CreateAttr(ts.Space+":Id", "_0")
	ts.CreateElement(ts.Space + ":Created").SetText(now.UTC().Format(TimeFormat))
	ts.CreateElement(ts.Space + ":Expires").SetText(now.UTC().Add(5 * time.Minute).Format(TimeFormat))
	sig := sec.CreateElement("Signature")
	sig.CreateAttr("xmlns", nsDSig)
	si := sig.CreateElement("SignedInfo")
	si.CreateElement("CanonicalizationMethod").CreateAttr("Algorithm", algExcC14N)
	si.CreateElement("SignatureMethod").CreateAttr("Algorithm", algRSASHA1)
	for _, ref := range append(refs, ts) {
		c, err := Canonical(ref)
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
	c, err := Canonical(si)
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
	if key == ByCertificate {
		ki.CreateElement("X509Data").CreateElement("X509Certificate").SetText(base64.StdEncoding.EncodeToString(cert.Cert.Raw))
		return nil
	}
	ki.AddChild(SKIReference(ki, cert, sec.Space))
	return nil
}

// SKIReference is a wsse:SecurityTokenReference naming cert by its Subject
// Key Identifier, without EncodingType, as Exchange writes it. It uses
// prefix for wsse when that is bound to it where parent is, and declares
// its own "o" otherwise.
func SKIReference(parent *etree.Element, cert *certs.Certificate, prefix string) *etree.Element {
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

// Options say what Verify accepts.
type Options struct {
	// Known are the certificates a signature may name by Subject Key
	// Identifier.
	Known []*x509.Certificate
	// Embedded accepts a signature whose KeyInfo carries its certificate
	// as X509Data: the caller then decides whether that certificate may
	// act.
	Embedded bool
	// CoverTo requires the signature to cover the wsa:To header too.
	CoverTo bool
}

// Verified is the key a verified signature was made with.
type Verified struct {
	Cert  *x509.Certificate
	Index int // its index in Options.Known; -1 when it was embedded
}

// Verify checks the signature in the Security header of a request
// envelope: it must reference a current Timestamp of that header (and
// the To header when o.CoverTo), every digest must match, wsu:Id values
// must be unique, and the signature must verify with the key its KeyInfo
// names.
func Verify(env *etree.Element, now time.Time, o Options) (Verified, error) {
	none := Verified{Index: -1}
	sec := xmltree.Find(env, nsWSSE, "Security")
	if sec == nil {
		return none, fmt.Errorf("%w: no Security header", ErrSignature)
	}
	sigs := xmltree.Children(sec, nsDSig, "Signature")
	if len(sigs) != 1 {
		return none, fmt.Errorf("%w: %d message signatures", ErrSignature, len(sigs))
	}
	sig := sigs[0]
	si, err := one(sig, nsDSig, "SignedInfo")
	if err != nil {
		return none, err
	}
	if m, _ := one(si, nsDSig, "SignatureMethod"); m == nil || m.SelectAttrValue("Algorithm", "") != algRSASHA1 {
		return none, fmt.Errorf("%w: signature method", ErrSignature)
	}
	if m, _ := one(si, nsDSig, "CanonicalizationMethod"); m == nil || m.SelectAttrValue("Algorithm", "") != algExcC14N {
		return none, fmt.Errorf("%w: canonicalization method", ErrSignature)
	}
	ids := map[string]*etree.Element{}
	for _, el := range findAllIDs(env) {
		id := wsuID(el)
		if _, dup := ids[id]; dup {
			return none, fmt.Errorf("%w: wsu:Id %q appears twice", ErrSignature, id)
		}
		ids[id] = el
	}
	covered := map[string]bool{}
	for _, ref := range xmltree.Children(si, nsDSig, "Reference") {
		uri := ref.SelectAttrValue("URI", "")
		el := ids[strings.TrimPrefix(uri, "#")]
		if !strings.HasPrefix(uri, "#") || el == nil {
			return none, fmt.Errorf("%w: reference %q", ErrSignature, uri)
		}
		if dm, _ := one(ref, nsDSig, "DigestMethod"); dm == nil || dm.SelectAttrValue("Algorithm", "") != algSHA1 {
			return none, fmt.Errorf("%w: digest method", ErrSignature)
		}
		dv, err := one(ref, nsDSig, "DigestValue")
		if err != nil {
			return none, err
		}
		want, err := b64(dv)
		if err != nil {
			return none, err
		}
		c, err := Canonical(el)
		if err != nil {
			return none, err
		}
		sum := sha1.Sum(c)
		if subtle.ConstantTimeCompare(sum[:], want) != 1 {
			return none, fmt.Errorf("%w: the digest of %s does not match", ErrSignature, uri)
		}
		if el.Tag == "To" && el.NamespaceURI() == nsWSA && el.Parent() != nil && el.Parent().Tag == "Header" {
			covered["header To"] = true
		}
		if el.Tag == "Timestamp" && el.NamespaceURI() == nsWSU && el.Parent() == sec {
			covered["Timestamp"] = true
			created, err1 := time.Parse(time.RFC3339, textOf(el, nsWSU, "Created"))
			expires, err2 := time.Parse(time.RFC3339, textOf(el, nsWSU, "Expires"))
			if err1 != nil || err2 != nil || now.Add(5*time.Minute).Before(created) || !now.Before(expires.Add(5*time.Minute)) {
				return none, fmt.Errorf("%w: the Timestamp is not current", ErrSignature)
			}
		}
	}
	if !covered["Timestamp"] || (o.CoverTo && !covered["header To"]) {
		what := "the Timestamp"
		if o.CoverTo {
			what = "the To header and the Timestamp"
		}
		return none, fmt.Errorf("%w: the signature must cover %s", ErrSignature, what)
	}
	value, err := one(sig, nsDSig, "SignatureValue")
	if err != nil {
		return none, err
	}
	sv, err := b64(value)
	if err != nil {
		return none, err
	}
	c, err := Canonical(si)
	if err != nil {
		return none, err
	}
	sum := sha1.Sum(c)
	verifies := func(cert *x509.Certificate) bool {
		pub, ok := cert.PublicKey.(*rsa.PublicKey)
		return ok && rsa.VerifyPKCS1v15(pub, crypto.SHA1, sum[:], sv) == nil
	}
	if xc := xmltree.Find(xmltree.Find(sig, nsDSig, "KeyInfo"), nsDSig, "X509Certificate"); xc != nil {
		if !o.Embedded {
			return none, fmt.Errorf("%w: the signature must name its key by Subject Key Identifier", ErrSignature)
		}
		der, err := b64(xc)
		if err != nil {
			return none, err
		}
		cert, err := x509.ParseCertificate(der)
		if err != nil {
			return none, fmt.Errorf("%w: the signing certificate: %v", ErrSignature, err)
		}
		if !verifies(cert) {
			return none, fmt.Errorf("%w: the signature does not verify with the certificate it carries", ErrSignature)
		}
		return Verified{Cert: cert, Index: -1}, nil
	}
	kid := xmltree.Find(sig, nsWSSE, "KeyIdentifier")
	if kid == nil {
		return none, fmt.Errorf("%w: the signature names no key", ErrSignature)
	}
	ski, err := b64(kid)
	if err != nil {
		return none, err
	}
	for i, c := range o.Known {
		if string(c.SubjectKeyId) == string(ski) && verifies(c) {
			return Verified{Cert: c, Index: i}, nil
		}
	}
	return none, fmt.Errorf("%w: the message signature is not by a known key", ErrSignature)
}

func textOf(el *etree.Element, ns, local string) string {
	if c := xmltree.Children(el, ns, local); len(c) == 1 {
		return strings.TrimSpace(c[0].Text())
	}
	return ""
}

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
