package config

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestFind(t *testing.T) {
	dir := t.TempDir()
	other := filepath.Join(dir, "other.yaml")
	os.WriteFile(other, []byte("{}"), 0o644)
	t.Chdir(dir)
	t.Setenv(Env, "")
	if _, err := Find(""); !errors.Is(err, ErrNoConfig) {
		t.Errorf("Find with nothing = %v, want ErrNoConfig", err)
	}
	os.WriteFile(DefaultFile, []byte("{}"), 0o644)
	for _, tc := range []struct {
		flag, env, want, err string
	}{
		{"", "", DefaultFile, ""},
		{"", other, other, ""},
		{other, "nope.yaml", other, ""},
		{"", "nope.yaml", "", "$CALFED_CONFIG names nope.yaml: no such file"},
		{"nope.yaml", "", "", "-config names nope.yaml: no such file"},
	} {
		t.Setenv(Env, tc.env)
		got, err := Find(tc.flag)
		if got != tc.want || (err == nil) != (tc.err == "") || err != nil && !strings.Contains(err.Error(), tc.err) {
			t.Errorf("Find(%q) with $%s=%q = %q, %v; want %q, %q", tc.flag, Env, tc.env, got, err, tc.want, tc.err)
		}
	}
}
