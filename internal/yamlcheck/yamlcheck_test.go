package yamlcheck

import (
	"reflect"
	"strings"
	"testing"
	"time"
)

type doc struct {
	Wait  time.Duration     `yaml:"wait"`
	When  *time.Time        `yaml:"when"`
	Items []struct{ N int } `yaml:"items"`
	Tags  map[string]bool   `yaml:"tags"`
	Skip  string            `yaml:"-"`
}

func TestCheck(t *testing.T) {
	lines, errs := Check([]byte("wait: 2\nwhen: 2026-11-20\nitems: [{n: x}]\ntags: {a: yes, b: perhaps}\nskip: 1\n"), reflect.TypeFor[doc]())
	got := Under("invalid", errs...).Error()
	for _, want := range []string{
		`line 1: wait: "2" is not a duration`,
		`line 3: items[0].n: "x" is not a whole number`,
		`line 4: tags[b]: "perhaps" is not true or false`,
		"line 5: skip: unknown key",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("Check problems lack %q:\n%s", want, got)
		}
	}
	if strings.Contains(got, "line 2:") || strings.Contains(got, "tags[a]") {
		t.Errorf("Check refused a date or yes:\n%s", got)
	}
	if lines.Of("items[0].n") != 3 || lines.Of("tags[a]") != 4 || lines.Of("nothing.here") != 0 || lines.Of("when.deeper") != 2 {
		t.Errorf("lines = %v", lines)
	}
	if _, errs := Check([]byte("a: [\n"), reflect.TypeFor[doc]()); len(errs) != 1 || !strings.HasPrefix(errs[0].Error(), "line 1: not valid YAML") {
		t.Errorf("broken YAML = %v", errs)
	}
}

func TestFieldOf(t *testing.T) {
	for msg, want := range map[string]string{
		"tls.key_file: x":                         "tls.key_file",
		"mailboxes[1] (b@example.org).kind: bad":  "mailboxes[1] (b@example.org).kind",
		"tls: cert_file and key_file go together": "tls",
		"no field here at all":                    "",
		"two words: then":                         "",
	} {
		if got := FieldOf(msg); got != want {
			t.Errorf("FieldOf(%q) = %q, want %q", msg, got, want)
		}
	}
}

func TestDecode(t *testing.T) {
	var d doc
	if _, errs := Decode([]byte("wait: 2s\nitems: [{n: 3}, {n: 4}]\ntags: {a: yes}\n"), &d); len(errs) > 0 {
		t.Fatal(errs)
	}
	if d.Wait != 2*time.Second || len(d.Items) != 2 || d.Items[1].N != 4 || !d.Tags["a"] {
		t.Errorf("decoded %+v", d)
	}
	d = doc{Skip: "kept"}
	if _, errs := Decode([]byte("wait: 2s\nwhat: 1\n"), &d); len(errs) != 1 || d.Wait != 0 {
		t.Errorf("a document with an unknown key: %v, decoded %+v", errs, d)
	}
	if _, errs := Decode(nil, &d); len(errs) > 0 || d.Skip != "kept" {
		t.Errorf("an empty document: %v, %+v", errs, d)
	}
}
