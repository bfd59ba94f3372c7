package cli

import (
	"regexp"
	"strings"
)

// internalPrefix is the package prefix a Go error of calfed's carries
// ("store: ", "orgrel: "), at the start of a message or after another
// message's ": ".
var internalPrefix = regexp.MustCompile(`(^|: )((admin|autodiscover|calendar|certs|config|conformance|delegation|dnsproof|domainname|ews|federation|freebusy|live|mailtips|managedelegation|orgrel|partner|server|store|sts|trust|wsfed|wstrust): )+`)

// Plain is an error's message as a user reads it: without the package
// prefixes calfed's errors carry for programmers ("store: invalid value:
// -level: orgrel: unknown access level" reads "-level: unknown access
// level"), and without "invalid value" where the message goes on to say
// what is wrong.
func Plain(err error) string {
	msg := internalPrefix.ReplaceAllString(err.Error(), "$1")
	for _, noise := range []string{"invalid value: ", "invalid: "} {
		if strings.HasPrefix(msg, noise) && len(msg) > len(noise) {
			msg = msg[len(noise):]
		}
		msg = strings.ReplaceAll(msg, ": "+noise, ": ")
	}
	return msg
}
