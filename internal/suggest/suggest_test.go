package suggest

import "testing"

func TestClosest(t *testing.T) {
	keys := []string{"listen", "tls", "server_name", "public_url", "reload_interval", "mailboxes"}
	for _, tc := range []struct{ word, want string }{
		{"listn", "listen"},
		{"lsiten", "listen"},
		{"LISTEN", "listen"},
		{"reload_intervall", "reload_interval"},
		{"mailbox", "mailboxes"},
		{"colour", ""},
		{"x", ""},
		{"", ""},
	} {
		if got := Closest(tc.word, keys); got != tc.want {
			t.Errorf("Closest(%q) = %q, want %q", tc.word, got, tc.want)
		}
	}
	if got := Closest("anything", nil); got != "" {
		t.Errorf("Closest with no candidates = %q, want \"\"", got)
	}
}
