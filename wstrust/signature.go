package wstrust

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"time"

	"github.com/beevik/etree"
	"github.com/jonboulle/clockwork"
	dsig "github.com/russellhaering/goxmldsig"

	"github.com/calfed/calfed/certs"
	"github.com/calfed/calfed/internal/wssec"
	"github.com/calfed/calfed/internal/xmltree"
)

// The WS-Security message signature of a token request: our certificate
// signs the wsu:Timestamp and the a:To header (exclusive c14n, RSA-SHA1,
// key named by its Subject Key Identifier). docs/protocol.md §4.4.

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
	if err := wssec.Sign(sec, cert, wssec.BySKI, now, to); err != nil {
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
	ki.AddChild(wssec.SKIReference(ki, cert, ""))
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
