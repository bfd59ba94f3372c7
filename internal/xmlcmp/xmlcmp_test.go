package xmlcmp

import "testing"

func TestDiff(t *testing.T) {
	same := [][2]string{
		{`<a:x xmlns:a="urn:n" k="1" j="2"><a:y>t</a:y></a:x>`, `<x xmlns="urn:n" j="2" k="1">  <y>t</y>
</x>`},
	}
	for _, p := range same {
		if d, err := Diff([]byte(p[0]), []byte(p[1])); err != nil || d != "" {
			t.Errorf("Diff(%s, %s) = %q, %v; want equal", p[0], p[1], d, err)
		}
	}
	differ := [][2]string{
		{`<x xmlns="urn:n"/>`, `<x xmlns="urn:m"/>`},
		{`<x><y/><z/></x>`, `<x><z/><y/></x>`},
		{`<x k="1"/>`, `<x k="2"/>`},
		{`<x>a</x>`, `<x>b</x>`},
	}
	for _, p := range differ {
		if d, err := Diff([]byte(p[0]), []byte(p[1])); err != nil || d == "" {
			t.Errorf("Diff(%s, %s) = %q, %v; want a difference", p[0], p[1], d, err)
		}
	}
}
