package freebusy

import (
	"context"
	"testing"
	"time"

	"github.com/calfed/calfed/orgrel"
)

// sharing is our mailboxes' external sharing (the live policy's Sharing).
type sharing map[string]orgrel.Level

func (s sharing) Sharing(m string) orgrel.Level {
	if l, ok := s[m]; ok {
		return l
	}
	return orgrel.AvailabilityOnly
}

// remote answers every address it is given with one busy hour, and
// records what it was asked.
type remote struct {
	asked [][]string
	users []string
}

func (r *remote) Ask(ctx context.Context, user string, q *Query, addrs []string) []Result {
	r.asked = append(r.asked, addrs)
	r.users = append(r.users, user)
	out := make([]Result, len(addrs))
	for i, a := range addrs {
		out[i] = Result{Address: a, Outcome: OK, Code: CodeNoError, View: ViewFreeBusy,
			Events: []Event{RemoteEvent(q.Start, q.Start.Add(time.Hour), Busy, false, false, "", "")}}
	}
	return out
}

// Our users see our mailboxes as colleagues (availability, details where
// the owner opted in, an externally opted-out user still), and partners'
// mailboxes through the Remote, in one call, all in the query's order.
func TestAsk(t *testing.T) {
	s := fixture()
	rem := &remote{}
	s.opt.Remote = rem
	s.opt.Internal = sharing{"details@ours.example": orgrel.LimitedDetails, "hidden@ours.example": orgrel.None}
	s.opt.MaxResultSet = 100
	q := &Query{Mailboxes: []string{"details@ours.example", "bob@partner.example", "hidden@ours.example", "carol@partner.example", "nobody@ours.example"},
		Start: t0, End: t0.Add(24 * time.Hour), View: ViewDetailed}
	got, err := s.Ask(context.Background(), "alice@ours.example", q)
	if err != nil {
		t.Fatal(err)
	}
	if len(rem.asked) != 1 || len(rem.asked[0]) != 3 || rem.asked[0][0] != "bob@partner.example" || rem.users[0] != "alice@ours.example" {
		t.Errorf("the remote was asked %v for %v", rem.asked, rem.users)
	}
	if r := got[0]; r.Outcome != OK || r.View != ViewDetailed || r.Events[0].Subject() != "Ward round" {
		t.Errorf("an opted-in colleague = %+v", r)
	}
	if r := got[2]; r.Outcome != OK || r.View != ViewFreeBusy || r.Events[0].Subject() != "" {
		t.Errorf("a colleague opted out of external sharing = %+v", r)
	}
	if got[1].Address != "bob@partner.example" || got[1].Outcome != OK || got[3].Address != "carol@partner.example" {
		t.Errorf("partners' results out of order: %+v %+v", got[1], got[3])
	}
	// A mailbox the directory does not have goes to the Remote too:
	// not ours, the Remote decides.
	if got[4].Address != "nobody@ours.example" {
		t.Errorf("result 4 = %+v", got[4])
	}

	// Anonymous callers see availability of ours only.
	rem.asked = nil
	got, _ = s.Ask(context.Background(), "", q)
	if r := got[0]; r.View != ViewFreeBusy || r.Events[0].Subject() != "" {
		t.Errorf("anonymous, an opted-in mailbox = %+v", r)
	}
	if got[1].Outcome != NoPartner || len(rem.asked) != 0 {
		t.Errorf("anonymous, a partner's mailbox = %+v (remote asked %v)", got[1], rem.asked)
	}

	// Without a Remote, partners' mailboxes are NoPartner.
	s.opt.Remote = nil
	got, _ = s.Ask(context.Background(), "alice@ours.example", q)
	if got[1].Outcome != NoPartner || got[1].ResponseCode() != CodeMailRecipientNotFound {
		t.Errorf("no Remote = %+v", got[1])
	}
}

func TestRemoteEventRedacts(t *testing.T) {
	e := RemoteEvent(t0, t0.Add(time.Hour), Busy, true, true, "Secret", "Here")
	if e.Subject() != "" || e.Location() != "" || !e.Private {
		t.Errorf("a private detailed event = %+v", e)
	}
	e = RemoteEvent(t0, t0.Add(time.Hour), Busy, false, false, "Subject", "Here")
	if e.Subject() != "" || e.Details {
		t.Errorf("a non-detailed event shows details: %+v", e)
	}
	e = RemoteEvent(t0, t0.Add(time.Hour), Busy, true, false, "Subject", "Here")
	if e.Subject() != "Subject" || e.Location() != "Here" {
		t.Errorf("a detailed event = %+v", e)
	}
}
