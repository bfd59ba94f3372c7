package wstrust

import (
	"crypto"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/subtle"
	"crypto/x509"
	"encoding/base64"
	"fmt"
	"strings"
	"time"

	"github.com/beevik/etree"
	dsig "github.com/russellhaering/goxmldsig"
	"github.com/russellhaering/goxmldsig/etreeutils"

	"github.com/calfed/calfed/certs"
	"github.com/calfed/calfed/internal/xmltree"
)

// The WS-Security message signature of a token request: our certificate
// signs the wsu:Timestamp and the a:To header (exclusive c14n, RSA-SHA1,
// key named by its Subject Key Identifier). NOTES §4.4.

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

// signMessage adds a Timestamp and a Signature over it and over to to the
// Security header sec. The header must already be in its document.
func signMessage(sec, to *etree.Element, cert *certs.Certificate, now time.Time) error {
	ts := sec.CreateElement("u:Timestamp")
	ts.CreateAttr("xmlns:u", nsWSU)
	ts.CreateAttr("u:Id", "_0")
	ts.CreateElement("u:Created").SetText(now.UTC().Format("2006-01-02T15:04:05Z"))
	ts.CreateElement("u:Expires").SetText(now.UTC().Add(5 * time.Minute).Format("2006-01-02T15:04:05Z"))
	to.CreateAttr("xmlns:u", nsWSU)
	to.CreateAttr("u:Id", "_1")
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
	str := sig.CreateElement("KeyInfo").CreateElement("o:SecurityTokenReference")
	str.CreateAttr("xmlns:o", nsWSSE)
	kid := str.CreateElement("o:KeyIdentifier")
	kid.CreateAttr("ValueType", valueSKI)
	kid.SetText(base64.StdEncoding.EncodeToString(cert.SKI()))
	return nil
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
