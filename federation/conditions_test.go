package federation

import (
	"errors"
	"testing"
	"time"

	"github.com/beevik/etree"

	"github.com/calfed/calfed/sts"
	"github.com/calfed/calfed/wstrust"
)

// signed returns a token whose assertion edit changed before the issuer
// signed it: a genuine token with unusual content.
func (w *world) signed(t *testing.T, is sts.Issue, edit func(a *etree.Element)) *etree.Element {
	t.Helper()
	a, err := is.Assertion()
	if err != nil {
		t.Fatal(err)
	}
	a = roundTrip(t, a)
	edit(a)
	s, err := wstrust.SignAssertion(a, is.Signer)
	if err != nil {
		t.Fatal(err)
	}
	tok, err := sts.EncryptAssertion(roundTrip(t, s), is.Target, "", "")
	if err != nil {
		t.Fatal(err)
	}
	return roundTrip(t, tok)
}

// conditionsOf edits the assertion's Conditions.
func conditionsOf(edit func(cond *etree.Element)) func(a *etree.Element) {
	return func(a *etree.Element) { edit(a.FindElement("./Conditions")) }
}

// addRestriction adds an AudienceRestrictionCondition naming
// audiences.
func addRestriction(audiences ...string) func(a *etree.Element) {
	return conditionsOf(func(cond *etree.Element) {
		arc := cond.CreateElement("saml:AudienceRestrictionCondition")
		for _, aud := range audiences {
			arc.CreateElement("saml:Audience").SetText(aud)
		}
	})
}

const ourAudience = "http://FYDIBOHF25SPDLT.contoso.example"

// Every condition must hold, and one that is not understood makes the
// assertion Indeterminate: refused (SAML 1.1 core §2.3.2.1).
func TestConditions(t *testing.T) {
	w := newWorld(t)
	now := t0.Add(time.Minute)
	for _, tt := range []struct {
		name string
		edit func(a *etree.Element)
		want error // nil: accepted
	}{
		{"unchanged", func(*etree.Element) {}, nil},
		{"a second restriction naming us too", addRestriction("http://other.example", ourAudience), nil},
		{"a second restriction naming us in another case", addRestriction("HTTP://fydibohf25spdlt.CONTOSO.example"), nil},
		{"a second restriction naming someone else", addRestriction("http://FYDIBOHF25SPDLT.other.example"), ErrAudience},
		{"a second restriction naming no one", addRestriction(), ErrAudience},
		{"our restriction moved after someone else's", func(a *etree.Element) {
			cond := a.FindElement("./Conditions")
			ours := cond.FindElement("./AudienceRestrictionCondition")
			cond.RemoveChild(ours)
			addRestriction("http://FYDIBOHF25SPDLT.other.example")(a)
			cond.AddChild(ours)
		}, ErrAudience},
		{"our audience spelt with LONG S, which folds onto s", conditionsOf(func(cond *etree.Element) {
			cond.FindElement("./AudienceRestrictionCondition/Audience").SetText("http://FYDIBOHF25SPDLT.conto\u017Fo.example")
		}), ErrAudience},
		{"no restriction at all", conditionsOf(func(cond *etree.Element) {
			cond.RemoveChild(cond.FindElement("./AudienceRestrictionCondition"))
		}), ErrAudience},
		{"a restriction holding something besides Audience", conditionsOf(func(cond *etree.Element) {
			arc := cond.FindElement("./AudienceRestrictionCondition")
			arc.CreateElement("x:Audience").CreateAttr("xmlns:x", "urn:example:not-saml")
		}), ErrMalformed},
		{"an extension condition", conditionsOf(func(cond *etree.Element) {
			c := cond.CreateElement("saml:Condition")
			c.CreateAttr("xmlns:xsi", "http://www.w3.org/2001/XMLSchema-instance")
			c.CreateAttr("xmlns:x", "urn:example:conditions")
			c.CreateAttr("xsi:type", "x:OneTimeUse")
		}), ErrCondition},
		{"a condition in another namespace", conditionsOf(func(cond *etree.Element) {
			cond.CreateElement("x:ProxyRestriction").CreateAttr("xmlns:x", "urn:oasis:names:tc:SAML:2.0:assertion")
		}), ErrCondition},
		{"an unknown SAML 1.1 element", conditionsOf(func(cond *etree.Element) {
			cond.CreateElement("saml:OneTimeUse")
		}), ErrCondition},
		{"an unknown condition before a good restriction", conditionsOf(func(cond *etree.Element) {
			cond.InsertChildAt(0, etree.NewElement("saml:Unknown"))
		}), ErrCondition},
		{"text in Conditions", conditionsOf(func(cond *etree.Element) { cond.CreateText("anyone") }), ErrMalformed},
		{"DoNotCacheCondition", conditionsOf(func(cond *etree.Element) { cond.CreateElement("saml:DoNotCacheCondition") }), nil},
		{"DoNotCacheCondition with content", conditionsOf(func(cond *etree.Element) {
			cond.CreateElement("saml:DoNotCacheCondition").CreateElement("saml:Audience").SetText(ourAudience)
		}), ErrMalformed},
	} {
		t.Run(tt.name, func(t *testing.T) {
			v := &Validator{Trust: w.v.Trust}
			c, err := v.Validate(xmlOf(t, w.signed(t, w.issue(), tt.edit)), OfferFreeBusy, now)
			switch {
			case tt.want == nil && err != nil:
				t.Errorf("Validate = %v, want it accepted", err)
			case tt.want == nil && c.Email != "alice@partner.example":
				t.Errorf("Validate = %+v", c)
			case tt.want != nil && !errors.Is(err, tt.want):
				t.Errorf("Validate = %v, want %v", err, tt.want)
			}
			if tt.want != nil && Classify(err) != FailValidation && Classify(err) != FailToken {
				t.Errorf("Classify(%v) = %v", err, Classify(err))
			}
		})
	}
}

