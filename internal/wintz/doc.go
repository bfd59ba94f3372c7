// Package wintz bridges Windows time zones, as EWS speaks them, and the IANA
// database Go uses: the CLDR id mapping, the rule-based zones of EWS's legacy
// SerializableTimeZone and TimeZoneDefinition elements turned into
// *time.Location values, and the reverse, a rule read off an IANA zone for
// one year.
package wintz

//go:generate go run ./gen
