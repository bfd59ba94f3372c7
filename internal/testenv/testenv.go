// Package testenv is the one rule for tests that need something outside
// Go: a PostgreSQL server, a real EWS client (Debian's
// python3-exchangelib, ews-javascript-api from npm), a CalDAV server
// (Debian's radicale), the reference iCalendar expansion, the real-world
// calendar corpus or a headless Chromium. When the thing is missing the
// test is skipped with a message saying how to provide it, so that
// `go test ./...` passes with Go alone; when CALFED_TEST_REQUIRE names it
// (or is "all", as ./test.sh and CI set it) the test fails instead, so
// that the suite that must run everything never skips.
package testenv

import (
	"os"
	"strings"
	"testing"
)

// RequireEnv names the variable that turns skips into failures: "all", or
// a comma-separated list of the names given to Missing (for example
// "postgres,exchangelib").
const RequireEnv = "CALFED_TEST_REQUIRE"

// Names of what tests may need, as given to Missing and listed in
// RequireEnv.
const (
	Postgres         = "postgres"
	Exchangelib      = "exchangelib"
	EWSJavaScriptAPI = "ews-javascript-api"
	// RecurringICalEvents is the reference expansion of the real-world
	// corpus test: Debian's python3-recurring-ical-events and
	// python3-icalendar.
	RecurringICalEvents = "recurring-ical-events"
	// Radicale is Debian's radicale package, the CalDAV server the
	// interop suite syncs calendars from.
	Radicale = "radicale"
	// Xandikos is Debian's xandikos package, a second CalDAV server.
	Xandikos = "xandikos"
	// RealWorldCorpus is the directory of real-world calendars that
	// calendar/testdata/realworld/SOURCES.md lists.
	RealWorldCorpus = "realworld-corpus"
	// ICalendar is Debian's python3-icalendar, the independent reader of
	// the VFREEBUSY our users' free/busy URL serves.
	ICalendar = "icalendar"
	// Zsh and Fish are the shells (Debian's zsh and fish) that load the
	// completion scripts calfed completion writes for them.
	Zsh  = "zsh"
	Fish = "fish"
	// Chromium is Debian's headless browser, which the console's browser
	// tests drive.
	Chromium = "chromium"
)

// PostgresEnv names the administrative connection URL of the PostgreSQL
// server the tests use (./test.sh starts one on loopback and sets it).
const PostgresEnv = "CALFED_TEST_POSTGRES"

// Required reports whether RequireEnv asks for name: a missing name then
// fails the test instead of skipping it.
func Required(name string) bool {
	for _, v := range strings.Split(os.Getenv(RequireEnv), ",") {
		if v = strings.TrimSpace(v); v == "all" || v == name {
			return true
		}
	}
	return false
}

// Missing ends t because name is not available: it skips t, or fails it
// when Required(name). why says what is missing, how how to provide it.
func Missing(t testing.TB, name, why, how string) {
	t.Helper()
	if Required(name) {
		t.Fatalf("%s: %s (%s is %q, so this test may not be skipped; %s)", name, why, RequireEnv, os.Getenv(RequireEnv), how)
		return
	}
	t.Skipf("skipped: %s: %s (%s; set %s=all to make this a failure)", name, why, how, RequireEnv)
}

// PostgresURL returns the administrative connection URL of the test
// PostgreSQL server, or ends t through Missing when none is configured.
func PostgresURL(t testing.TB) string {
	t.Helper()
	u := os.Getenv(PostgresEnv)
	if u == "" {
		Missing(t, Postgres, PostgresEnv+" is not set",
			"run ./test.sh, which starts PostgreSQL on loopback, or point "+PostgresEnv+" at a server where the user may create databases")
	}
	return u
}
