package partner

import (
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

// Answer is the result in its wire form.
func (r Result) Answer() Answer {
	a := Answer{Mailbox: r.Mailbox, ResponseCode: r.Code, Merged: r.Merged}
	if r.Code == "NoError" && r.View != freebusy.ViewNone {
		a.View = r.View.String()
	}
	const layout = "2006-01-02T15:04:05"
	for _, b := range r.Busy {
		a.Events = append(a.Events, Event{Start: b.Start.UTC().Format(layout), End: b.End.UTC().Format(layout),
			Busy: b.Busy.String(), Subject: b.Subject, Location: b.Location, Private: b.Private})
	}
	return a
}
