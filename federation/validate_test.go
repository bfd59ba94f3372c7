package federation

import (
	"context"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/beevik/etree"
	dsig "github.com/russellhaering/goxmldsig"

	"github.com/calfed/calfed/certs"
	"github.com/calfed/calfed/internal/fedtoken"
	"github.com/calfed/calfed/sts"
)

var t0 = time.Date(2026, 3, 24, 9, 0, 0, 0, time.UTC)

type ring []*certs.Certificate

func (r ring) ForKeyIdentifier(ski []byte) (*certs.Certificate, bool) {
	for _, c := range r {
		if string(c.SKI()) == string(ski) {
			return c, true
		}
	}
	return nil, false
}

// memReplay is a Replay store in memory, shared by the validators given
// it as a database is by servers; err makes it fail.
type memReplay struct {
	mu    sync.Mutex
	used  map[string]time.Time
	calls int
	err   error
}

func (m *memReplay) UseToken(ctx context.Context, key string, until time.Time) (bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.calls++
	if m.err != nil {
		return false, m.err
	}
	if m.used == nil {
		m.used = map[string]time.Time{}
	}
	if _, ok := m.used[key]; ok {
		return false, nil
	}
	m.used[key] = until
	return true, nil
}

type world struct {
	ours, other, issuer, prevIssuer, rogue *certs.Certificate
	v                                      *Validator
}

var cached *world

func newWorld(t testing.TB) *world {
	t.Helper()
	if cached == nil {
		gen := func(cn string) *certs.Certificate {
			c, err := certs.Generate(cn, t0.AddDate(0, -1, 0))
			if err != nil {
				t.Fatal(err)
			}
			return c
		}
		cached = &world{ours: gen("Federation contoso"), other: gen("Federation other"), issuer: gen("Token issuer"),
			prevIssuer: gen("Token issuer (previous)"), rogue: gen("Rogue issuer")}
	}
	w := *cached
	trust := &Trust{Keys: ring{w.ours}, Issuers: []*x509.Certificate{w.issuer.Cert, w.prevIssuer.Cert}, ApplicationURI: "FYDIBOHF25SPDLT.contoso.example"}
	w.v = &Validator{Trust: func() *Trust { return trust }}
	return &w
}

func (w *world) issue() sts.Issue {
	return sts.Issue{Issuer: "urn:federation:MicrosoftOnline", Signer: w.issuer, Audience: "FYDIBOHF25SPDLT.contoso.example",
		Email: "alice@partner.example", Offer: OfferFreeBusy, Target: w.ours.Cert, NotBefore: t0, RequestorDomain: "FYDIBOHF25SPDLT.partner.example"}
}

