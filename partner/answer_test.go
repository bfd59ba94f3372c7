package partner

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/calfed/calfed/freebusy"
)

// An answer names the view only when the mailbox was answered, and
// writes times in UTC as EWS does.
func TestAnswerOf(t *testing.T) {
	paris := time.FixedZone("CET", 3600)
	r := freebusy.Result{Address: "a@p.example", Outcome: freebusy.OK, Code: "NoError", View: freebusy.ViewDetailedMerged, Merged: []byte("0220"),
		Events: []freebusy.Event{freebusy.RemoteEvent(time.Date(2026, 3, 23, 10, 0, 0, 0, paris), time.Date(2026, 3, 23, 11, 30, 0, 0, paris),
			freebusy.Busy, true, false, "Review", "Room 1")}}
	want := Answer{Mailbox: "a@p.example", ResponseCode: "NoError", View: "DetailedMerged", Merged: "0220",
		Events: []Event{{Start: "2026-03-23T09:00:00", End: "2026-03-23T10:30:00", Busy: "Busy", Subject: "Review", Location: "Room 1"}}}
	if got := AnswerOf(r); !reflect.DeepEqual(got, want) {
		t.Errorf("AnswerOf() = %+v, want %+v", got, want)
	}
	failed := freebusy.Result{Address: "b@p.example", Outcome: freebusy.NotFound, Code: "ErrorMailRecipientNotFound"}
	if got := AnswerOf(failed); got.View != "" || got.ResponseCode != "ErrorMailRecipientNotFound" || got.Events != nil {
		t.Errorf("AnswerOf() of a failed mailbox = %+v", got)
	}
	ans, unasked := Answers([]freebusy.Result{r, {Address: "c@q.example", Outcome: freebusy.PartnerFailed}, {Address: "d@r.example", Outcome: freebusy.NoPartner}})
	if len(ans) != 3 || len(unasked) != 2 || unasked[0].Address != "c@q.example" {
		t.Errorf("Answers = %+v, %+v", ans, unasked)
	}
}

// Relationships are found by any spelling of the domain, in canonical
// form (internal/domainname); an address whose domain none names, or that
// is no address, gets NoPartner.
func TestStatic(t *testing.T) {
	rels := Static{
		{Name: "K", Domains: []string{"kelvin.example", "xn--bcher-kva.example"}, Enabled: true, FreeBusyAccessEnabled: true},
		{Name: "P", Domains: []string{"a.example", "b.example"}, Enabled: true, FreeBusyAccessEnabled: true},
		{Name: "Closed", Domains: []string{"closed.example"}, Enabled: true},
	}
	a := &Asker{Relationships: rels}
	for addr, want := range map[string]string{"Someone@B.Example": "P", "jürgen@Bücher.example": "K"} {
		if r, why := a.relationship(addr); why != "" || r.Name != want {
			t.Errorf("relationship(%s) = %s, %q; want %s", addr, r.Name, why, want)
		}
	}
	for addr, why := range map[string]string{"x@elsewhere.example": "no organisation relationship", "x@\u212Aelvin.example": "not an e-mail address",
		"no-address": "not an e-mail address", "x@closed.example": "free/busy access enabled"} {
		if _, got := a.relationship(addr); got == "" || !strings.Contains(got, why) {
			t.Errorf("relationship(%s) = %q, want it to say %q", addr, got, why)
		}
	}
}
