package federation

import (
	"encoding/base64"
	"errors"
	"os"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/beevik/etree"

	"github.com/calfed/calfed/internal/fedtoken"
	"github.com/calfed/calfed/sts"
)

// The attributes whose values are the same in every gateway token; the
// others (ids, instants, addresses, digests) differ per token.
var fixedAttrs = map[string]bool{"MajorVersion": true, "MinorVersion": true, "Format": true, "AuthenticationMethod": true,
	"AttributeName": true, "AttributeNamespace": true, "Algorithm": true, "ValueType": true, "EncodingType": true}

// treeShape describes an element tree by namespace, name, attribute names and
// fixed attribute values, and the children in order; texts only where
// they are fixed (ConfirmationMethod, ThirdPartyRequested's True).
func treeShape(el *etree.Element, depth int, b *strings.Builder) {
	b.WriteString(strings.Repeat("  ", depth) + "{" + el.NamespaceURI() + "}" + el.Tag)
	var attrs []string
	for _, a := range el.Attr {
		if a.Space == "xmlns" || a.Key == "xmlns" {
			continue
		}
		if fixedAttrs[a.Key] {
			attrs = append(attrs, a.Key+"="+a.Value)
		} else {
			attrs = append(attrs, a.Key)
		}
	}
	sort.Strings(attrs)
	b.WriteString(" [" + strings.Join(attrs, " ") + "]")
	if el.Tag == "ConfirmationMethod" {
		b.WriteString(" " + el.Text())
	}
	b.WriteString("\n")
	for _, c := range el.ChildElements() {
		treeShape(c, depth+1, b)
	}
}

func shapeOf(t *testing.T, a *etree.Element) string {
	t.Helper()
	var b strings.Builder
	treeShape(a, 0, &b)
	return b.String()
}

// The development issuer's assertion has the 2025 gateway assertion's
// shape element for element (FINDINGS §2), and its values the gateway's
// forms.
func TestIssuedAssertionHasTheGatewayShape(t *testing.T) {
	w := newWorld(t)
	sample, err := os.ReadFile("../docs/gateway/assertion-2025.xml")
	if err != nil {
		t.Fatal(err)
	}
	doc := etree.NewDocument()
	if err := doc.ReadFromBytes(sample); err != nil {
		t.Fatal(err)
	}
	is := w.issue()
	is.RequestorDomain = "outlook.com"
	is.Offer = fedtoken.OfferMailTips
	a, err := is.Assertion()
	if err != nil {
		t.Fatal(err)
	}
	a = roundTrip(t, a)
	if got, want := shapeOf(t, a), shapeOf(t, doc.Root()); got != want {
		t.Errorf("issued assertion shape:\n%s\nwant the gateway's:\n%s", got, want)
	}
	cond := a.FindElement("./Conditions")
	nb, _ := time.Parse(time.RFC3339Nano, cond.SelectAttrValue("NotBefore", ""))
	na, _ := time.Parse(time.RFC3339Nano, cond.SelectAttrValue("NotOnOrAfter", ""))
	if na.Sub(nb) != 15*24*time.Hour || !nb.Equal(t0) {
		t.Errorf("Conditions %v – %v, want 15 days from %v", nb, na, t0)
	}
	if got := a.SelectAttrValue("Issuer", ""); got != "urn:federation:MicrosoftOnline" {
		t.Errorf("Issuer = %q", got)
	}
	opaque := regexp.MustCompile(`^[A-Za-z0-9+/]{43}=@MicrosoftOnline\.com$`)
	for _, ni := range a.FindElements(".//NameIdentifier") {
		if !opaque.MatchString(ni.Text()) {
			t.Errorf("NameIdentifier %q is not opaque <base64>@MicrosoftOnline.com", ni.Text())
		}
	}
	bs := a.FindElement("./AuthenticationStatement/Subject/SubjectConfirmation/KeyInfo/BinarySecret")
	if key, err := base64.StdEncoding.DecodeString(bs.Text()); err != nil || len(key) != 24 || bs.NamespaceURI() != fedtoken.NSTrust13 {
		t.Errorf("proof key %q in %s: %d bytes, %v", bs.Text(), bs.NamespaceURI(), len(key), err)
	}
	kid := a.FindElement("./Signature/KeyInfo/SecurityTokenReference/KeyIdentifier")
	if kid == nil || kid.Text() != base64.StdEncoding.EncodeToString(w.issuer.SKI()) {
		t.Errorf("the signature's KeyInfo does not name the signer by SKI")
	}
	// And the validator accepts it, reading the claims it carries.
	tok, err := sts.EncryptAssertion(a, w.ours.Cert, "", "")
	if err != nil {
		t.Fatal(err)
	}
	c, err := w.v.Validate(xmlOf(t, roundTrip(t, tok)), fedtoken.OfferMailTips, t0.Add(time.Minute))
	if err != nil || c.RequestorDomain != "outlook.com" || c.Offer != fedtoken.OfferMailTips || c.NameID != sts.OpaqueNameID(is.Issuer, is.Email) {
		t.Errorf("Validate = %+v, %v", c, err)
	}
}

