package mailtips

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/calfed/calfed/calendar"
	"github.com/calfed/calfed/internal/accesslog"
	"github.com/calfed/calfed/internal/identity"
	"github.com/calfed/calfed/orgrel"
)

// Directory is where mailboxes and their events come from
// (*calendar.Directory).
type Directory interface {
	Lookup(address string) (*calendar.Mailbox, bool)
	// AppendEvents appends the mailbox's events overlapping [from, to).
	AppendEvents(ctx context.Context, dst []calendar.Event, address string, from, to time.Time) ([]calendar.Event, error)
}

// Access decides what a caller may see (*orgrel.Policy, or the server's
// live policy): the MailTips level of the caller's relationship, and the
// free/busy decision that guards what a calendar reveals.
type Access interface {
	MailTips(caller identity.Caller) orgrel.MailTipsLevel
	Access(caller identity.Caller, mailbox string, groups []string) orgrel.Decision
}

// Types is a set of MailTips, as MailTipsRequested names them
// ([MS-OXWSMTIP] MailTipTypes). docs/protocol.md §8.2.
type Types uint16

const (
	OutOfOfficeMessage Types = 1 << iota
	MailboxFullStatus
	CustomMailTip
	ExternalMemberCount
	TotalMemberCount
	MaxMessageSize
	DeliveryRestriction
	ModerationStatus
	InvalidRecipient

	All = OutOfOfficeMessage | MailboxFullStatus | CustomMailTip | ExternalMemberCount | TotalMemberCount |
		MaxMessageSize | DeliveryRestriction | ModerationStatus | InvalidRecipient
)

var typeNames = []struct {
	name string
	t    Types
}{
	{"All", All},
	{"OutOfOfficeMessage", OutOfOfficeMessage},
	{"MailboxFullStatus", MailboxFullStatus},
	{"CustomMailTip", CustomMailTip},
	{"ExternalMemberCount", ExternalMemberCount},
	{"TotalMemberCount", TotalMemberCount},
	{"MaxMessageSize", MaxMessageSize},
	{"DeliveryRestriction", DeliveryRestriction},
	{"ModerationStatus", ModerationStatus},
	{"InvalidRecipient", InvalidRecipient},
}

// ParseTypes reads a MailTipsRequested list: names separated by white
// space. Names calfed does not know (later schemas add Scope,
// RecipientSuggestions, PreferAccessibleContent) are ignored, so that
// newer clients are answered with what there is.
func ParseTypes(s string) Types {
	var t Types
	for _, f := range strings.Fields(s) {
		for _, n := range typeNames {
			if f == n.name {
				t |= n.t
			}
		}
	}
	return t
}

// limited are the MailTips MailTipsAccessLevel Limited allows: those that
// spare the sender a non-delivery report or an automatic reply. docs/protocol.md
// §8.1.
const limited = OutOfOfficeMessage | MailboxFullStatus | MaxMessageSize | DeliveryRestriction | InvalidRecipient

// Allowed is the set of MailTips a level lets through.
func Allowed(l orgrel.MailTipsLevel) Types {
	switch l {
	case orgrel.MailTipsLimited:
		return limited
	case orgrel.MailTipsAll:
		return All
	}
	return 0
}

// OutOfOffice is a recipient's automatic reply as a MailTip. An empty
// Message means the recipient has none switched on.
type OutOfOffice struct {
	Message    string
	Start, End time.Time // the period, when known; zero otherwise
}

// Result is the answer for one recipient. Set says which MailTips it
// carries; the fields of the others are zero.
type Result struct {
	Address string // as asked
	Level   orgrel.MailTipsLevel
	Set     Types

	InvalidRecipient bool
	OutOfOffice      OutOfOffice
	CustomMailTip    string
	TotalMembers     int // a mailbox counts 1
	ExternalMembers  int // and none of it is external
}

// Options configure a Service. Directory and Access are required.
type Options struct {
	Directory Directory
	Access    Access
	Logger    *slog.Logger     // nil discards
	Now       func() time.Time // default time.Now
}

// Service answers MailTips questions.
type Service struct {
	opt Options
	log *slog.Logger
}

// New returns a Service.
func New(opt Options) *Service {
	if opt.Now == nil {
		opt.Now = time.Now
	}
	s := &Service{opt: opt, log: opt.Logger}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	return s
}

