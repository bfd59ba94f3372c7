package domainname

import (
	"errors"
	"strings"
	"testing"
)

func TestCanonical(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{"contoso.example", "contoso.example"},
		{"Contoso.EXAMPLE", "contoso.example"},
		{"contoso.example.", "contoso.example"},
		{"bücher.example", "xn--bcher-kva.example"},
		{"Bücher.example", "xn--bcher-kva.example"},
		{"xn--bcher-kva.example", "xn--bcher-kva.example"},
		{"XN--BCHER-KVA.example", "xn--bcher-kva.example"},
		{"ß.example", "xn--zca.example"}, // IDNA2008: ß is a letter of its own
		{"localhost", "localhost"},
		{"a-b.example", "a-b.example"},
		{"1.example", "1.example"},
		{"example.c0m", "example.c0m"},
		{strings.Repeat("a", 63) + ".example", strings.Repeat("a", 63) + ".example"},
	} {
		got, err := Canonical(tt.in)
		if err != nil || got != tt.want {
			t.Errorf("Canonical(%q) = %q, %v, want %q", tt.in, got, err, tt.want)
		}
		if again, err := Canonical(got); err != nil || again != got {
			t.Errorf("Canonical(%q) = %q, %v: not idempotent", got, again, err)
		}
	}
}

// The spellings a mapping would fold onto another domain name, and
// everything else that is not a host name, name nothing.
func TestCanonicalRefuses(t *testing.T) {
	for _, in := range []string{
		"\u212Aelvin.example",    // KELVIN SIGN: strings.ToLower and UTS #46 make it kelvin.example
		"\u212Bngstrom.example",  // ANGSTROM SIGN
		"ｃontoso.example",        // fullwidth c
		"BÜCHER.example",         // a capital U-label letter: mapped, not registrable
		"xn--elvin-r74b.example", // the A-label of \u212Aelvin
		"contoso.example\u3002com",
		"",
		".",
		"contoso..example",
		"contoso.example..",
		".contoso.example",
		"-contoso.example",
		"contoso-.example",
		"ab--cd.example",
		"a_b.example",
		"a b.example",
		"alice@contoso.example",
		"contoso.example/x",
		"contoso.example:443",
		"xn--zz.example",
		"192.0.2.1",
		"example.123",
		"a\u200d.example", // ZERO WIDTH JOINER outside its context
		"\xff.example",
		strings.Repeat("a", 64) + ".example",
		strings.Repeat("abcdefghi.", 26) + "example",
	} {
		got, err := Canonical(in)
		if !errors.Is(err, ErrInvalid) {
			t.Errorf("Canonical(%q) = %q, %v, want ErrInvalid", in, got, err)
			continue
		}
		if !strings.Contains(err.Error(), "domain name ") {
			t.Errorf("Canonical(%q): %v does not name the domain", in, err)
		}
	}
}

// A refusal says how the name it resembles is written.
func TestCanonicalSaysWhatItResembles(t *testing.T) {
	_, err := Canonical("\u212Aelvin.example")
	if err == nil || !strings.Contains(err.Error(), `"\u212aelvin.example"`) || !strings.Contains(err.Error(), "written kelvin.example") {
		t.Errorf("Canonical(KELVIN SIGN) = %v", err)
	}
}

func TestAddress(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{"alice@contoso.example", "alice@contoso.example"},
		{"Alice@Contoso.Example", "alice@contoso.example"},
		{"ALICE@bücher.example", "alice@xn--bcher-kva.example"},
		{"jürgen@contoso.example", "jürgen@contoso.example"},
		{"JÜRGEN@contoso.example", "jÜrgen@contoso.example"}, // non-ASCII kept as it is
		{"\u212Aim@contoso.example", "\u212Aim@contoso.example"},
		{"first.last+tag@contoso.example.", "first.last+tag@contoso.example"},
	} {
		got, err := Address(tt.in)
		if err != nil || got != tt.want {
			t.Errorf("Address(%q) = %q, %v, want %q", tt.in, got, err, tt.want)
		}
	}
	// The Kelvin trick maps no address onto another.
	k, _ := Address("\u212Aim@contoso.example")
	if kim, _ := Address("kim@contoso.example"); k == kim {
		t.Errorf("Address(KELVIN SIGN + im) = Address(kim) = %q", k)
	}
	for _, in := range []string{
		"", "alice", "@contoso.example", "alice@", "a@b@contoso.example", "alice @contoso.example",
		"alice\t@contoso.example", "alice@\u212Aelvin.example", "alice@contoso..example", "alice@192.0.2.1", "\xff@contoso.example",
	} {
		if got, err := Address(in); !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), "mail address ") {
			t.Errorf("Address(%q) = %q, %v, want ErrInvalid naming it", in, got, err)
		}
	}
	if d, err := DomainOf("Alice@Bücher.example"); err != nil || d != "xn--bcher-kva.example" {
		t.Errorf("DomainOf = %q, %v", d, err)
	}
	if _, err := DomainOf("alice@\u212Aelvin.example"); !errors.Is(err, ErrInvalid) {
		t.Errorf("DomainOf(KELVIN SIGN) = %v", err)
	}
}

// Whatever comes in, what goes out is its own canonical form, ASCII only.
func FuzzCanonical(f *testing.F) {
	for _, s := range []string{"contoso.example", "Bücher.example.", "\u212Aelvin.example", "xn--bcher-kva.example", "a..b", "alice@contoso.example"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		c, err := Canonical(s)
		if err != nil {
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("Canonical(%q) = %v, not ErrInvalid", s, err)
			}
			return
		}
		for i := 0; i < len(c); i++ {
			if b := c[i]; !(b >= 'a' && b <= 'z' || b >= '0' && b <= '9' || b == '-' || b == '.') {
				t.Fatalf("Canonical(%q) = %q holds %q", s, c, b)
			}
		}
		if again, err := Canonical(c); err != nil || again != c {
			t.Fatalf("Canonical(%q) = %q, but Canonical(%q) = %q, %v", s, c, c, again, err)
		}
		if a, err := Address("x@" + s); err != nil || a != "x@"+c {
			t.Fatalf("Address(x@%q) = %q, %v, want x@%s", s, a, err, c)
		}
	})
}

func TestEqualFoldASCII(t *testing.T) {
	for _, tt := range []struct {
		a, b string
		want bool
	}{
		{"http://FYDIBOHF25SPDLT.Contoso.example", "http://fydibohf25spdlt.contoso.EXAMPLE", true},
		{"kim", "\u212Aim", false},         // KELVIN SIGN
		{"contoso", "conto\u017Fo", false}, // LONG S
		{"Jürgen", "jürgen", true},
		{"JÜRGEN", "jürgen", false},
		{"a", "ab", false},
	} {
		if got := EqualFoldASCII(tt.a, tt.b); got != tt.want {
			t.Errorf("EqualFoldASCII(%q, %q) = %v", tt.a, tt.b, got)
		}
	}
}