// The issuer encrypts with 3DES-CBC by default, as the gateway, with an
// 8-byte IV; AES stays selectable. Both are accepted.
func TestTripleDESToken(t *testing.T) {
	w := newWorld(t)
	for _, tt := range []struct{ alg, want string }{{"", fedtoken.AlgTripleDESCBC}, {fedtoken.AlgAES256CBC, fedtoken.AlgAES256CBC}} {
		is := w.issue()
		is.DataAlg = tt.alg
		tok, err := is.Token()
		if err != nil {
			t.Fatal(err)
		}
		tok = roundTrip(t, tok)
		if got := tok.FindElement("./EncryptionMethod").SelectAttrValue("Algorithm", ""); got != tt.want {
			t.Errorf("DataAlg %q: EncryptionMethod %q, want %q", tt.alg, got, tt.want)
		}
		if got := tok.FindElement("./KeyInfo/EncryptedKey/EncryptionMethod").SelectAttrValue("Algorithm", ""); got != fedtoken.AlgRSAOAEP {
			t.Errorf("key transport %q, want OAEP", got)
		}
		ct, _ := base64.StdEncoding.DecodeString(tok.FindElement("./CipherData/CipherValue").Text())
		if block := map[string]int{fedtoken.AlgTripleDESCBC: 8, fedtoken.AlgAES256CBC: 16}[tt.want]; len(ct)%block != 0 {
			t.Errorf("%s: cipher value of %d bytes", tt.want, len(ct))
		}
		if _, err := w.v.Validate(xmlOf(t, tok), OfferFreeBusy, t0.Add(time.Minute)); err != nil {
			t.Errorf("%s token: %v", tt.want, err)
		}
	}
}

// PKCS#1 v1.5 key transport is refused unless opted in.
func TestRSA15KeyTransportOptIn(t *testing.T) {
	w := newWorld(t)
	is := w.issue()
	is.KeyTransport = algRSA15
	tok, err := is.Token()
	if err != nil {
		t.Fatal(err)
	}
	raw := xmlOf(t, tok)
	if _, err := w.v.Validate(raw, OfferFreeBusy, t0.Add(time.Minute)); !errors.Is(err, ErrAlgorithm) {
		t.Errorf("by default: %v, want ErrAlgorithm", err)
	}
	w.v.AcceptRSA15 = true
	if _, err := w.v.Validate(raw, OfferFreeBusy, t0.Add(time.Minute)); err != nil {
		t.Errorf("opted in: %v", err)
	}
}

// Each offer's token is usable from NotBefore for the offer's lifetime
// plus skew, however far NotOnOrAfter lies; reuse within that is
// accepted, after it refused, and the cache keeps it no longer.
func TestReuseWithinTheOfferLifetime(t *testing.T) {
	w := newWorld(t)
	for _, tt := range []struct {
		offer string
		life  time.Duration
	}{{OfferFreeBusy, 5 * time.Minute}, {OfferAutodiscover, 8 * time.Hour}, {fedtoken.OfferMailTips, 5 * time.Minute}} {
		v := &Validator{Trust: w.v.Trust}
		is := w.issue()
		is.Offer = tt.offer
		tok := xmlOf(t, w.mint(t, is, nil))
		last := t0.Add(tt.life + 5*time.Minute - time.Second)
		for _, at := range []time.Time{t0, t0.Add(time.Minute), last} {
			if _, err := v.Validate(tok, tt.offer, at); err != nil {
				t.Errorf("%s at %v: %v", tt.offer, at.Sub(t0), err)
			}
		}
		if e := v.cache.tokens[digest(tok)]; e == nil || !e.until.Equal(t0.Add(tt.life+5*time.Minute)) {
			t.Errorf("%s: cached %+v, want until NotBefore + %v + skew", tt.offer, e, tt.life)
		}
		if _, err := v.Validate(tok, tt.offer, last.Add(time.Second)); !errors.Is(err, ErrExpired) {
			t.Errorf("%s after its lifetime: %v, want ErrExpired", tt.offer, err)
		}
		// A fresh validator (no cache) says the same.
		if _, err := (&Validator{Trust: w.v.Trust}).Validate(tok, tt.offer, last.Add(time.Second)); !errors.Is(err, ErrExpired) {
			t.Errorf("%s after its lifetime, uncached: %v, want ErrExpired", tt.offer, err)
		}
	}
	// Offer names are compared without regard to case, as Exchange does.
	is := w.issue()
	is.Offer = strings.ToLower(OfferFreeBusy)
	if _, err := w.v.Validate(xmlOf(t, w.mint(t, is, nil)), OfferFreeBusy, t0.Add(time.Minute)); err != nil {
		t.Errorf("lower-case offer: %v", err)
	}
}

// RequestorDomain is recorded, lower case, and selects nothing: the
// relationship is the EmailAddress domain's, whatever the requester
// (RelationshipDomain). Tokens without the claim are accepted.
func TestRequestorDomain(t *testing.T) {
	w := newWorld(t)
	for _, tt := range []struct{ requestor, want string }{
		{"Outlook.com", "outlook.com"},                                         // Exchange Online asking for a partner user
		{"FYDIBOHF25SPDLT.partner.example", "fydibohf25spdlt.partner.example"}, // the partner's own Exchange
		{"", ""}, // an issuer that writes none
	} {
		is := w.issue()
		is.RequestorDomain = tt.requestor
		c, err := w.v.Validate(xmlOf(t, w.mint(t, is, nil)), OfferFreeBusy, t0.Add(time.Minute))
		if err != nil || c.RequestorDomain != tt.want || c.Domain != "partner.example" || RelationshipDomain(c) != "partner.example" {
			t.Errorf("RequestorDomain %q: %+v, %v", tt.requestor, c, err)
		}
	}
}
