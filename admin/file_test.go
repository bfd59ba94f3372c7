package admin

import (
	"bytes"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/calfed/calfed/orgrel"
)

// An apply file written to a file (private) or a writer reads back the
// same, from the file or from standard input; one that does not parse is
// named in the error.
func TestReadAndWriteFile(t *testing.T) {
	dir := t.TempDir()
	f := File{Relationships: []orgrel.Relationship{{Name: "P", Domains: []string{"p.example"}, Enabled: true}}}
	path := filepath.Join(dir, "rels.yaml")
	if err := WriteFile(path, nil, f); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("written file: %v, mode %v; want 0600", err, fi.Mode().Perm())
	}
	var out bytes.Buffer
	if err := WriteFile("", &out, f); err != nil {
		t.Fatal(err)
	}
	data, _ := os.ReadFile(path)
	if out.String() != string(data) {
		t.Errorf("to a writer:\n%s\nto a file:\n%s", out.String(), data)
	}
	for _, from := range []string{path, "-"} {
		got, err := ReadFile(from, strings.NewReader(out.String()))
		if err != nil || len(got.Relationships) != 1 || got.Relationships[0].Name != "P" {
			t.Errorf("ReadFile(%s) = %+v, %v", from, got, err)
		}
	}
	os.WriteFile(path, []byte("relationships: [{name: P, colour: blue}]\n"), 0o600)
	if _, err := ReadFile(path, nil); err == nil || !strings.HasPrefix(err.Error(), path+": ") {
		t.Errorf("ReadFile(bad) = %v; want an error naming the file", err)
	}
	if _, err := ReadFile(filepath.Join(dir, "missing.yaml"), nil); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("ReadFile(missing) = %v", err)
	}
}
