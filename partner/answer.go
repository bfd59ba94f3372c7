package partner

import (
	"fmt"
	"io"

	"github.com/calfed/calfed/freebusy"
)

// Answer is one mailbox's part of the answer as calfed freebusy prints
// it: the partner's values in their wire form.
type Answer struct {
	Mailbox      string  `json:"mailbox"`
	ResponseCode string  `json:"response_code"`
	View         string  `json:"view,omitempty"` // only with NoError
	Merged       string  `json:"merged,omitempty"`
	Events       []Event `json:"events,omitempty"`
}

// Event is a busy period of an Answer, its times in UTC without an
// offset, as EWS writes them.
type Event struct {
	Start    string `json:"start"`
	End      string `json:"end"`
	Busy     string `json:"busy"`
	Subject  string `json:"subject,omitempty"`
	Location string `json:"location,omitempty"`
	Private  bool   `json:"private,omitempty"`
}

// AnswerOf is a result of the free/busy core (freebusy.Service.Ask) in
// the same form, for our mailboxes and partners' alike.
func AnswerOf(r freebusy.Result) Answer {
	a := Answer{Mailbox: r.Address, ResponseCode: r.ResponseCode(), Merged: string(r.Merged)}
	if r.Outcome != freebusy.OK {
		return a
	}
	a.View = r.View.String()
	const layout = "2006-01-02T15:04:05"
	for i := range r.Events {
		e := &r.Events[i]
		a.Events = append(a.Events, Event{Start: e.Start.UTC().Format(layout), End: e.End.UTC().Format(layout),
			Busy: e.Busy.String(), Subject: e.Subject(), Location: e.Location(), Private: e.Private})
	}
	return a
}

// Answers are results of the free/busy core in the Answer form, with the
// results of partners that could not be asked (PartnerFailed, NoPartner)
// kept apart as well, for a command to report.
func Answers(rs []freebusy.Result) (ans []Answer, unasked []freebusy.Result) {
	ans = make([]Answer, len(rs))
	for i, r := range rs {
		ans[i] = AnswerOf(r)
		if r.Outcome == freebusy.PartnerFailed || r.Outcome == freebusy.NoPartner {
			unasked = append(unasked, r)
		}
	}
	return ans, unasked
}

// WriteText writes answers as calfed freebusy prints them.
func WriteText(w io.Writer, ans []Answer) {
	for _, a := range ans {
		fmt.Fprintf(w, "%s: %s %s %s\n", a.Mailbox, a.ResponseCode, a.View, a.Merged)
		for _, e := range a.Events {
			fmt.Fprintf(w, "  %s – %s  %-9s %s %s\n", e.Start, e.End, e.Busy, e.Subject, e.Location)
		}
	}
}
