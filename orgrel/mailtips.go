package orgrel

import (
	"fmt"
	"strings"
)

// MailTipsLevel is a relationship's MailTipsAccessLevel: how much of the
// MailTips of our recipients a partner's senders get. Ordered: None <
// Limited < All. docs/protocol.md §8.1.
type MailTipsLevel int

const (
	// MailTipsNone returns no MailTips; Exchange's default.
	MailTipsNone MailTipsLevel = iota
	// MailTipsLimited returns the MailTips that spare the sender a
	// non-delivery report or an automatic reply: invalid recipient, the
	// external auto-reply, mailbox full, message size and delivery
	// restrictions.
	MailTipsLimited
	// MailTipsAll adds the rest: custom MailTips, audience size and
	// moderation.
	MailTipsAll
)

var mailTipsLevelNames = [...]string{"None", "Limited", "All"}

func (l MailTipsLevel) String() string {
	if l >= MailTipsNone && int(l) < len(mailTipsLevelNames) {
		return mailTipsLevelNames[l]
	}
	return fmt.Sprintf("MailTipsLevel(%d)", int(l))
}

// ParseMailTipsLevel accepts the Exchange names, case-insensitively; the
// empty string is None, so that records written before the level existed
// read as Exchange's default.
func ParseMailTipsLevel(s string) (MailTipsLevel, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return MailTipsNone, nil
	}
	for i, n := range mailTipsLevelNames {
		if strings.EqualFold(s, n) {
			return MailTipsLevel(i), nil
		}
	}
	return MailTipsNone, fmt.Errorf("orgrel: unknown MailTips access level %q (want None, Limited or All)", s)
}

func (l MailTipsLevel) MarshalText() ([]byte, error) { return []byte(l.String()), nil }

func (l *MailTipsLevel) UnmarshalText(b []byte) error {
	v, err := ParseMailTipsLevel(string(b))
	if err != nil {
		return err
	}
	*l = v
	return nil
}

// DecideMailTips is the MailTips level a partner's senders get for our
// recipients over rel, the relationship of the caller's domain (nil if
// there is none): None unless the relationship is enabled and has MailTips
// access enabled, else its MailTipsAccessLevel. docs/protocol.md §8.1.
func DecideMailTips(rel *Relationship) MailTipsLevel {
	if rel == nil || !rel.Enabled || !rel.MailTipsAccessEnabled {
		return MailTipsNone
	}
	return rel.MailTipsAccessLevel
}
