package freebusy

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/calfed/calfed/calendar"
	"github.com/calfed/calfed/internal/identity"
	"github.com/calfed/calfed/orgrel"
)

// memDirectory holds mailboxes and their events in memory; a mailbox
// whose events are nil fails to generate.
type memDirectory map[string]*mailbox

type mailbox struct {
	mb     calendar.Mailbox
	events []calendar.Event
}

func (d memDirectory) Lookup(addr string) (*calendar.Mailbox, bool) {
	m, ok := d[addr]
	if !ok {
		return nil, false
	}
	return &m.mb, true
}

func (d memDirectory) AppendEvents(ctx context.Context, dst []calendar.Event, addr string, from, to time.Time) ([]calendar.Event, error) {
	m := d[addr]
	if m.events == nil {
		return dst, fmt.Errorf("%w: broken", calendar.ErrUnavailable)
	}
	return append(dst, m.events...), nil
}

// levels grants each mailbox a fixed level to partner.example; other
// callers are unrelated.
type levels map[string]orgrel.Level

func (l levels) Access(c identity.Caller, mailbox string, groups []string) orgrel.Decision {
	if c.Domain != "partner.example" {
		return orgrel.Decision{}
	}
	return orgrel.Decision{Related: true, Level: l[mailbox]}
}

var (
	partner  = identity.Caller{Domain: "partner.example"}
	stranger = identity.Caller{Domain: "stranger.example"}
	t0       = time.Date(2026, 3, 23, 8, 0, 0, 0, time.UTC)
)

func fixture() *Service {
	meeting := calendar.Item{Busy: calendar.Busy, Meeting: true, Reminder: true}.WithText("Ward round", "Ward 7")
	private := calendar.Item{Busy: calendar.OOF, Private: true, Meeting: true}.WithText("Dentist", "Town")
	elsewhere := calendar.Item{Busy: calendar.WorkingElsewhere}.WithText("Leeds office", "")
	events := []calendar.Event{
		{Start: t0, End: t0.Add(time.Hour), Item: meeting, Recurring: true, Exception: true, RecurrenceID: 1774252800},
		{Start: t0.Add(2 * time.Hour), End: t0.Add(3 * time.Hour), Item: private},
		{Start: t0.Add(4 * time.Hour), End: t0.Add(5 * time.Hour), Item: elsewhere},
	}
	wh := &calendar.WorkingHours{Days: []time.Weekday{1, 2, 3, 4, 5}, Start: 9 * time.Hour, End: 17 * time.Hour}
	dir := memDirectory{
		"details@ours.example": {mb: calendar.Mailbox{Address: "details@ours.example", Location: time.UTC, WorkingHours: wh}, events: events},
		"times@ours.example":   {mb: calendar.Mailbox{Address: "times@ours.example", Location: time.UTC}, events: events},
		"hidden@ours.example":  {mb: calendar.Mailbox{Address: "hidden@ours.example"}, events: events},
		"broken@ours.example":  {mb: calendar.Mailbox{Address: "broken@ours.example"}},
		"full@ours.example":    {mb: calendar.Mailbox{Address: "full@ours.example"}, events: events},
	}
	access := levels{"details@ours.example": orgrel.LimitedDetails, "times@ours.example": orgrel.AvailabilityOnly,
		"hidden@ours.example": orgrel.None, "broken@ours.example": orgrel.LimitedDetails, "full@ours.example": orgrel.LimitedDetails}
	return New(Options{Directory: dir, Access: access, MaxResultSet: 2})
}

func TestOutcomes(t *testing.T) {
	s := fixture()
	q := &Query{Start: t0, End: t0.Add(8 * time.Hour), View: ViewDetailedMerged, Interval: time.Hour}
	s.opt.MaxResultSet = 3
	tests := []struct {
		caller    identity.Caller
		address   string
		want      Outcome
		unrelated bool
	}{
		{partner, "details@ours.example", OK, false},
		{partner, "nobody@ours.example", NotFound, false},
		// A caller no relationship covers gets no access, as from
		// Exchange; an unknown address stays unknown. docs/protocol.md §1.5.
		{stranger, "details@ours.example", NoAccess, true},
		{stranger, "nobody@ours.example", NotFound, false},
		{partner, "hidden@ours.example", NoAccess, false},
		{partner, "broken@ours.example", GenerationFailed, false},
	}
	for _, tt := range tests {
		r := s.Mailbox(t.Context(), tt.caller, q, tt.address)
		if r.Outcome != tt.want || r.Address != tt.address || r.Unrelated != tt.unrelated {
			t.Errorf("Mailbox(%s, %s) = %v (unrelated %v) for %q, want %v (unrelated %v)", tt.caller.Domain, tt.address, r.Outcome, r.Unrelated, r.Address, tt.want, tt.unrelated)
		}
		if r.Outcome != OK && (r.Events != nil || r.Merged != nil || r.View != ViewNone) {
			t.Errorf("Mailbox(%s, %s): a failed mailbox carries data: %+v", tt.caller.Domain, tt.address, r)
		}
	}
	s.opt.MaxResultSet = 2
	if r := s.Mailbox(t.Context(), partner, q, "full@ours.example"); r.Outcome != TooBig || r.Count != 3 || r.Limit != 2 {
		t.Errorf("Mailbox(full) = %v %d/%d, want TooBig 3/2", r.Outcome, r.Count, r.Limit)
	}
}

