package interop

import (
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"
)

// answer is one mailbox's result as both client scripts print it.
type answer struct {
	Address string    `json:"address"`
	Error   string    `json:"error"`
	Message string    `json:"message,omitempty"` // MessageText of an error
	View    string    `json:"view,omitempty"`
	Merged  string    `json:"merged,omitempty"`
	Events  []event   `json:"events,omitempty"`
	Working []working `json:"working,omitempty"`
}

// working is one working period as the clients read it.
type working struct {
	Days       []string `json:"days"`
	Start, End int      // minutes from midnight
}

type event struct {
	Start     string `json:"start"`
	End       string `json:"end"`
	Busy      string `json:"busy"`
	Subject   string `json:"subject,omitempty"`
	Location  string `json:"location,omitempty"`
	Private   bool   `json:"private,omitempty"`
	Recurring bool   `json:"recurring,omitempty"`
	Exception bool   `json:"exception,omitempty"`
	Meeting   bool   `json:"meeting,omitempty"`
}

// scenario is one question put to calfed by both clients, in UTC. Windows
// are whole days: ews-javascript-api, like the EWS Managed API it ports,
// sends only the dates of a GetUserAvailability time window.
type scenario struct {
	name       string
	account    string
	view       string
	start, end string // UTC wall clock
	interval   int
	want       []answer
}

const london = "Europe/London"

// What the demo calendars (internal/demo/calendars) imply for the week of
// 23 March 2026, in UTC. London is on GMT until Sunday 29 March 01:00 UTC;
// New York is already on EDT (UTC-4); Berlin moves from UTC+1 to UTC+2.
var (
	standup = func(day string) event {
		return event{Start: day + "T09:30:00", End: day + "T09:45:00", Busy: "Busy", Subject: "Team stand-up", Location: "Teams", Recurring: true, Meeting: true}
	}
	aliceDetailed = []event{
		{Start: "2026-03-23T00:00:00", End: "2026-03-24T00:00:00", Busy: "WorkingElsewhere", Subject: "Working from the Leeds office"},
		standup("2026-03-23"),
		standup("2026-03-24"),
		{Start: "2026-03-24T14:00:00", End: "2026-03-24T14:30:00", Busy: "Busy", Subject: "1:1 Alice / Bob", Location: "Room 4.02", Recurring: true, Meeting: true},
		{Start: "2026-03-25T10:30:00", End: "2026-03-25T10:45:00", Busy: "Busy", Subject: "Team stand-up (moved)", Location: "Teams", Recurring: true, Exception: true, Meeting: true},
		{Start: "2026-03-25T12:30:00", End: "2026-03-25T13:30:00", Busy: "Free", Subject: "Lunch and learn (optional)", Location: "Canteen"},
		{Start: "2026-03-26T16:00:00", End: "2026-03-26T17:00:00", Busy: "Busy", Private: true}, // the dentist: flags only
		standup("2026-03-27"),
		{Start: "2026-03-27T11:00:00", End: "2026-03-27T12:00:00", Busy: "Tentative", Subject: "Vendor demo (to be confirmed)", Location: "Boardroom"},
	}
	aliceTimes = timesOnly(aliceDetailed)
	dmitri     = []event{
		{Start: "2026-03-24T07:00:00", End: "2026-03-24T08:00:00", Busy: "Busy"},
		{Start: "2026-03-25T14:00:00", End: "2026-03-25T15:30:00", Busy: "Busy"},
		{Start: "2026-03-28T21:00:00", End: "2026-03-29T02:00:00", Busy: "Busy"}, // 22:00 CET to 04:00 CEST
	}
	bob = []event{
		{Start: "2026-03-23T10:00:00", End: "2026-03-23T11:00:00", Busy: "Busy"},
		{Start: "2026-03-24T14:00:00", End: "2026-03-24T14:30:00", Busy: "Busy"},
		{Start: "2026-03-26T00:00:00", End: "2026-03-28T00:00:00", Busy: "OOF"},
	}
	carol = []event{
		{Start: "2026-03-23T04:00:00", End: "2026-03-24T04:00:00", Busy: "WorkingElsewhere"},
		{Start: "2026-03-23T12:30:00", End: "2026-03-23T13:00:00", Busy: "Busy"},
		{Start: "2026-03-24T12:30:00", End: "2026-03-24T13:00:00", Busy: "Busy"},
		{Start: "2026-03-24T15:00:00", End: "2026-03-24T16:00:00", Busy: "Busy"},
		{Start: "2026-03-25T12:30:00", End: "2026-03-25T13:00:00", Busy: "Busy"},
		{Start: "2026-03-26T12:30:00", End: "2026-03-26T13:00:00", Busy: "Busy"},
	}
	frank = []event{ // floating times and all-day dates in New York
		{Start: "2026-03-23T11:00:00", End: "2026-03-23T12:00:00", Busy: "Busy"},
		{Start: "2026-03-25T11:00:00", End: "2026-03-25T12:00:00", Busy: "Busy"},
		{Start: "2026-03-25T17:00:00", End: "2026-03-25T18:00:00", Busy: "Tentative"}, // unanswered invitation
		{Start: "2026-03-26T04:00:00", End: "2026-03-28T04:00:00", Busy: "OOF"},
		{Start: "2026-03-27T11:00:00", End: "2026-03-27T12:00:00", Busy: "Busy"},
	}
	boardroom = []event{
		{Start: "2026-03-23T10:00:00", End: "2026-03-23T11:00:00", Busy: "Busy"},
		{Start: "2026-03-25T13:00:00", End: "2026-03-25T15:00:00", Busy: "Busy"},
		{Start: "2026-03-27T00:00:00", End: "2026-03-28T00:00:00", Busy: "Busy"},
	}
)

