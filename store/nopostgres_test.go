package store

import (
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"

	"github.com/calfed/calfed/internal/testenv"
)

// childEnv marks the run TestPassesWithoutPostgres starts, so that the run
// does not start another.
const childEnv = "CALFED_STORE_NO_POSTGRES_CHILD"

// `go test ./store/` on a machine with Go alone passes: every SQLite
// subtest runs and passes, and every PostgreSQL one is skipped, saying why.
// This test binary runs all its tests again with the PostgreSQL and
// requirement variables removed, whatever the environment of this run, so
// it checks that rule under ./test.sh (which has PostgreSQL) too; running
// the same binary needs no compiler, cache or network in the test.
func TestPassesWithoutPostgres(t *testing.T) {
	if os.Getenv(childEnv) != "" {
		t.Skip("the run without PostgreSQL this test started")
	}
	cmd := exec.Command(os.Args[0], "-test.v", "-test.count=1", "-test.timeout=5m")
	for _, kv := range os.Environ() {
		name, _, _ := strings.Cut(kv, "=")
		if name != testenv.PostgresEnv && name != testenv.RequireEnv {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	cmd.Env = append(cmd.Env, childEnv+"=1")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("the store tests without %s: %v\n%s", testenv.PostgresEnv, err, out)
	}
	results := map[string]string{} // test name → PASS, FAIL or SKIP
	for _, m := range regexp.MustCompile(`--- (PASS|FAIL|SKIP): (\S+)`).FindAllStringSubmatch(string(out), -1) {
		results[m[2]] = m[1]
	}
	skipped := 0
	for name, result := range results {
		test, ok := strings.CutSuffix(name, "/postgres")
		if !ok {
			continue
		}
		skipped++
		if result != "SKIP" {
			t.Errorf("%s: %s without PostgreSQL, want SKIP", name, result)
		}
		if got := results[test+"/sqlite"]; got != "PASS" {
			t.Errorf("%s/sqlite: %q without PostgreSQL, want PASS", test, got)
		}
	}
	if skipped == 0 {
		t.Errorf("no PostgreSQL subtest was skipped:\n%s", out)
	}
	if !strings.Contains(string(out), testenv.PostgresEnv+" is not set") {
		t.Errorf("the skips do not say why:\n%s", out)
	}
	for name, result := range results {
		if result == "FAIL" {
			t.Errorf("%s failed without PostgreSQL", name)
		}
	}
}
