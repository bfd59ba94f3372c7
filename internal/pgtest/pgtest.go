// Package pgtest gives tests a PostgreSQL database of their own on the
// server named by CALFED_TEST_POSTGRES, which ./test.sh starts on
// loopback. Without a server the test is skipped, or fails when
// CALFED_TEST_REQUIRE asks for PostgreSQL (./test.sh sets it to "all"):
// the rule is internal/testenv's.
package pgtest

import (
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"strings"
	"testing"

	_ "github.com/jackc/pgx/v5/stdlib"

	"github.com/calfed/calfed/internal/testenv"
)

// Env names the administrative connection URL.
const Env = testenv.PostgresEnv

// Database creates an empty database, drops it when the test ends, and
// returns its connection URL. Without a server it ends t as
// testenv.PostgresURL says.
func Database(t testing.TB) string {
	t.Helper()
	admin := testenv.PostgresURL(t)
	i := strings.LastIndex(admin, "/")
	if !strings.HasPrefix(admin, "postgres://") && !strings.HasPrefix(admin, "postgresql://") || i < len("postgres://") {
		t.Fatalf("%s must be a postgres:// URL ending in a database name", Env)
	}
	b := make([]byte, 6)
	rand.Read(b)
	name := "calfed_test_" + hex.EncodeToString(b)
	db, err := sql.Open("pgx", admin)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec("CREATE DATABASE " + name); err != nil {
		db.Close()
		t.Fatalf("creating test database: %v", err)
	}
	t.Cleanup(func() {
		db.Exec("DROP DATABASE " + name + " WITH (FORCE)")
		db.Close()
	})
	q := ""
	if j := strings.IndexByte(admin[i:], '?'); j >= 0 {
		q = admin[i+j:]
	}
	return admin[:i+1] + name + q
}