// xmlOf is a token as Validate takes it: the element's bytes.
func xmlOf(t testing.TB, ed *etree.Element) []byte {
	t.Helper()
	doc := etree.NewDocument()
	doc.SetRoot(ed.Copy())
	b, err := doc.WriteToBytes()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func roundTrip(t testing.TB, ed *etree.Element) *etree.Element {
	t.Helper()
	doc := etree.NewDocument()
	doc.SetRoot(ed)
	b, err := doc.WriteToBytes()
	if err != nil {
		t.Fatal(err)
	}
	back := etree.NewDocument()
	if err := back.ReadFromBytes(b); err != nil {
		t.Fatal(err)
	}
	return back.Root()
}

// Every variant the notes list is accepted (PKCS#1 v1.5 key transport
// when opted in).
func TestAcceptsEveryListedVariant(t *testing.T) {
	w := newWorld(t)
	w.v.AcceptRSA15 = true
	n := 0
	for _, kt := range []string{algRSAOAEP, algRSA15} {
		for _, data := range fedtoken.DataAlgorithms {
			for _, sig := range []string{dsig.RSASHA1SignatureMethod, dsig.RSASHA256SignatureMethod} {
				for _, ref := range []bool{false, true} {
					is := w.issue()
					is.KeyTransport, is.DataAlg, is.SigAlg, is.KeyInfoCertificate = kt, data, sig, !ref
					if n%2 == 1 {
						is.Signer = w.prevIssuer // the issuer's previous certificate still counts
					}
					n++
					tok, err := is.Token()
					if err != nil {
						t.Fatal(err)
					}
					c, err := w.v.Validate(xmlOf(t, roundTrip(t, tok)), OfferFreeBusy, t0.Add(time.Minute))
					if err != nil {
						t.Errorf("%s %s %s reference=%v: %v", kt, data, sig, ref, err)
						continue
					}
					if c.Email != "alice@partner.example" || c.Domain != "partner.example" || c.TokenID == "" || c.NameID != sts.OpaqueNameID(is.Issuer, is.Email) {
						t.Errorf("claims %+v", c)
					}
				}
			}
		}
	}
}

// mint returns a token whose signed assertion edit changed before it was
// encrypted.
func (w *world) mint(t *testing.T, is sts.Issue, edit func(a *etree.Element)) *etree.Element {
	t.Helper()
	a, err := is.Assertion()
	if err != nil {
		t.Fatal(err)
	}
	a = roundTrip(t, a)
	if edit != nil {
		edit(a)
	}
	tok, err := sts.EncryptAssertion(a, is.Target, "", "")
	if err != nil {
		t.Fatal(err)
	}
	return roundTrip(t, tok)
}

func email(a *etree.Element) *etree.Element {
	for _, at := range a.FindElements("./AttributeStatement/Attribute") {
		if at.SelectAttrValue("AttributeName", "") == "EmailAddress" {
			return at.FindElement("./AttributeValue")
		}
	}
	return nil
}

func TestRefusesAttacks(t *testing.T) {
	w := newWorld(t)
	now := t0.Add(time.Minute)
	tests := []struct {
		name string
		tok  func(t *testing.T) *etree.Element
		at   time.Time
		want error
	}{
		{"assertion edited after signing", func(t *testing.T) *etree.Element {
			return w.mint(t, w.issue(), func(a *etree.Element) { email(a).SetText("mallory@partner.example") })
		}, now, ErrSignature},
		{"signed by an untrusted key", func(t *testing.T) *etree.Element {
			is := w.issue()
			is.Signer, is.KeyInfoCertificate = w.rogue, true
			return w.mint(t, is, nil)
		}, now, ErrSignature},
		{"untrusted key, certificate not carried", func(t *testing.T) *etree.Element {
			is := w.issue()
			is.Signer = w.rogue
			return w.mint(t, is, nil)
		}, now, ErrSignature},
		{"untrusted key, no KeyInfo", func(t *testing.T) *etree.Element {
			is := w.issue()
			is.Signer = w.rogue
			return w.mint(t, is, func(a *etree.Element) {
				sig := a.FindElement("./Signature")
				sig.RemoveChild(sig.FindElement("./KeyInfo"))
			})
		}, now, ErrSignature},
		{"a trusted issuer's SKI on another key's signature", func(t *testing.T) *etree.Element {
			is := w.issue()
			is.Signer = w.rogue
			return w.mint(t, is, func(a *etree.Element) {
				a.FindElement("./Signature/KeyInfo/SecurityTokenReference/KeyIdentifier").SetText(base64.StdEncoding.EncodeToString(w.issuer.SKI()))
			})
		}, now, ErrSignature},
		{"signature removed", func(t *testing.T) *etree.Element {
			return w.mint(t, w.issue(), func(a *etree.Element) { a.RemoveChild(a.FindElement("./Signature")) })
		}, now, ErrSignature},
		{"XSW: signed assertion wrapped in an evil one", func(t *testing.T) *etree.Element {
			return w.mint(t, w.issue(), func(a *etree.Element) {
				evil := a.Copy()
				evil.RemoveChild(evil.FindElement("./Signature"))
				evil.SelectAttr("AssertionID").Value = "_evil"
				email(evil).SetText("mallory@partner.example")
				adv := evil.CreateElement("saml:Advice")
				adv.AddChild(a.Copy())
				*a = *evil
			})
		}, now, ErrSignature},
		{"XSW: evil assertion with the signed one's ID and its signature", func(t *testing.T) *etree.Element {
			return w.mint(t, w.issue(), func(a *etree.Element) {
				email(a).SetText("mallory@partner.example")
				orig := a.Copy()
				sig := orig.FindElement("./Signature")
				orig.RemoveChild(sig)
				a.FindElement("./Signature").AddChild(orig) // the original, hidden inside the signature
			})
		}, now, ErrSignature},
		{"XSW: two signatures", func(t *testing.T) *etree.Element {
			return w.mint(t, w.issue(), func(a *etree.Element) { a.AddChild(a.FindElement("./Signature").Copy()) })
		}, now, ErrSignature},
		{"expired", func(t *testing.T) *etree.Element { return w.mint(t, w.issue(), nil) }, t0.Add(11 * time.Minute), ErrExpired},
		{"not yet valid", func(t *testing.T) *etree.Element { return w.mint(t, w.issue(), nil) }, t0.Add(-6 * time.Minute), ErrNotYetValid},
		{"valid for longer than the offer allows", func(t *testing.T) *etree.Element {
			is := w.issue()
			is.Lifetime = 24 * time.Hour
			return w.mint(t, is, nil)
		}, t0.Add(time.Hour), ErrExpired},
		{"wrong audience", func(t *testing.T) *etree.Element {
			is := w.issue()
			is.Audience = "FYDIBOHF25SPDLT.someone-else.example"
			return w.mint(t, is, nil)
		}, now, ErrAudience},
		{"wrong offer", func(t *testing.T) *etree.Element {
			is := w.issue()
			is.Offer = OfferAutodiscover
			return w.mint(t, is, nil)
		}, now, ErrOffer},
		{"encrypted to another certificate", func(t *testing.T) *etree.Element {
			is := w.issue()
			is.Target = w.other.Cert
			return w.mint(t, is, nil)
		}, now, ErrUnknownKey},
		{"our SKI but another key", func(t *testing.T) *etree.Element {
			a, _ := w.issue().Assertion()
			forged := *w.other.Cert
			forged.SubjectKeyId = w.ours.SKI()
			tok, err := sts.EncryptAssertion(a, &forged, "", "")
			if err != nil {
				t.Fatal(err)
			}
			return roundTrip(t, tok)
		}, now, ErrDecrypt},
		{"entity expansion", func(t *testing.T) *etree.Element {
			tok, err := sts.EncryptBytes([]byte(`<?xml version="1.0"?><!DOCTYPE a [<!ENTITY x "xxxxxxxx"><!ENTITY y "&x;&x;&x;&x;">]><saml:Assertion xmlns:saml="urn:oasis:names:tc:SAML:1.0:assertion" MajorVersion="1" AssertionID="_a">&y;</saml:Assertion>`), w.ours.Cert, "", "")
			if err != nil {
				t.Fatal(err)
			}
			return roundTrip(t, tok)
		}, now, ErrMalformed},
		{"oversized", func(t *testing.T) *etree.Element {
			tok, _ := sts.EncryptBytes([]byte(`<saml:Assertion xmlns:saml="urn:oasis:names:tc:SAML:1.0:assertion">`+strings.Repeat(" ", 70000)+`</saml:Assertion>`), w.ours.Cert, "", "")
			return roundTrip(t, tok)
		}, now, ErrMalformed},
		{"not an assertion", func(t *testing.T) *etree.Element {
			tok, _ := sts.EncryptBytes([]byte(`<x/>`), w.ours.Cert, "", "")
			return roundTrip(t, tok)
		}, now, ErrMalformed},
		{"unknown data algorithm", func(t *testing.T) *etree.Element {
			tok := w.mint(t, w.issue(), nil)
			tok.FindElement("./EncryptionMethod").SelectAttr("Algorithm").Value = "http://www.w3.org/2009/xmlenc11#aes256-gcm"
			return tok
		}, now, ErrAlgorithm},
		{"3DES token relabelled AES-256", func(t *testing.T) *etree.Element {
			tok := w.mint(t, w.issue(), nil)
			tok.FindElement("./EncryptionMethod").SelectAttr("Algorithm").Value = fedtoken.AlgAES256CBC
			return tok
		}, now, ErrDecrypt},
		{"AES-256 token relabelled 3DES", func(t *testing.T) *etree.Element {
			a, _ := w.issue().Assertion()
			tok, err := sts.EncryptAssertion(a, w.ours.Cert, "", fedtoken.AlgAES256CBC)
			if err != nil {
				t.Fatal(err)
			}
			tok.FindElement("./EncryptionMethod").SelectAttr("Algorithm").Value = fedtoken.AlgTripleDESCBC
			return roundTrip(t, tok)
		}, now, ErrDecrypt},
		{"PKCS#1 v1.5 key transport, not opted in", func(t *testing.T) *etree.Element {
			a, _ := w.issue().Assertion()
			tok, err := sts.EncryptAssertion(a, w.ours.Cert, algRSA15, "")
			if err != nil {
				t.Fatal(err)
			}
			return roundTrip(t, tok)
		}, now, ErrAlgorithm},
		{"OAEP token relabelled PKCS#1 v1.5", func(t *testing.T) *etree.Element {
			tok := w.mint(t, w.issue(), nil)
			tok.FindElement("./KeyInfo/EncryptedKey/EncryptionMethod").SelectAttr("Algorithm").Value = algRSA15
			return tok
		}, now, ErrAlgorithm},
		{"unknown offer", func(t *testing.T) *etree.Element {
			is := w.issue()
			is.Offer = "MSExchange.Unknown"
			return w.mint(t, is, nil)
		}, now, ErrClaims},
		{"two RequestorDomain values", func(t *testing.T) *etree.Element {
			return w.mint(t, w.issue(), func(a *etree.Element) {
				for _, at := range a.FindElements("./AttributeStatement/Attribute") {
					if at.SelectAttrValue("AttributeName", "") == "RequestorDomain" {
						at.CreateElement("saml:AttributeValue").SetText("evil.example")
					}
				}
			})
		}, now, ErrSignature}, // edited after signing; the rule itself is TestRequestorDomain's
		{"no key identifier", func(t *testing.T) *etree.Element {
			tok := w.mint(t, w.issue(), nil)
			str := tok.FindElement("./KeyInfo/EncryptedKey/KeyInfo/SecurityTokenReference")
			str.RemoveChild(str.FindElement("./KeyIdentifier"))
			return tok
		}, now, ErrMalformed},
		{"missing email claim", func(t *testing.T) *etree.Element {
			is := w.issue()
			is.Email = ""
			return w.mint(t, is, nil)
		}, now, ErrClaims},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := w.v.Validate(xmlOf(t, tt.tok(t)), OfferFreeBusy, tt.at)
			if !errors.Is(err, tt.want) {
				t.Errorf("Validate = %v, want %v", err, tt.want)
			}
		})
	}
}

