package mailtips

import (
	"context"
	"reflect"
	"testing"
	"time"

	"github.com/calfed/calfed/calendar"
	"github.com/calfed/calfed/internal/identity"
	"github.com/calfed/calfed/orgrel"
)

// fakeDirectory serves fixed mailboxes and events.
type fakeDirectory struct {
	mailboxes map[string]*calendar.Mailbox
	events    map[string][]calendar.Event
	broken    map[string]bool
}

func (d *fakeDirectory) Lookup(address string) (*calendar.Mailbox, bool) {
	mb, ok := d.mailboxes[address]
	return mb, ok
}

func (d *fakeDirectory) AppendEvents(ctx context.Context, dst []calendar.Event, address string, from, to time.Time) ([]calendar.Event, error) {
	if d.broken[address] {
		return dst, calendar.ErrUnavailable
	}
	for _, e := range d.events[address] {
		if e.Start.Before(to) && e.End.After(from) {
			dst = append(dst, e)
		}
	}
	return dst, nil
}

var (
	now    = time.Date(2026, 3, 26, 10, 0, 0, 0, time.UTC)
	london = mustZone("Europe/London")
	oofDay = calendar.Event{Start: time.Date(2026, 3, 26, 0, 0, 0, 0, time.UTC), End: time.Date(2026, 3, 28, 0, 0, 0, 0, time.UTC),
		Item: calendar.Item{Busy: calendar.OOF}.WithText("Annual leave", "")}
	busy = calendar.Event{Start: now.Add(-time.Hour), End: now.Add(time.Hour), Item: calendar.Item{Busy: calendar.Busy}.WithText("Meeting", "")}
)

func mustZone(name string) *time.Location {
	loc, err := time.LoadLocation(name)
	if err != nil {
		panic(err)
	}
	return loc
}

func setup(t *testing.T) *Service {
	t.Helper()
	dir := &fakeDirectory{
		mailboxes: map[string]*calendar.Mailbox{
			"in@ours.example":      {Address: "in@ours.example", DisplayName: "In Office", Location: london, MailTip: "Prefers Teams."},
			"away@ours.example":    {Address: "away@ours.example", AutoReply: &calendar.AutoReply{Message: "On leave; ask the desk."}},
			"later@ours.example":   {Address: "later@ours.example", AutoReply: &calendar.AutoReply{Message: "Back soon.", Start: now.Add(time.Hour)}},
			"oof@ours.example":     {Address: "oof@ours.example", DisplayName: "Bob Singh", Location: london},
			"oofText@ours.example": {Address: "oofText@ours.example", AutoReply: &calendar.AutoReply{Message: "Travelling.", End: now.Add(-time.Hour)}},
			"hidden@ours.example":  {Address: "hidden@ours.example"},
			"broken@ours.example":  {Address: "broken@ours.example"},
		},
		events: map[string][]calendar.Event{
			"in@ours.example":      {busy},
			"oof@ours.example":     {busy, oofDay},
			"oofText@ours.example": {oofDay},
			"hidden@ours.example":  {oofDay},
		},
		broken: map[string]bool{"broken@ours.example": true},
	}
	rel := func(name, domain string, on bool, l orgrel.MailTipsLevel) orgrel.Relationship {
		return orgrel.Relationship{Name: name, Domains: []string{domain}, Enabled: true, FreeBusyAccessEnabled: true,
			FreeBusyAccessLevel: orgrel.AvailabilityOnly, MailTipsAccessEnabled: on, MailTipsAccessLevel: l}
	}
	p, err := orgrel.NewPolicy([]orgrel.Relationship{
		rel("Limited", "limited.example", true, orgrel.MailTipsLimited),
		rel("All", "all.example", true, orgrel.MailTipsAll),
		rel("None", "none.example", true, orgrel.MailTipsNone),
		rel("Off", "off.example", false, orgrel.MailTipsAll),
		{Name: "Disabled", Domains: []string{"disabled.example"}, MailTipsAccessEnabled: true, MailTipsAccessLevel: orgrel.MailTipsAll},
	}, map[string]orgrel.Level{"hidden@ours.example": orgrel.None})
	if err != nil {
		t.Fatal(err)
	}
	return New(Options{Directory: dir, Access: p, Now: func() time.Time { return now }})
}

func caller(domain string) identity.Caller {
	return identity.Caller{Domain: domain, Email: "x@" + domain}
}

