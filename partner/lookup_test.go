package partner

import (
	"errors"
	"testing"

	"github.com/calfed/calfed/orgrel"
)

func TestFor(t *testing.T) {
	rels := []orgrel.Relationship{
		{Name: "Off", Domains: []string{"off.example"}, TargetApplicationURI: "urn:off"},
		{Name: "NoURI", Domains: []string{"nouri.example"}, Enabled: true},
		{Name: "K", Domains: []string{"kelvin.example", "xn--bcher-kva.example"}, Enabled: true, TargetApplicationURI: "urn:k"},
		{Name: "P", Domains: []string{"a.example", "b.example"}, Enabled: true, TargetApplicationURI: "urn:p", TargetAutodiscoverEPR: "https://ad.b.example/autodiscover/autodiscover.svc/WSSecurity"},
	}
	p, err := For(rels, "Someone@B.Example")
	if err != nil || p.ApplicationURI != "urn:p" || p.AutodiscoverEPR == "" {
		t.Errorf("For(b.example) = %+v, %v", p, err)
	}
	if p, err := For(rels, "jürgen@Bücher.example"); err != nil || p.ApplicationURI != "urn:k" {
		t.Errorf("For(bücher.example) = %+v, %v", p, err)
	}
	for _, addr := range []string{"x@off.example", "x@nouri.example", "x@elsewhere.example", "x@\u212Aelvin.example", "no-address"} {
		if _, err := For(rels, addr); !errors.Is(err, ErrNoPartner) {
			t.Errorf("For(%s) err = %v, want ErrNoPartner", addr, err)
		}
	}
}