func timesOnly(evs []event) []event {
	out := make([]event, len(evs))
	for i, e := range evs {
		out[i] = event{Start: e.Start, End: e.End, Busy: e.Busy}
	}
	return out
}

var scenarios = []scenario{
	{
		name: "trust.example, DetailedMerged, daily digits", account: "svc-trust", view: "DetailedMerged",
		start: "2026-03-23T00:00:00", end: "2026-03-30T00:00:00", interval: 1440,
		want: []answer{
			{Address: "alice@contoso.example", Error: "NoError", View: "DetailedMerged", Merged: "2222200", Events: aliceDetailed},
			{Address: "dmitri@contoso.example", Error: "NoError", View: "FreeBusyMerged", Merged: "0220022", Events: dmitri},
			{Address: "frank@contoso.example", Error: "NoError", View: "FreeBusyMerged", Merged: "2023330", Events: frank},
			{Address: "grace@contoso.example", Error: "ErrorNoFreeBusyAccess"},     // opted out
			{Address: "boardroom@contoso.example", Error: "ErrorNoFreeBusyAccess"}, // outside the relationship's scope
			{Address: "nobody@contoso.example", Error: "ErrorMailRecipientNotFound"},
		},
	},
	{
		name: "partner.example, Detailed", account: "svc-partner", view: "Detailed",
		start: "2026-03-23T00:00:00", end: "2026-03-30T00:00:00", interval: 30,
		want: []answer{
			{Address: "alice@contoso.example", Error: "NoError", View: "FreeBusy", Events: aliceTimes},
			{Address: "boardroom@contoso.example", Error: "NoError", View: "FreeBusy", Events: boardroom},
			{Address: "grace@contoso.example", Error: "ErrorNoFreeBusyAccess"},
		},
	},
	{
		name: "partner.example, FreeBusy", account: "svc-partner", view: "FreeBusy",
		start: "2026-03-23T00:00:00", end: "2026-03-30T00:00:00", interval: 30,
		want: []answer{
			{Address: "bob@contoso.example", Error: "NoError", View: "FreeBusy", Events: bob},
			{Address: "carol@contoso.example", Error: "NoError", View: "FreeBusy", Events: carol},
		},
	},
	{
		name: "partner.example, FreeBusyMerged, hourly on Wednesday", account: "svc-partner", view: "FreeBusyMerged",
		start: "2026-03-25T00:00:00", end: "2026-03-26T00:00:00", interval: 60,
		want: []answer{
			{Address: "alice@contoso.example", Error: "NoError", View: "FreeBusyMerged", Merged: "000000000020000000000000",
				Events: timesOnly(aliceDetailed[4:6])},
			{Address: "boardroom@contoso.example", Error: "NoError", View: "FreeBusyMerged", Merged: "000000000000022000000000",
				Events: boardroom[1:2]},
		},
	},
	{
		name: "partner.example, FreeBusyMerged, the night the clocks change", account: "svc-partner", view: "FreeBusyMerged",
		start: "2026-03-28T00:00:00", end: "2026-03-30T00:00:00", interval: 60,
		want: []answer{
			// On call 20:00 GMT to 08:00 BST: twelve hours on the wall clock, eleven in fact.
			{Address: "emma@contoso.example", Error: "NoError", View: "FreeBusyMerged",
				Merged: strings.Repeat("0", 20) + strings.Repeat("2", 11) + strings.Repeat("0", 17),
				Events: []event{{Start: "2026-03-28T20:00:00", End: "2026-03-29T07:00:00", Busy: "Busy"}}},
			{Address: "dmitri@contoso.example", Error: "NoError", View: "FreeBusyMerged",
				Merged: strings.Repeat("0", 21) + strings.Repeat("2", 5) + strings.Repeat("0", 22),
				Events: dmitri[2:]},
		},
	},
}