func TestLevels(t *testing.T) {
	s := setup(t)
	ctx := context.Background()
	inOffice := OutOfOffice{}
	for _, tt := range []struct {
		name    string
		domain  string
		address string
		want    Result
	}{
		// None in every way: nothing at all, not even whether the address exists.
		{"no relationship", "stranger.example", "nobody@ours.example", Result{}},
		{"disabled relationship", "disabled.example", "nobody@ours.example", Result{}},
		{"MailTips access off", "off.example", "away@ours.example", Result{}},
		{"level None", "none.example", "away@ours.example", Result{}},

		{"Limited: unknown address", "limited.example", "nobody@ours.example", Result{Level: orgrel.MailTipsLimited, Set: InvalidRecipient, InvalidRecipient: true}},
		{"Limited: another organisation's address", "limited.example", "bob@elsewhere.example", Result{Level: orgrel.MailTipsLimited, Set: InvalidRecipient, InvalidRecipient: true}},
		{"Limited: in the office, no custom tip or counts", "limited.example", "in@ours.example", Result{Level: orgrel.MailTipsLimited, Set: InvalidRecipient | OutOfOfficeMessage, OutOfOffice: inOffice}},
		{"Limited: configured reply", "limited.example", "away@ours.example", Result{Level: orgrel.MailTipsLimited, Set: InvalidRecipient | OutOfOfficeMessage,
			OutOfOffice: OutOfOffice{Message: "On leave; ask the desk."}}},
		{"Limited: configured reply not yet on", "limited.example", "later@ours.example", Result{Level: orgrel.MailTipsLimited, Set: InvalidRecipient | OutOfOfficeMessage}},
		{"Limited: out-of-office event, generic text", "limited.example", "oof@ours.example", Result{Level: orgrel.MailTipsLimited, Set: InvalidRecipient | OutOfOfficeMessage,
			OutOfOffice: OutOfOffice{Message: "Bob Singh is out of the office until Saturday 28 March 2026, 00:00 GMT.", Start: oofDay.Start, End: oofDay.End}}},
		{"Limited: out-of-office event, the configured text", "limited.example", "oofText@ours.example", Result{Level: orgrel.MailTipsLimited, Set: InvalidRecipient | OutOfOfficeMessage,
			OutOfOffice: OutOfOffice{Message: "Travelling.", Start: oofDay.Start, End: oofDay.End}}},
		{"Limited: the calendar is not shared externally", "limited.example", "hidden@ours.example", Result{Level: orgrel.MailTipsLimited, Set: InvalidRecipient | OutOfOfficeMessage}},
		{"Limited: calendar unavailable", "limited.example", "broken@ours.example", Result{Level: orgrel.MailTipsLimited, Set: InvalidRecipient | OutOfOfficeMessage}},

		{"All: unknown address", "all.example", "nobody@ours.example", Result{Level: orgrel.MailTipsAll, Set: InvalidRecipient, InvalidRecipient: true}},
		{"All: custom tip and counts", "all.example", "in@ours.example", Result{Level: orgrel.MailTipsAll,
			Set: InvalidRecipient | OutOfOfficeMessage | CustomMailTip | TotalMemberCount | ExternalMemberCount, CustomMailTip: "Prefers Teams.", TotalMembers: 1}},
		{"All: out of office", "all.example", "oof@ours.example", Result{Level: orgrel.MailTipsAll, Set: InvalidRecipient | OutOfOfficeMessage | TotalMemberCount | ExternalMemberCount,
			OutOfOffice: OutOfOffice{Message: "Bob Singh is out of the office until Saturday 28 March 2026, 00:00 GMT.", Start: oofDay.Start, End: oofDay.End}, TotalMembers: 1}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			tt.want.Address = tt.address
			if got := s.Recipient(ctx, caller(tt.domain), All, tt.address); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Recipient(%s, %s) =\n%+v, want\n%+v", tt.domain, tt.address, got, tt.want)
			}
		})
	}
}

// Only what was asked for comes back.
func TestRequestedTypes(t *testing.T) {
	s := setup(t)
	got := s.Recipient(context.Background(), caller("all.example"), ParseTypes("OutOfOfficeMessage"), "away@ours.example")
	if got.Set != OutOfOfficeMessage || got.OutOfOffice.Message == "" {
		t.Errorf("OutOfOfficeMessage only: %+v", got)
	}
	got = s.Recipient(context.Background(), caller("all.example"), ParseTypes("InvalidRecipient"), "nobody@ours.example")
	if got.Set != InvalidRecipient || !got.InvalidRecipient {
		t.Errorf("InvalidRecipient only: %+v", got)
	}
	got = s.Recipient(context.Background(), caller("limited.example"), ParseTypes("CustomMailTip TotalMemberCount"), "in@ours.example")
	if got.Set != 0 {
		t.Errorf("tips Limited withholds: %+v", got)
	}
}

func TestParseTypes(t *testing.T) {
	for in, want := range map[string]Types{
		"All":                                 All,
		"OutOfOfficeMessage InvalidRecipient": OutOfOfficeMessage | InvalidRecipient,
		"  CustomMailTip\n\tScope ":           CustomMailTip,
		"":                                    0,
		"all":                                 0, // names are case-sensitive, as in the schema
	} {
		if got := ParseTypes(in); got != want {
			t.Errorf("ParseTypes(%q) = %b, want %b", in, got, want)
		}
	}
}

func TestAllowed(t *testing.T) {
	if Allowed(orgrel.MailTipsNone) != 0 || Allowed(orgrel.MailTipsAll) != All {
		t.Error("Allowed(None) or Allowed(All)")
	}
	l := Allowed(orgrel.MailTipsLimited)
	for _, ty := range []Types{CustomMailTip, TotalMemberCount, ExternalMemberCount, ModerationStatus} {
		if l&ty != 0 {
			t.Errorf("Limited allows %b", ty)
		}
	}
	if l&(InvalidRecipient|OutOfOfficeMessage) != InvalidRecipient|OutOfOfficeMessage {
		t.Error("Limited withholds InvalidRecipient or OutOfOfficeMessage")
	}
}
