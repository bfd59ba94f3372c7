// Package userauth signs in our own users to the free/busy fronts (the
// iCalendar free/busy URL and the JSON endpoint): an app password or token
// issued by `calfed user token new`, sent as HTTP Basic (the user's
// address and the token, which calendar clients' free/busy settings
// support) or as a Bearer token; or the user a trusted reverse proxy
// names in a header, believed only from the proxy's configured addresses;
// or, from configured source addresses only, no one (anonymous). Nothing
// else gets in.
//
// Tokens are 256 random bits; the store keeps only their SHA-256 hash,
// enough for a secret nobody chose (a slow hash guards guessable
// passwords, and these are not).
package userauth