func addresses(s scenario) []string {
	var out []string
	for _, a := range s.want {
		out = append(out, a.Address)
	}
	return out
}

// exchangelib works in London time: it sends a legacy t:TimeZone built
// from calfed's GetServerTimeZones answer, and reads back naive London
// wall-clock times, which are converted to UTC here.
func queryExchangelib(t *testing.T, s *server, sc scenario) []answer {
	loc, err := time.LoadLocation(london)
	if err != nil {
		t.Fatal(err)
	}
	conv := func(v string, from, to *time.Location) string {
		tm, err := time.ParseInLocation("2006-01-02T15:04:05", v, from)
		if err != nil {
			t.Fatalf("time %q: %v", v, err)
		}
		return tm.In(to).Format("2006-01-02T15:04:05")
	}
	args := []string{debianPy, "python/freebusy.py", s.URL, sc.account, demoSecret, london,
		conv(sc.start, time.UTC, loc), conv(sc.end, time.UTC, loc), sc.view, fmt.Sprint(sc.interval)}
	out := runClient(t, "exchangelib", append(args, addresses(sc)...))
	var got []answer
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatalf("exchangelib output: %v\n%s", err, out)
	}
	for i := range got {
		for j := range got[i].Events {
			e := &got[i].Events[j]
			e.Start, e.End = conv(e.Start, loc, time.UTC), conv(e.End, loc, time.UTC)
		}
	}
	return got
}

// ews-javascript-api works in UTC and sends only a TimeZoneContext header.
func queryJS(t *testing.T, s *server, sc scenario, env ...string) []answer {
	args := []string{"node", "js/freebusy.js", s.URL, sc.account, demoSecret, sc.start, sc.end, sc.view, fmt.Sprint(sc.interval)}
	out := runClient(t, "ews-javascript-api", append(args, addresses(sc)...), env...)
	var got []answer
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatalf("ews-javascript-api output: %v\n%s", err, out)
	}
	return got
}

func TestRealClientsReadTheDemo(t *testing.T) {
	requireClients(t)
	s := startDemo(t)
	for _, sc := range scenarios {
		t.Run(sc.name, func(t *testing.T) {
			py := queryExchangelib(t, s, sc)
			js := queryJS(t, s, sc)
			compare(t, "exchangelib", py, sc.want)
			compare(t, "ews-javascript-api", js, sc.want)
			if !reflect.DeepEqual(py, js) {
				t.Errorf("the clients disagree:\nexchangelib        %+v\news-javascript-api %+v", py, js)
			}
		})
	}
}

