package shellquote

import (
	"os/exec"
	"strings"
	"testing"
)

func TestWord(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"Northshire", "Northshire"},
		{"northshire.example", "northshire.example"},
		{"alice@contoso.example", "alice@contoso.example"},
		{"Northshire NHS Trust", "'Northshire NHS Trust'"},
		{"St Mary's", `'St Mary'\''s'`},
		{"", "''"},
		{"$(rm -rf /)", "'$(rm -rf /)'"},
		{"a*b", "'a*b'"},
	} {
		if got := Word(tc.in); got != tc.want {
			t.Errorf("Word(%q) = %s, want %s", tc.in, got, tc.want)
		}
	}
}

// TestShellReadsBack checks with a real shell that each quoted word comes
// back as the one word it was.
func TestShellReadsBack(t *testing.T) {
	sh, err := exec.LookPath("sh")
	if err != nil {
		t.Skip("no sh")
	}
	words := []string{"Northshire NHS Trust", "St Mary's", "", "$(echo x)", "tab\there", "back\\slash", `"dq"`, "new\nline"}
	script := "for w in " + Join(words...) + `; do printf '%s\0' "$w"; done`
	got, err := exec.Command(sh, "-c", script).Output()
	if err != nil {
		t.Fatal(err)
	}
	if back := strings.Split(strings.TrimSuffix(string(got), "\x00"), "\x00"); strings.Join(back, "|") != strings.Join(words, "|") {
		t.Errorf("sh read %q back as %q", words, back)
	}
}