// Recipient answers which of the requested MailTips caller gets for
// address. It never fails: a calendar that cannot be read only leaves the
// automatic reply to the configuration.
//
// What the caller was given is noted in the request's access log entry
// (internal/accesslog): the MailTips level as the view, and NoAccess when
// the level gives none of the MailTips asked for, NotFound for a recipient
// not ours.
func (s *Service) Recipient(ctx context.Context, caller identity.Caller, requested Types, address string) Result {
	r, canonical, outcome := s.recipient(ctx, caller, requested, address)
	view := "None"
	if outcome == "OK" {
		view = "MailTips" + r.Level.String()
	}
	accesslog.Note(ctx, canonical, view, outcome)
	return r
}

func (s *Service) recipient(ctx context.Context, caller identity.Caller, requested Types, address string) (Result, string, string) {
	level := s.opt.Access.MailTips(caller)
	r := Result{Address: address, Level: level}
	want := requested & Allowed(level)
	if want == 0 {
		return r, address, "NoAccess"
	}
	mb, ok := s.opt.Directory.Lookup(strings.TrimSpace(address))
	if !ok {
		// Not one of ours, or unknown: mail to it would bounce. docs/protocol.md §8.2.
		if want&InvalidRecipient != 0 {
			r.Set |= InvalidRecipient
			r.InvalidRecipient = true
		}
		return r, address, "NotFound"
	}
	if want&InvalidRecipient != 0 {
		r.Set |= InvalidRecipient
	}
	if want&OutOfOfficeMessage != 0 {
		r.Set |= OutOfOfficeMessage
		r.OutOfOffice = s.outOfOffice(ctx, caller, mb)
	}
	if want&CustomMailTip != 0 && mb.MailTip != "" {
		r.Set |= CustomMailTip
		r.CustomMailTip = mb.MailTip
	}
	if want&TotalMemberCount != 0 {
		r.Set |= TotalMemberCount
		r.TotalMembers = 1
	}
	if want&ExternalMemberCount != 0 {
		r.Set |= ExternalMemberCount
	}
	return r, mb.Address, "OK"
}

// outOfOffice is the mailbox's automatic reply now: the configured one
// while it is on; else, if an out-of-office event covers now and the
// caller may see the mailbox's free/busy at all, the configured reply text
// or a generic one, for the event's period. docs/protocol.md §8.3.
func (s *Service) outOfOffice(ctx context.Context, caller identity.Caller, mb *calendar.Mailbox) OutOfOffice {
	now := s.opt.Now()
	if ar := mb.AutoReply; ar.Active(now) {
		return OutOfOffice{Message: ar.Message, Start: ar.Start, End: ar.End}
	}
	if dec := s.opt.Access.Access(caller, mb.Address, mb.Groups); !dec.Related || dec.Level == orgrel.None {
		return OutOfOffice{} // the calendar is not theirs to learn from
	}
	events, err := s.opt.Directory.AppendEvents(ctx, nil, mb.Address, now, now.Add(time.Second))
	if err != nil {
		s.log.Debug("MailTips: calendar unavailable; no derived automatic reply", "mailbox", mb.Address, "err", err)
		return OutOfOffice{}
	}
	var oof OutOfOffice
	for _, e := range events {
		if e.Item == nil || e.Item.Busy != calendar.OOF || now.Before(e.Start) || !now.Before(e.End) {
			continue
		}
		if oof.Start.IsZero() || e.Start.Before(oof.Start) {
			oof.Start = e.Start
		}
		if e.End.After(oof.End) {
			oof.End = e.End
		}
	}
	if oof.End.IsZero() {
		return OutOfOffice{}
	}
	oof.Start, oof.End = oof.Start.UTC(), oof.End.UTC()
	if mb.AutoReply != nil && mb.AutoReply.Message != "" {
		oof.Message = mb.AutoReply.Message
	} else {
		oof.Message = Generic(mb, oof.End)
	}
	return oof
}

// Generic is the automatic reply calfed words for a recipient who is out
// of the office until end but has set no reply text.
func Generic(mb *calendar.Mailbox, end time.Time) string {
	loc := mb.Location
	if loc == nil {
		loc = time.UTC
	}
	name := mb.DisplayName
	if name == "" {
		name = mb.Address
	}
	return fmt.Sprintf("%s is out of the office until %s.", name, end.In(loc).Format("Monday 2 January 2006, 15:04 MST"))
}