// A request at an Exchange 2010 SP1 schema gets the legacy semantics:
// WorkingElsewhere reads as Free. docs/protocol.md §1.6.
func TestLegacyVersionSeesNoWorkingElsewhere(t *testing.T) {
	requireClients(t)
	s := startDemo(t)
	sc := scenario{account: "svc-partner", view: "FreeBusyMerged", start: "2026-03-23T00:00:00", end: "2026-03-24T00:00:00", interval: 60,
		want: []answer{{Address: "carol@contoso.example", Error: "NoError", View: "FreeBusyMerged",
			Merged: "000000000000200000000000",
			Events: []event{{Start: "2026-03-23T04:00:00", End: "2026-03-24T04:00:00", Busy: "Free"}, carol[1]}}}}
	compare(t, "ews-javascript-api (Exchange2010_SP1)", queryJS(t, s, sc, "EWS_VERSION=Exchange2010_SP1"), sc.want)
	sc.want[0].Events[0].Busy = "WorkingElsewhere"
	compare(t, "ews-javascript-api (Exchange2013_SP1)", queryJS(t, s, sc), sc.want)
}

func compare(t *testing.T, client string, got, want []answer) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d answers, want %d", client, len(got), len(want))
	}
	for i := range want {
		g, w := got[i], want[i]
		if g.Address != w.Address || g.Error != w.Error || g.View != w.View || g.Merged != w.Merged {
			t.Errorf("%s: %s = {error %s, view %s, merged %q}, want {error %s, view %s, merged %q}",
				client, w.Address, g.Error, g.View, g.Merged, w.Error, w.View, w.Merged)
		}
		if !reflect.DeepEqual(g.Events, w.Events) {
			t.Errorf("%s: %s events:\n%s\nwant:\n%s", client, w.Address, dump(g.Events), dump(w.Events))
		}
	}
}

func dump(evs []event) string {
	var b strings.Builder
	for _, e := range evs {
		fmt.Fprintf(&b, "  %+v\n", e)
	}
	return b.String()
}

// Answers that changed to be Exchange's, as both clients read them: the
// NoFreeBusyAccess answer word for word (docs/protocol.md §1.7), the working hours a
// mailbox with none configured gets (08:00 to 17:00, Monday to Friday:
// docs/protocol.md §1.6), and a mailbox's own working hours in one period.
func TestClientsReadExchangesAnswers(t *testing.T) {
	requireClients(t)
	s := startDemo(t)
	weekdays := []string{"Monday", "Tuesday", "Wednesday", "Thursday", "Friday"}
	noAccess := "Microsoft.Exchange.InfoWorker.Common.Availability.NoFreeBusyAccessException: The caller does not have access to free/busy data.\r\n. Name of the server where exception originated: DEMO01. LID: 44348"
	sc := scenario{account: "svc-trust", view: "FreeBusy", start: "2026-03-23T00:00:00", end: "2026-03-24T00:00:00", interval: 30,
		want: []answer{
			{Address: "emma@contoso.example"},
			{Address: "alice@contoso.example"},
			{Address: "grace@contoso.example"},
			{Address: "nobody@contoso.example"},
		}}
	want := map[string]answer{
		"emma@contoso.example":   {Error: "NoError", Working: []working{{Days: weekdays, Start: 480, End: 1020}}},
		"alice@contoso.example":  {Error: "NoError", Working: []working{{Days: weekdays, Start: 540, End: 1050}}},
		"grace@contoso.example":  {Error: "ErrorNoFreeBusyAccess", Message: noAccess},
		"nobody@contoso.example": {Error: "ErrorMailRecipientNotFound"},
	}
	for client, got := range map[string][]answer{"exchangelib": queryExchangelib(t, s, sc), "ews-javascript-api": queryJS(t, s, sc)} {
		if len(got) != len(sc.want) {
			t.Fatalf("%s: %d answers, want %d", client, len(got), len(sc.want))
		}
		for i, g := range got {
			w := want[sc.want[i].Address]
			if g.Address != sc.want[i].Address || g.Error != w.Error || (w.Message != "" && g.Message != w.Message) || !reflect.DeepEqual(g.Working, w.Working) {
				t.Errorf("%s: %s = {%s %q %+v}, want {%s %q %+v}", client, sc.want[i].Address, g.Error, g.Message, g.Working, w.Error, w.Message, w.Working)
			}
		}
	}
}
