package fedtoken

import "testing"

func TestAbsoluteURI(t *testing.T) {
	for in, want := range map[string]string{
		"FYDIBOHF25SPDLT.contoso.example": "http://FYDIBOHF25SPDLT.contoso.example",
		"http://outlook.com":              "http://outlook.com",
		"urn:federation:x":                "urn:federation:x",
	} {
		if got := AbsoluteURI(in); got != want {
			t.Errorf("AbsoluteURI(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestOfferLifetime(t *testing.T) {
	for _, tt := range []struct {
		offer string
		ok    bool
	}{{OfferFreeBusy, true}, {OfferAutodiscover, true}, {"MSExchange.Other", false}} {
		if _, ok := OfferLifetime(tt.offer); ok != tt.ok {
			t.Errorf("OfferLifetime(%q) ok = %v, want %v", tt.offer, ok, tt.ok)
		}
	}
}
