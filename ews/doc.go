// Package ews is calfed's Exchange Web Services endpoint: GetUserAvailability
// ([MS-OXWAVLS]) decoded, answered by the free/busy core (package freebusy,
// which decides access, view and redaction) and rendered as Exchange
// renders it; GetServerTimeZones for clients that build their request time
// zone from the server's; and a proper EWS error for every other operation.
//
// The handler reads the verified caller from the request context
// (internal/identity); it never looks at credentials. Protocol facts are
// cited as docs/protocol.md §n beside the code.
package ews
