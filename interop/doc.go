// Package interop runs real EWS clients — exchangelib (Debian's
// python3-exchangelib) and ews-javascript-api (npm) — against a running
// calfed serving the embedded demo, and checks what they read against what
// the demo calendars say. It has no non-test code; `go test ./interop`
// builds calfed, starts it on loopback and drives it.
//
// TestRealWorldCorpus compares calendar.Parse with an independent RFC 5545
// expansion (python/expand_reference.py, on Debian's python3-icalendar and
// python3-recurring-ical-events) over the real-world calendars that
// calendar/testdata/realworld/SOURCES.md lists; every difference is listed
// in DIFFERENCES.md beside it, with its reason.
//
// The clients must be installed for their tests to run (./test.sh, which
// CI runs, installs them). Without them `go test ./...` skips those tests
// and says so; with CALFED_TEST_REQUIRE=all, as ./test.sh sets it, a
// missing client fails them (internal/testenv).
package interop
