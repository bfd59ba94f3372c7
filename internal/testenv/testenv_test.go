package testenv

import (
	"fmt"
	"strings"
	"testing"
)

// recorder is a testing.TB that records how Missing ended the test.
type recorder struct {
	testing.TB
	skipped, failed string
}

func (r *recorder) Helper()                        {}
func (r *recorder) Skipf(format string, a ...any)  { r.skipped = fmt.Sprintf(format, a...) }
func (r *recorder) Fatalf(format string, a ...any) { r.failed = fmt.Sprintf(format, a...) }

func TestMissing(t *testing.T) {
	tests := []struct {
		require string
		fails   bool
	}{
		{"", false},
		{"all", true},
		{"postgres", true},
		{"exchangelib, postgres", true},
		{"exchangelib", false},
		{"postgresql", false},
		{"ALL", false},
	}
	for _, tt := range tests {
		t.Run(tt.require, func(t *testing.T) {
			t.Setenv(RequireEnv, tt.require)
			if got := Required(Postgres); got != tt.fails {
				t.Errorf("Required(%q) with %s=%q = %v, want %v", Postgres, RequireEnv, tt.require, got, tt.fails)
			}
			r := &recorder{TB: t}
			Missing(r, Postgres, "no server", "start one")
			switch {
			case tt.fails && (r.failed == "" || r.skipped != ""):
				t.Errorf("Missing with %s=%q: skipped %q, failed %q; want a failure", RequireEnv, tt.require, r.skipped, r.failed)
			case !tt.fails && (r.skipped == "" || r.failed != ""):
				t.Errorf("Missing with %s=%q: skipped %q, failed %q; want a skip", RequireEnv, tt.require, r.skipped, r.failed)
			}
			if msg := r.skipped + r.failed; !strings.Contains(msg, "no server") || !strings.Contains(msg, "start one") {
				t.Errorf("Missing says %q: it should say what is missing and how to provide it", msg)
			}
		})
	}
}

func TestPostgresURL(t *testing.T) {
	t.Setenv(PostgresEnv, "")
	t.Setenv(RequireEnv, "all")
	r := &recorder{TB: t}
	PostgresURL(r)
	if r.failed == "" {
		t.Errorf("PostgresURL with %s unset and %s=all did not fail", PostgresEnv, RequireEnv)
	}
	t.Setenv(RequireEnv, "")
	r = &recorder{TB: t}
	PostgresURL(r)
	if r.skipped == "" || r.failed != "" {
		t.Errorf("PostgresURL with %s unset: skipped %q, failed %q; want a skip", PostgresEnv, r.skipped, r.failed)
	}
	t.Setenv(PostgresEnv, "postgres://u@h/db")
	if got := PostgresURL(t); got != "postgres://u@h/db" {
		t.Errorf("PostgresURL = %q, want the variable's value", got)
	}
}
