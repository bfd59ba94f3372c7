package orgrel

import (
	"testing"

	"github.com/calfed/calfed/internal/identity"
)

func TestDecideMailTips(t *testing.T) {
	rel := func(enabled, on bool, l MailTipsLevel) *Relationship {
		return &Relationship{Name: "P", Domains: []string{"p.example"}, Enabled: enabled, MailTipsAccessEnabled: on, MailTipsAccessLevel: l}
	}
	tests := []struct {
		name string
		rel  *Relationship
		want MailTipsLevel
	}{
		{"no relationship", nil, MailTipsNone},
		{"disabled relationship", rel(false, true, MailTipsAll), MailTipsNone},
		{"MailTips access off", rel(true, false, MailTipsAll), MailTipsNone},
		{"level None", rel(true, true, MailTipsNone), MailTipsNone},
		{"level Limited", rel(true, true, MailTipsLimited), MailTipsLimited},
		{"level All", rel(true, true, MailTipsAll), MailTipsAll},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := DecideMailTips(tt.rel); got != tt.want {
				t.Errorf("DecideMailTips = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestParseMailTipsLevel(t *testing.T) {
	for in, want := range map[string]MailTipsLevel{"": MailTipsNone, "none": MailTipsNone, "Limited": MailTipsLimited, " ALL ": MailTipsAll} {
		if got, err := ParseMailTipsLevel(in); err != nil || got != want {
			t.Errorf("ParseMailTipsLevel(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	if _, err := ParseMailTipsLevel("LimitedDetails"); err == nil {
		t.Error("ParseMailTipsLevel(LimitedDetails) succeeded")
	}
	var l MailTipsLevel
	if err := l.UnmarshalText([]byte("All")); err != nil || l != MailTipsAll {
		t.Errorf("UnmarshalText(All) = %v, %v", l, err)
	}
}

func TestPolicyMailTips(t *testing.T) {
	p, err := NewPolicy([]Relationship{
		{Name: "P", Domains: []string{"p.example"}, Enabled: true, MailTipsAccessEnabled: true, MailTipsAccessLevel: MailTipsAll},
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := p.MailTips(identity.Caller{Domain: "p.example"}); got != MailTipsAll {
		t.Errorf("MailTips(p.example) = %v, want All", got)
	}
	if got := p.MailTips(identity.Caller{Domain: "q.example"}); got != MailTipsNone {
		t.Errorf("MailTips(q.example) = %v, want None", got)
	}
}
