package config

import (
	"strings"
	"testing"
)

// Parse never panics, and what it refuses it refuses with problems
// that each have a line or name no field.
func FuzzParse(f *testing.F) {
	for _, seed := range []string{
		"listen: 127.0.0.1:1\nmailboxes: [{address: a@b.example, calendar: a.ics}]\n",
		"listn: 1\ncalendars: {reload_interval: 2}\n",
		"tls: [a]\nmailboxes: {a: b}\n",
		"a: &x {b: *x}\n",
		"store: {heartbeat: 5s, max_policy_age: 1s}\nautodiscover: {redirect_addresses: {a: [b]}}\n",
		"mailboxes:\n  - working_hours: {days: 1}\n    auto_reply: []\n",
		"--- \n...\n",
		"federation: {allow_token_reuse: maybe}\n",
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		_, err := Parse(data)
		if err == nil {
			return
		}
		msg := err.Error()
		if !strings.HasPrefix(msg, "invalid configuration:\n") {
			t.Errorf("Parse error %q lacks its heading", msg)
		}
		for _, leak := range []string{"config.Config", "config.MailboxConfig", "!!"} {
			if strings.Contains(msg, leak) {
				t.Errorf("Parse error names Go internals (%q): %s", leak, msg)
			}
		}
	})
}
