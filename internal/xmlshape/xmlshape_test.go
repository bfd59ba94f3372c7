package xmlshape

import (
	"slices"
	"testing"

	"github.com/beevik/etree"
)

func parse(t *testing.T, s string) *etree.Element {
	t.Helper()
	d := etree.NewDocument()
	if err := d.ReadFromString(s); err != nil {
		t.Fatal(err)
	}
	return d.Root()
}

func TestCompare(t *testing.T) {
	want := `<a:r xmlns:a="urn:a" xmlns:b="urn:b"><a:x b:id="1" k="v">text</a:x><a:y>t</a:y><a:z><a:deep/></a:z></a:r>`
	rules := Rules{Varying: []string{"r/x/@id", "r/y"}, Skip: []string{"r/z"}}
	for _, tt := range []struct {
		name, got string
		diffs     []string
	}{
		{"other prefixes, declarations and whitespace", `<r xmlns="urn:a">
			<x xmlns:q="urn:b" q:id="2" k="v">text</x> <y>other</y><z><other/></z></r>`, nil},
		{"an attribute's namespace", `<r xmlns="urn:a"><x id="1" k="v">text</x><y>t</y><z/></r>`,
			[]string{"r/x/@id: missing attribute {urn:b}id", "r/x/@id: unexpected attribute {}id"}},
		{"a fixed value", `<r xmlns="urn:a"><x xmlns:b="urn:b" b:id="1" k="w">text</x><y>t</y><z/></r>`, []string{`r/x/@k: "w", want "v"`}},
		{"order", `<r xmlns="urn:a"><y>t</y><x xmlns:b="urn:b" b:id="1" k="v">text</x><z/></r>`,
			[]string{"r/y: unexpected {urn:a}y", "r/y: missing {urn:a}y"}},
		{"a missing element", `<r xmlns="urn:a"><x xmlns:b="urn:b" b:id="1" k="v">text</x><z/></r>`, []string{"r/y: missing {urn:a}y"}},
		{"an element's namespace", `<r xmlns="urn:a"><x xmlns:b="urn:b" b:id="1" k="v">text</x><y xmlns="urn:b">t</y><z/></r>`,
			[]string{"r/y: missing {urn:a}y", "r/y: unexpected {urn:b}y"}},
		{"an empty varying value", `<r xmlns="urn:a"><x xmlns:b="urn:b" b:id="1" k="v">text</x><y/><z/></r>`, []string{`r/y: text "", want "t"`}},
	} {
		got := Compare(parse(t, want), parse(t, tt.got), rules)
		if !slices.Equal(got, tt.diffs) {
			t.Errorf("%s: Compare = %q, want %q", tt.name, got, tt.diffs)
		}
	}
	deliberate := rules
	deliberate.Deliberate = map[string]string{"r/x/@k": "because"}
	if got := Compare(parse(t, want), parse(t, `<r xmlns="urn:a"><x xmlns:b="urn:b" b:id="1" k="w">text</x><y>t</y><z/></r>`), deliberate); len(got) != 0 {
		t.Errorf("Compare with a deliberate difference = %q", got)
	}
}