// DoNotCacheCondition: the assertion must not be retained for future use
// (§2.3.2.1.3). The validator keeps no copy of it, validates it in full
// whenever it comes, and under RefuseReuse still refuses it a second time.
func TestDoNotCache(t *testing.T) {
	w := newWorld(t)
	now := t0.Add(time.Minute)
	tok := xmlOf(t, w.signed(t, w.issue(), conditionsOf(func(cond *etree.Element) { cond.CreateElement("saml:DoNotCacheCondition") })))
	for i := range 2 {
		c, err := w.v.Validate(tok, OfferFreeBusy, now)
		if err != nil || !c.DoNotCache {
			t.Fatalf("use %d: %+v, %v", i+1, c, err)
		}
		if n, _, _ := w.v.cache.stats(); n != 0 {
			t.Errorf("use %d: the cache holds %d tokens, want none", i+1, n)
		}
	}
	plain := xmlOf(t, w.mint(t, w.issue(), nil))
	if c, err := w.v.Validate(plain, OfferFreeBusy, now); err != nil || c.DoNotCache {
		t.Fatalf("a token without the condition: %+v, %v", c, err)
	}
	if n, _, _ := w.v.cache.stats(); n != 1 {
		t.Errorf("a token without the condition is not cached: %d tokens", n)
	}
	w.v = &Validator{Trust: w.v.Trust, RefuseReuse: true, Replay: &memReplay{}}
	if _, err := w.v.Validate(tok, OfferFreeBusy, now); err != nil {
		t.Fatal(err)
	}
	if _, err := w.v.Validate(tok, OfferFreeBusy, now); !errors.Is(err, ErrReplay) {
		t.Errorf("second use under RefuseReuse: %v, want ErrReplay", err)
	}
	if n, ids, _ := w.v.cache.stats(); n != 0 || ids != 1 {
		t.Errorf("under RefuseReuse the cache holds %d tokens and %d ids, want 0 and 1", n, ids)
	}
}

// Nothing may follow the token, or the assertion inside it: a second
// element after the signed one would be ignored by every reader here.
func TestSecondRootRefused(t *testing.T) {
	w := newWorld(t)
	now := t0.Add(time.Minute)
	a, err := w.issue().Assertion()
	if err != nil {
		t.Fatal(err)
	}
	signed := xmlOf(t, roundTrip(t, a))
	evil := `<saml:Assertion xmlns:saml="urn:oasis:names:tc:SAML:1.0:assertion" MajorVersion="1" AssertionID="_evil"/>`
	plaintext := func(p string) []byte {
		tok, err := sts.EncryptBytes([]byte(p), w.ours.Cert, "", "")
		if err != nil {
			t.Fatal(err)
		}
		return xmlOf(t, roundTrip(t, tok))
	}
	tok := xmlOf(t, w.mint(t, w.issue(), nil))
	for _, tt := range []struct {
		name string
		tok  []byte
		want error
	}{
		{"the assertion alone", plaintext(string(signed) + "\n<!-- issued -->\n"), nil},
		{"a second assertion after the signed one", plaintext(string(signed) + evil), ErrMalformed},
		{"any element after the signed one", plaintext(string(signed) + "<x/>"), ErrMalformed},
		{"text after the signed one", plaintext(string(signed) + "mallory@evil.example"), ErrMalformed},
		{"an element after the token", append(append([]byte{}, tok...), "<x/>"...), ErrMalformed},
		{"text after the token", append(append([]byte{}, tok...), "x"...), ErrMalformed},
	} {
		t.Run(tt.name, func(t *testing.T) {
			v := &Validator{Trust: w.v.Trust}
			_, err := v.Validate(tt.tok, OfferFreeBusy, now)
			if tt.want == nil && err != nil || tt.want != nil && !errors.Is(err, tt.want) {
				t.Errorf("Validate = %v, want %v", err, tt.want)
			}
		})
	}
}
