package xmltree

import (
	"testing"

	"github.com/beevik/etree"
)

func TestLookups(t *testing.T) {
	doc := etree.NewDocument()
	if err := doc.ReadFromString(`<a xmlns="urn:a" xmlns:b="urn:b"><b:x>AQI=</b:x><x/><c><b:x>
		AQ
		I=</b:x></c></a>`); err != nil {
		t.Fatal(err)
	}
	root := doc.Root()
	if got := len(Children(root, "urn:b", "x")); got != 1 {
		t.Errorf("Children(a, b:x) = %d elements, want 1", got)
	}
	if got := len(FindAll(root, "urn:b", "x")); got != 2 {
		t.Errorf("FindAll(a, b:x) = %d elements, want 2", got)
	}
	if Find(root, "urn:none", "x") != nil || Find(nil, "urn:b", "x") != nil {
		t.Errorf("Find found what is not there")
	}
	for _, el := range FindAll(root, "urn:b", "x") {
		if b, err := Base64(el); err != nil || len(b) != 2 {
			t.Errorf("Base64(%q) = %v, %v", el.Text(), b, err)
		}
	}
}
