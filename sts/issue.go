package sts

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/beevik/etree"
	dsig "github.com/russellhaering/goxmldsig"

	"github.com/calfed/calfed/certs"
	"github.com/calfed/calfed/internal/fedtoken"
)

// Issue describes one delegation token to mint, shaped as the Microsoft
// Federation Gateway issues it (docs/gateway/FINDINGS.md §2, docs/protocol.md §4.3):
// for the development token issuer and for tests.
type Issue struct {
	Issuer    string             // the issuer's URI (the gateway: urn:federation:MicrosoftOnline)
	Signer    *certs.Certificate // the issuer's signing certificate
	Audience  string             // the target's ApplicationUri (made absolute here)
	Email     string             // the requesting user
	Offer     string             // federation.OfferFreeBusy, federation.OfferAutodiscover, …
	Target    *x509.Certificate  // the target's federation certificate (encrypted to its SKI)
	NotBefore time.Time
	// Lifetime is NotOnOrAfter − NotBefore; default 15 days, as the
	// gateway writes whatever the offer (the offer's own lifetime is what
	// the receiver enforces).
	Lifetime time.Duration
	// RequestorDomain is the requesting organisation's ApplicationUri
	// (the gateway's RequestorDomain claim); empty leaves the claim out.
	RequestorDomain string
	// NameID is the subject's NameIdentifier; default an opaque
	// "<base64>@MicrosoftOnline.com" derived from Issuer and Email, stable
	// per user as the gateway's is.
	NameID string
	// ProofKey is the holder-of-key BinarySecret; default 24 random bytes.
	ProofKey []byte

	// Variants; the zero values are what the gateway sends: RSA-OAEP key
	// transport, 3DES-CBC data encryption (FINDINGS §1.2), RSA-SHA1 with
	// a KeyInfo naming the signing certificate by SKI only.
	KeyTransport string
	DataAlg      string
	SigAlg       string
	// KeyInfoCertificate carries the signing certificate in the
	// signature's KeyInfo (X509Data) instead of naming it by SKI.
	KeyInfoCertificate bool
}

func newID() string {
	b := make([]byte, 16)
	rand.Read(b)
	return fmt.Sprintf("uuid-%s-%s-%s-%s-%s", hex.EncodeToString(b[0:4]), hex.EncodeToString(b[4:6]), hex.EncodeToString(b[6:8]), hex.EncodeToString(b[8:10]), hex.EncodeToString(b[10:16]))
}

const samlTime = fedtoken.SAMLTime

// Namespaces and identifiers of the token, docs/protocol.md §4.3.
const (
	nsSAML      = fedtoken.NSSAML
	nsDSig      = fedtoken.NSDSig
	nsXEnc      = fedtoken.NSXEnc
	nsWSSE      = fedtoken.NSWSSE
	valueSKI    = fedtoken.ValueSKI
	typeElement = fedtoken.TypeElement
	algRSAOAEP  = fedtoken.AlgRSAOAEP
	algRSA15    = fedtoken.AlgRSA15
)

// OpaqueNameID is the NameIdentifier value the issuer gives a user: 32
// bytes in base64, "@MicrosoftOnline.com" (FINDINGS §2). The gateway's
// derivation is not known; this one is stable per issuer and user.
func OpaqueNameID(issuer, email string) string {
	h := sha256.Sum256([]byte(issuer + "\x00" + strings.ToLower(strings.TrimSpace(email))))
	return base64.StdEncoding.EncodeToString(h[:]) + "@" + fedtoken.NameIDDomain
}

