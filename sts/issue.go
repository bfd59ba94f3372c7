package sts

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"github.com/beevik/etree"
	dsig "github.com/russellhaering/goxmldsig"

	"github.com/calfed/calfed/certs"
	"github.com/calfed/calfed/internal/fedtoken"
)

// Issue describes one delegation token to mint: what the Microsoft
// Federation Gateway hands a requesting Exchange (NOTES §4.3, §4.4), for
// the development token issuer and for tests.
type Issue struct {
	Issuer    string             // the issuer's URI
	Signer    *certs.Certificate // the issuer's signing certificate
	Audience  string             // the target's ApplicationUri (made absolute here)
	Email     string             // the requesting user
	Offer     string             // federation.OfferFreeBusy or federation.OfferAutodiscover
	Target    *x509.Certificate  // the target's federation certificate (encrypted to its SKI)
	NotBefore time.Time
	Lifetime  time.Duration // default: the offer's lifetime

	// Variants; the zero values are what Exchange asks for: RSA-OAEP,
	// AES-256-CBC, RSA-SHA1.
	KeyTransport string
	DataAlg      string
	SigAlg       string
	// KeyInfoReference makes the signature point at the signing certificate
	// by SKI instead of carrying it.
	KeyInfoReference bool
}

func newID() string {
	b := make([]byte, 16)
	rand.Read(b)
	return fmt.Sprintf("_%s-%s-%s-%s-%s", hex.EncodeToString(b[0:4]), hex.EncodeToString(b[4:6]), hex.EncodeToString(b[6:8]), hex.EncodeToString(b[8:10]), hex.EncodeToString(b[10:16]))
}

const samlTime = fedtoken.SAMLTime

// Namespaces and identifiers of the token, NOTES §4.3.
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

// Assertion builds and signs the SAML 1.1 assertion of the token.
func (is Issue) Assertion() (*etree.Element, error) {
	life := is.Lifetime
	if life == 0 {
		life, _ = fedtoken.OfferLifetime(is.Offer)
	}
	if life == 0 {
		life = 5 * time.Minute
	}
	nb := is.NotBefore.UTC()
	id := newID()
	a := etree.NewElement("saml:Assertion")
	a.CreateAttr("xmlns:saml", nsSAML)
	a.CreateAttr("MajorVersion", "1")
	a.CreateAttr("MinorVersion", "1")
	a.CreateAttr("AssertionID", id)
	a.CreateAttr("Issuer", is.Issuer)
	a.CreateAttr("IssueInstant", nb.Format(samlTime))
	cond := a.CreateElement("saml:Conditions")
	cond.CreateAttr("NotBefore", nb.Format(samlTime))
	cond.CreateAttr("NotOnOrAfter", nb.Add(life).Format(samlTime))
	cond.CreateElement("saml:AudienceRestrictionCondition").CreateElement("saml:Audience").SetText(fedtoken.AbsoluteURI(is.Audience))
	st := a.CreateElement("saml:AttributeStatement")
	subj := st.CreateElement("saml:Subject")
	ni := subj.CreateElement("saml:NameIdentifier")
	ni.CreateAttr("Format", "http://schemas.xmlsoap.org/claims/UPN")
	ni.SetText(is.Email)
	for _, attr := range [][3]string{
		{"EmailAddress", "http://schemas.xmlsoap.org/claims", is.Email},
		{"action", "http://schemas.xmlsoap.org/ws/2006/12/authorization/claims", is.Offer},
	} {
		at := st.CreateElement("saml:Attribute")
		at.CreateAttr("AttributeName", attr[0])
		at.CreateAttr("AttributeNamespace", attr[1])
		at.CreateElement("saml:AttributeValue").SetText(attr[2])
	}
	// The holder-of-key proof key Exchange requires to be present; calfed
	// does not use it. NOTES §4.3.
	auth := a.CreateElement("saml:AuthenticationStatement")
	auth.CreateAttr("AuthenticationMethod", "urn:oasis:names:tc:SAML:1.0:am:password")
	auth.CreateAttr("AuthenticationInstant", nb.Format(samlTime))
	asubj := auth.CreateElement("saml:Subject")
	ani := asubj.CreateElement("saml:NameIdentifier")
	ani.CreateAttr("Format", "http://schemas.xmlsoap.org/claims/UPN")
	ani.SetText(is.Email)
	sc := asubj.CreateElement("saml:SubjectConfirmation")
	sc.CreateElement("saml:ConfirmationMethod").SetText("urn:oasis:names:tc:SAML:1.0:cm:holder-of-key")
	if is.Target != nil {
		if pub, ok := is.Target.PublicKey.(*rsa.PublicKey); ok {
			proof := make([]byte, 32)
			rand.Read(proof)
			wrapped, err := rsa.EncryptOAEP(sha1.New(), rand.Reader, pub, proof, nil)
			if err != nil {
				return nil, err
			}
			ki := sc.CreateElement("KeyInfo")
			ki.CreateAttr("xmlns", nsDSig)
			ek := ki.CreateElement("e:EncryptedKey")
			ek.CreateAttr("xmlns:e", nsXEnc)
			ek.CreateElement("e:EncryptionMethod").CreateAttr("Algorithm", algRSAOAEP)
			ek.CreateElement("e:CipherData").CreateElement("e:CipherValue").SetText(base64.StdEncoding.EncodeToString(wrapped))
		}
	}
	ks := dsig.TLSCertKeyStore(tls.Certificate{Certificate: [][]byte{is.Signer.Cert.Raw}, PrivateKey: is.Signer.Key})
	ctx := dsig.NewDefaultSigningContext(ks)
	ctx.IdAttribute = "AssertionID"
	ctx.Prefix = "ds"
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
	if is.KeyInfoReference {
		// Replace the embedded certificate with a reference by SKI.
		sig := signed.FindElement("./Signature")
		if sig != nil {
			if ki := sig.FindElement("./KeyInfo"); ki != nil {
				sig.RemoveChild(ki)
				nki := sig.CreateElement("ds:KeyInfo")
				str := nki.CreateElement("o:SecurityTokenReference")
				str.CreateAttr("xmlns:o", nsWSSE)
				kid := str.CreateElement("o:KeyIdentifier")
				kid.CreateAttr("ValueType", valueSKI)
				kid.SetText(base64.StdEncoding.EncodeToString(is.Signer.SKI()))
			}
		}
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
		dataAlg = fedtoken.AlgAES256CBC
	}
	return encrypt(plain, pub, target.SubjectKeyId, keyAlg, dataAlg)
}
