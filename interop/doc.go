// Package interop runs real EWS clients — exchangelib (Debian's
// python3-exchangelib) and ews-javascript-api (npm) — against a running
// calfed serving the embedded demo, and checks what they read against what
// the demo calendars say. It has no non-test code; `go test ./interop`
// builds calfed, starts it on loopback and drives it.
//
// The clients must be installed (.ci/run does it); a missing client fails
// the suite rather than skipping it.
package interop