// Assertion builds and signs the SAML 1.1 assertion of the token, element
// for element as the gateway's 2025 assertion (FINDINGS §2): Conditions;
// an AuthenticationStatement whose subject is confirmed holder-of-key by a
// clear trust:BinarySecret; an AttributeStatement with EmailAddress,
// RequestorDomain, action and ThirdPartyRequested; an enveloped RSA-SHA1
// signature, exclusive c14n, its KeyInfo a SecurityTokenReference naming
// the signing certificate by SKI.
func (is Issue) Assertion() (*etree.Element, error) {
	life := is.Lifetime
	if life == 0 {
		life = fedtoken.GatewayLifetime
	}
	nb := is.NotBefore.UTC()
	nameID := is.NameID
	if nameID == "" {
		nameID = OpaqueNameID(is.Issuer, is.Email)
	}
	proof := is.ProofKey
	if proof == nil {
		proof = make([]byte, 24)
		rand.Read(proof)
	}
	id := newID()
	a := etree.NewElement("saml:Assertion")
	a.CreateAttr("MajorVersion", "1")
	a.CreateAttr("MinorVersion", "1")
	a.CreateAttr("AssertionID", id)
	a.CreateAttr("Issuer", is.Issuer)
	a.CreateAttr("IssueInstant", nb.Format(samlTime))
	a.CreateAttr("xmlns:saml", nsSAML)
	cond := a.CreateElement("saml:Conditions")
	cond.CreateAttr("NotBefore", nb.Format(samlTime))
	cond.CreateAttr("NotOnOrAfter", nb.Add(life).Format(samlTime))
	cond.CreateElement("saml:AudienceRestrictionCondition").CreateElement("saml:Audience").SetText(fedtoken.AbsoluteURI(is.Audience))
	subject := func(parent *etree.Element) *etree.Element {
		subj := parent.CreateElement("saml:Subject")
		ni := subj.CreateElement("saml:NameIdentifier")
		ni.CreateAttr("Format", fedtoken.NameIDFormatUPN)
		ni.SetText(nameID)
		return subj
	}
	// The holder-of-key proof key Exchange requires to be present; calfed
	// does not use it, and no Exchange requester proves possession of it
	// (FINDINGS §3; docs/protocol.md §4.6).
	auth := a.CreateElement("saml:AuthenticationStatement")
	auth.CreateAttr("AuthenticationMethod", "urn:oasis:names:tc:SAML:1.0:am:password")
	auth.CreateAttr("AuthenticationInstant", nb.Format(samlTime))
	sc := subject(auth).CreateElement("saml:SubjectConfirmation")
	sc.CreateElement("saml:ConfirmationMethod").SetText(fedtoken.ConfirmHolderOfKey)
	ki := sc.CreateElement("KeyInfo")
	ki.CreateAttr("xmlns", nsDSig)
	bs := ki.CreateElement("trust:BinarySecret")
	bs.CreateAttr("xmlns:trust", fedtoken.NSTrust13)
	bs.SetText(base64.StdEncoding.EncodeToString(proof))
	st := a.CreateElement("saml:AttributeStatement")
	subject(st)
	attrs := [][3]string{{"EmailAddress", fedtoken.NSClaims, is.Email}}
	if is.RequestorDomain != "" {
		attrs = append(attrs, [3]string{"RequestorDomain", fedtoken.NSIdentityClaims, is.RequestorDomain})
	}
	attrs = append(attrs,
		[3]string{"action", fedtoken.NSAuthzClaims, is.Offer},
		[3]string{"ThirdPartyRequested", fedtoken.NSIdentityClaims, "True"})
	for _, attr := range attrs {
		at := st.CreateElement("saml:Attribute")
		at.CreateAttr("AttributeName", attr[0])
		at.CreateAttr("AttributeNamespace", attr[1])
		at.CreateElement("saml:AttributeValue").SetText(attr[2])
	}
	ks := dsig.TLSCertKeyStore(tls.Certificate{Certificate: [][]byte{is.Signer.Cert.Raw}, PrivateKey: is.Signer.Key})
	ctx := dsig.NewDefaultSigningContext(ks)
	ctx.IdAttribute = "AssertionID"
	ctx.Prefix = "" // <Signature xmlns="…xmldsig#">, as the gateway writes it
	ctx.Canonicalizer = dsig.MakeC14N10ExclusiveCanonicalizerWithPrefixList("")
	sigAlg := is.SigAlg
	if sigAlg == "" {
		sigAlg = dsig.RSASHA1SignatureMethod
	}
	if err := ctx.SetSignatureMethod(sigAlg); err != nil {
		return nil, err
	}
	signed, err := ctx.SignEnveloped(a)
	if err != nil {
		return nil, err
	}
	if !is.KeyInfoCertificate {
		// Name the signing certificate by SKI instead of carrying it.
		sig := signed.FindElement("./Signature")
		if sig == nil {
			return nil, errors.New("sts: the signed assertion has no Signature")
		}
		if ki := sig.FindElement("./KeyInfo"); ki != nil {
			sig.RemoveChild(ki)
		}
		nki := sig.CreateElement("KeyInfo") // in the Signature's default namespace
		str := nki.CreateElement("o:SecurityTokenReference")
		str.CreateAttr("xmlns:o", nsWSSE)
		kid := str.CreateElement("o:KeyIdentifier")
		kid.CreateAttr("ValueType", valueSKI)
		kid.CreateAttr("EncodingType", fedtoken.EncodingBase64)
		kid.SetText(base64.StdEncoding.EncodeToString(is.Signer.SKI()))
	}
	return signed, nil
}

// Token mints the encrypted token: the xenc:EncryptedData a requester puts
// in wsse:Security.
func (is Issue) Token() (*etree.Element, error) {
	a, err := is.Assertion()
	if err != nil {
		return nil, err
	}
	return EncryptAssertion(a, is.Target, is.KeyTransport, is.DataAlg)
}

// EncryptAssertion encrypts an assertion element to target.
func EncryptAssertion(a *etree.Element, target *x509.Certificate, keyAlg, dataAlg string) (*etree.Element, error) {
	doc := etree.NewDocument()
	doc.SetRoot(a.Copy())
	plain, err := doc.WriteToBytes()
	if err != nil {
		return nil, err
	}
	return EncryptBytes(plain, target, keyAlg, dataAlg)
}

// EncryptBytes encrypts any plaintext as a token would be; tests use it to
// deliver hostile assertions.
func EncryptBytes(plain []byte, target *x509.Certificate, keyAlg, dataAlg string) (*etree.Element, error) {
	pub, ok := target.PublicKey.(*rsa.PublicKey)
	if !ok {
		return nil, errors.New("sts: the target certificate's key is not RSA")
	}
	if keyAlg == "" {
		keyAlg = algRSAOAEP
	}
	if dataAlg == "" {
		dataAlg = fedtoken.AlgTripleDESCBC // as the gateway, FINDINGS §1.2
	}
	return encrypt(plain, pub, target.SubjectKeyId, keyAlg, dataAlg)
}
