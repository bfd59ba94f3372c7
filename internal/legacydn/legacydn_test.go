package legacydn

import (
	"strings"
	"testing"
)

func TestResolve(t *testing.T) {
	mailboxes := map[string]bool{"alice@contoso.example": true, "bob-smith@fabrikam.example": true, "kim@contoso.example": true}
	exists := func(a string) bool { return mailboxes[a] }
	domains := []string{"contoso.example", "fabrikam.example"}
	alice, bob := Format("alice@contoso.example"), Format("Bob-Smith@Fabrikam.example")
	if !strings.HasPrefix(alice, "/o=calfed/ou=Exchange Administrative Group (FYDIBOHF23SPDLT)/cn=Recipients/cn=") || !strings.HasSuffix(alice, "-alice") {
		t.Errorf("Format(alice) = %s", alice)
	}
	tests := []struct {
		dn, want string
	}{
		{alice, "alice@contoso.example"},
		{strings.ToUpper(alice), "alice@contoso.example"},
		{"X500:" + alice, "alice@contoso.example"},
		{"x500:" + bob, "bob-smith@fabrikam.example"},
		{strings.Replace(alice, "-alice", "-bob", 1), ""},            // hash of another address
		{Format("alice@elsewhere.example"), ""},                      // not one of our domains
		{Format("carol@contoso.example"), ""},                        // not a mailbox
		{"/o=Other/ou=Exchange Administrative Group/cn=x-alice", ""}, // not ours
		{"", ""},
		{Format("kim@contoso.example"), "kim@contoso.example"},
		{strings.Replace(Format("kim@contoso.example"), "-kim", "-\u212Aim", 1), ""}, // KELVIN SIGN: no Unicode folding
		{strings.Replace(strings.ToUpper(alice), "S", "\u017F", 1), ""},
	}
	for _, tt := range tests {
		got, ok := Resolve(tt.dn, domains, exists)
		if got != tt.want || ok != (tt.want != "") {
			t.Errorf("Resolve(%q) = %q, %v; want %q", tt.dn, got, ok, tt.want)
		}
	}
	for _, tt := range []struct {
		addr, rt string
		want     bool
	}{{alice, "EX", true}, {"alice@contoso.example", "ex", true}, {"X500:" + alice, "SMTP", true}, {alice, "", true}, {"alice@contoso.example", "SMTP", false}, {"alice@contoso.example", "", false}} {
		if got := IsDN(tt.addr, tt.rt); got != tt.want {
			t.Errorf("IsDN(%q, %q) = %v", tt.addr, tt.rt, got)
		}
	}
}

func FuzzResolve(f *testing.F) {
	f.Add(Format("alice@contoso.example"))
	f.Add("X500:/o=calfed/ou=Exchange Administrative Group (FYDIBOHF23SPDLT)/cn=Recipients/cn=0123456789abcdef-")
	f.Fuzz(func(t *testing.T, dn string) {
		if addr, ok := Resolve(dn, []string{"contoso.example"}, func(string) bool { return true }); ok && !strings.EqualFold(Format(addr), strings.TrimPrefix(strings.TrimPrefix(strings.TrimSpace(dn), "X500:"), "x500:")) {
			t.Errorf("Resolve(%q) = %q, whose DN differs", dn, addr)
		}
	})
}
