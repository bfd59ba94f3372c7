package partner

import (
	"reflect"
	"testing"
	"time"

	"github.com/calfed/calfed/calendar"
	"github.com/calfed/calfed/freebusy"
)

// An answer names the view only when the mailbox was answered, and
// writes times in UTC as EWS does.
func TestResultAnswer(t *testing.T) {
	paris := time.FixedZone("CET", 3600)
	r := Result{Mailbox: "a@p.example", Code: "NoError", View: freebusy.ViewDetailedMerged, Merged: "0220",
		Busy: []BusyPeriod{{Start: time.Date(2026, 3, 23, 10, 0, 0, 0, paris), End: time.Date(2026, 3, 23, 11, 30, 0, 0, paris),
			Busy: calendar.Busy, Subject: "Review", Location: "Room 1"}}}
	want := Answer{Mailbox: "a@p.example", ResponseCode: "NoError", View: "DetailedMerged", Merged: "0220",
		Events: []Event{{Start: "2026-03-23T09:00:00", End: "2026-03-23T10:30:00", Busy: "Busy", Subject: "Review", Location: "Room 1"}}}
	if got := r.Answer(); !reflect.DeepEqual(got, want) {
		t.Errorf("Answer() = %+v, want %+v", got, want)
	}
	failed := Result{Mailbox: "b@p.example", Code: "ErrorMailRecipientNotFound", View: freebusy.ViewFreeBusy}
	if got := failed.Answer(); got.View != "" || got.ResponseCode != "ErrorMailRecipientNotFound" || got.Events != nil {
		t.Errorf("Answer() of a failed mailbox = %+v", got)
	}
}