// What each level shows of each item: the privacy rules every front gets.
func TestRedaction(t *testing.T) {
	s := fixture()
	s.opt.MaxResultSet = 10
	q := &Query{Start: t0, End: t0.Add(8 * time.Hour), View: ViewDetailedMerged, Interval: time.Hour}

	d := s.Mailbox(t.Context(), partner, q, "details@ours.example")
	if d.View != ViewDetailedMerged || len(d.Events) != 3 || string(d.Merged) != "20300000" {
		t.Fatalf("LimitedDetails: view %v, %d events, merged %q", d.View, len(d.Events), d.Merged)
	}
	m := d.Events[0]
	if !m.Details || m.Private || m.Subject() != "Ward round" || m.Location() != "Ward 7" || !m.Meeting() || !m.Reminder() || !m.Recurring() || !m.Exception() || m.Busy != Busy {
		t.Errorf("LimitedDetails meeting = %+v", m)
	}
	if id := string(m.AppendID(nil)); id == "" {
		t.Error("LimitedDetails meeting has no id")
	}
	p := d.Events[1]
	if !p.Details || !p.Private || p.Subject() != "" || p.Location() != "" || p.Meeting() || p.Busy != OOF || len(p.AppendID(nil)) != 0 {
		t.Errorf("private item shows more than that it is private: %+v", p)
	}
	if d.WorkingHours == nil || d.WorkingHours.Start != 9*time.Hour || d.Zone != time.UTC {
		t.Errorf("working hours %v, zone %v", d.WorkingHours, d.Zone)
	}

	a := s.Mailbox(t.Context(), partner, q, "times@ours.example")
	if a.View != ViewFreeBusyMerged || len(a.Events) != 3 {
		t.Fatalf("AvailabilityOnly: view %v, %d events", a.View, len(a.Events))
	}
	for _, ev := range a.Events {
		if ev.Details || ev.Subject() != "" || ev.Location() != "" || ev.Private || ev.Meeting() || ev.Recurring() || len(ev.AppendID(nil)) != 0 {
			t.Errorf("AvailabilityOnly shows details: %+v", ev)
		}
	}

	// Legacy callers know no WorkingElsewhere: it is Free. (In digits it
	// never shows over Free in either schema.)
	q.Legacy = true
	l := s.Mailbox(t.Context(), partner, q, "details@ours.example")
	if d.Events[2].Busy != WorkingElsewhere || l.Events[2].Busy != Free || string(l.Merged) != "20300000" {
		t.Errorf("legacy: busy %v, merged %q", l.Events[2].Busy, l.Merged)
	}

	// A merged-only request gets no events, whatever the level.
	q.View = ViewMergedOnly
	if r := s.Mailbox(t.Context(), partner, q, "details@ours.example"); r.View != ViewMergedOnly || r.Events != nil || r.Merged == nil {
		t.Errorf("MergedOnly: view %v, events %v, merged %q", r.View, r.Events, r.Merged)
	}
}

func TestQueryKeepsOrderAndChecks(t *testing.T) {
	s := fixture()
	s.opt.MaxResultSet = 10
	addrs := []string{"hidden@ours.example", "details@ours.example", "nobody@ours.example", "times@ours.example", "broken@ours.example"}
	want := []Outcome{NoAccess, OK, NotFound, OK, GenerationFailed}
	q := &Query{Mailboxes: addrs, Start: t0, End: t0.Add(time.Hour), View: ViewFreeBusy}
	rs, err := s.Query(t.Context(), partner, q)
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range rs {
		if r.Address != addrs[i] || r.Outcome != want[i] {
			t.Errorf("result %d = %s %v, want %s %v", i, r.Address, r.Outcome, addrs[i], want[i])
		}
	}
	for _, bad := range []Query{
		{Start: t0, End: t0, View: ViewFreeBusy},
		{Start: t0, End: t0.Add(time.Hour)},
		{Start: t0, End: t0.Add(time.Hour), View: ViewMergedOnly},
	} {
		if _, err := s.Query(t.Context(), partner, &bad); !errors.Is(err, ErrInvalidQuery) {
			t.Errorf("Query(%+v) err = %v, want ErrInvalidQuery", bad, err)
		}
	}
}

// A mailbox without working hours gets Outlook on the web's default:
// 08:00 to 17:00, Monday to Friday. docs/protocol.md §1.6.
func TestDefaultWorkingHours(t *testing.T) {
	s := fixture()
	s.opt.MaxResultSet = 10
	q := &Query{Start: t0, End: t0.Add(8 * time.Hour), View: ViewFreeBusy}
	r := s.Mailbox(t.Context(), partner, q, "times@ours.example")
	wh := r.WorkingHours
	if wh == nil || wh.Start != 8*time.Hour || wh.End != 17*time.Hour ||
		!slices.Equal(wh.Days, []time.Weekday{time.Monday, time.Tuesday, time.Wednesday, time.Thursday, time.Friday}) {
		t.Errorf("Mailbox(times).WorkingHours = %+v, want 08:00-17:00 Monday to Friday", wh)
	}
	wh.Days[0] = time.Sunday // a caller changing its copy changes nothing else
	if DefaultWorkingHours.Days[0] != time.Monday {
		t.Errorf("DefaultWorkingHours changed through a result: %+v", DefaultWorkingHours)
	}
}