// Refusing reuse is an opt-in hardening (RefuseReuse).
func TestRefuseReuseAndSkew(t *testing.T) {
	w := newWorld(t)
	w.v.RefuseReuse, w.v.Replay = true, &memReplay{}
	tok := w.mint(t, w.issue(), nil)
	if _, err := w.v.Validate(xmlOf(t, tok), OfferFreeBusy, t0.Add(-4*time.Minute)); err != nil { // inside the 5-minute skew
		t.Fatal(err)
	}
	if _, err := w.v.Validate(xmlOf(t, tok), OfferFreeBusy, t0.Add(time.Minute)); !errors.Is(err, ErrReplay) {
		t.Errorf("second use: %v, want ErrReplay", err)
	}
	w.v.Trust = func() *Trust { return nil }
	if _, err := w.v.Validate(xmlOf(t, w.mint(t, w.issue(), nil)), OfferFreeBusy, t0); !errors.Is(err, ErrNotFederated) {
		t.Errorf("without a trust: %v", err)
	}
}

// The SAML comment trick: a comment inside a signed value leaves the
// signature intact under exclusive canonicalisation and truncates the value
// for a reader that stops at the comment. Reading only the verifier's
// output yields the whole signed value.
func TestCommentInSignedValueDoesNotTruncate(t *testing.T) {
	w := newWorld(t)
	is := w.issue()
	is.Email = "mallory@evil.example.partner.example"
	tok := w.mint(t, is, func(a *etree.Element) {
		v := email(a)
		v.SetText("")
		v.CreateText("mallory@evil.example")
		v.CreateComment("")
		v.CreateText(".partner.example")
	})
	c, err := w.v.Validate(xmlOf(t, tok), OfferFreeBusy, t0.Add(time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	if c.Email != "mallory@evil.example.partner.example" || c.Domain != "evil.example.partner.example" {
		t.Errorf("claims %+v: the value was truncated", c)
	}
}

// By default a token is accepted again while NotBefore + its offer's
// lifetime (+ skew) holds, as Exchange, which keeps no replay cache.
func TestReuseByDefault(t *testing.T) {
	w := newWorld(t)
	tok := w.mint(t, w.issue(), nil)
	for i := 0; i < 3; i++ {
		if c, err := w.v.Validate(xmlOf(t, tok), OfferFreeBusy, t0.Add(time.Minute)); err != nil || c.Email != "alice@partner.example" {
			t.Fatalf("use %d: %+v, %v", i+1, c, err)
		}
	}
	if _, err := w.v.Validate(xmlOf(t, tok), OfferAutodiscover, t0.Add(time.Minute)); !errors.Is(err, ErrOffer) {
		t.Errorf("reused for another offer: %v", err)
	}
	if _, err := w.v.Validate(xmlOf(t, tok), OfferFreeBusy, t0.Add(11*time.Minute)); !errors.Is(err, ErrExpired) {
		t.Errorf("reused after expiry: %v", err)
	}
}

// Whitespace around a signed value is not part of it; whitespace inside
// an address makes it no address.
func TestWhitespaceInSignedValues(t *testing.T) {
	w := newWorld(t)
	for _, tt := range []struct {
		email string
		ok    bool
	}{{"  alice@partner.example\n", true}, {"alice @partner.example", false}, {"alice@partner.example mallory@evil.example", false}, {"Alice <alice@partner.example>", false}} {
		is := w.issue()
		is.Email = tt.email
		tok := w.mint(t, is, nil)
		c, err := w.v.Validate(xmlOf(t, tok), OfferFreeBusy, t0.Add(time.Minute))
		if tt.ok != (err == nil) {
			t.Errorf("email %q: %+v, %v", tt.email, c, err)
		}
		if err == nil && c.Email != "alice@partner.example" {
			t.Errorf("email %q read as %q", tt.email, c.Email)
		}
	}
}

// The token's addresses are read in their canonical form: a U-label
// domain as its A-label, and a spelling that folds onto another domain
// (KELVIN SIGN for k) selects nothing; the token is refused.
func TestCanonicalClaims(t *testing.T) {
	w := newWorld(t)
	for _, tt := range []struct {
		email, requestor  string
		wantEmail, wantRD string // empty: refused
	}{
		{"Alice@Partner.Example", "Outlook.com", "alice@partner.example", "outlook.com"},
		{"jürgen@bücher.example", "FYDIBOHF25SPDLT.bücher.example", "jürgen@xn--bcher-kva.example", "fydibohf25spdlt.xn--bcher-kva.example"},
		{"x@\u212Aelvin.example", "outlook.com", "", ""},
		{"x@kelvin.example", "outlook.\u212Aom", "", ""},
		{"x@ｋelvin.example", "outlook.com", "", ""},
		{"x@Kelvin.example", "outlook.com.", "x@kelvin.example", "outlook.com"},
		{"x@192.0.2.1", "outlook.com", "", ""},
	} {
		is := w.issue()
		is.Email, is.RequestorDomain = tt.email, tt.requestor
		c, err := w.v.Validate(xmlOf(t, w.mint(t, is, nil)), OfferFreeBusy, t0.Add(time.Minute))
		if tt.wantEmail == "" {
			if !errors.Is(err, ErrClaims) {
				t.Errorf("%q, %q: %+v, %v, want ErrClaims", tt.email, tt.requestor, c, err)
			}
			continue
		}
		if err != nil || c.Email != tt.wantEmail || c.RequestorDomain != tt.wantRD || c.Domain != tt.wantEmail[strings.LastIndexByte(tt.wantEmail, '@')+1:] {
			t.Errorf("%q, %q: %+v, %v", tt.email, tt.requestor, c, err)
		}
	}
}
