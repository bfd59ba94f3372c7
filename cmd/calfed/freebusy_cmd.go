package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"time"

	"github.com/calfed/calfed/config"
	"github.com/calfed/calfed/freebusy"
	"github.com/calfed/calfed/partner"
)

func runFreeBusy(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fl := flag.NewFlagSet("freebusy", flag.ContinueOnError)
	fl.SetOutput(stderr)
	as := fl.String("as", "", "our user on whose behalf to ask (required)")
	start := fl.String("start", time.Now().UTC().Format("2006-01-02"), "window start, YYYY-MM-DD or RFC 3339 (UTC)")
	end := fl.String("end", "", "window end; default a day after start")
	view := fl.String("view", "FreeBusyMerged", "RequestedView")
	interval := fl.Int("interval", 30, "merged interval in minutes")
	output := fl.String("o", "table", "table or json")
	configPath := fl.String("config", envOr("CALFED_CONFIG", "calfed.yaml"), "configuration file ($CALFED_CONFIG)")
	mailboxes, err := parseVariadic(fl, args)
	if err != nil {
		return report(stderr, "freebusy", err)
	}
	if *as == "" || len(mailboxes) == 0 {
		return report(stderr, "freebusy", usageError{"give -as USER and at least one mailbox"})
	}
	parse := func(s string) (time.Time, error) {
		if t, err := time.Parse("2006-01-02", s); err == nil {
			return t, nil
		}
		return time.Parse(time.RFC3339, s)
	}
	from, err := parse(*start)
	if err != nil {
		return report(stderr, "freebusy", usageError{fmt.Sprintf("-start %q", *start)})
	}
	to := from.Add(24 * time.Hour)
	if *end != "" {
		if to, err = parse(*end); err != nil {
			return report(stderr, "freebusy", usageError{fmt.Sprintf("-end %q", *end)})
		}
	}
	cfg, err := config.Load(*configPath)
	if err != nil {
		return report(stderr, "freebusy", err)
	}
	db, err := cfg.OpenStore(ctx, nil)
	if err != nil {
		return report(stderr, "freebusy", err)
	}
	defer db.Close()
	requestedView, err := freebusy.ParseView(*view)
	if err != nil {
		return report(stderr, "freebusy", usageError{fmt.Sprintf("-view %q: %v", *view, err)})
	}
	tokens, err := cfg.TrustService(db, nil).Client(ctx)
	if err != nil {
		return report(stderr, "freebusy", err)
	}
	rels, err := db.Relationships(ctx)
	if err != nil {
		return report(stderr, "freebusy", err)
	}
	target, err := partner.For(rels, mailboxes[0])
	if err != nil {
		return report(stderr, "freebusy", err)
	}
	client := &partner.Client{Tokens: tokens}
	results, err := client.FreeBusy(ctx, target, partner.Query{User: *as, Query: freebusy.Query{Mailboxes: mailboxes, Start: from, End: to, View: requestedView, Interval: time.Duration(*interval) * time.Minute}})
	if err != nil {
		return report(stderr, "freebusy", err)
	}
	ans := make([]mailboxAnswer, len(results))
	for i, r := range results {
		ans[i] = answerOf(r)
	}
	if *output == "json" {
		printJSON(stdout, ans)
		return exitOK
	}
	for _, a := range ans {
		fmt.Fprintf(stdout, "%s: %s %s %s\n", a.Mailbox, a.ResponseCode, a.View, a.Merged)
		for _, e := range a.Events {
			fmt.Fprintf(stdout, "  %s – %s  %-9s %s %s\n", e.Start, e.End, e.Busy, e.Subject, e.Location)
		}
	}
	return exitOK
}

// mailboxAnswer is one mailbox's part of the answer as freebusy prints
// it: the partner's values in their wire form.
type mailboxAnswer struct {
	Mailbox      string        `json:"mailbox"`
	ResponseCode string        `json:"response_code"`
	View         string        `json:"view,omitempty"`
	Merged       string        `json:"merged,omitempty"`
	Events       []answerEvent `json:"events,omitempty"`
}

type answerEvent struct {
	Start    string `json:"start"`
	End      string `json:"end"`
	Busy     string `json:"busy"`
	Subject  string `json:"subject,omitempty"`
	Location string `json:"location,omitempty"`
	Private  bool   `json:"private,omitempty"`
}

func answerOf(r partner.Result) mailboxAnswer {
	a := mailboxAnswer{Mailbox: r.Mailbox, ResponseCode: r.Code, Merged: r.Merged}
	if r.Code == "NoError" && r.View != freebusy.ViewNone {
		a.View = r.View.String()
	}
	for _, b := range r.Busy {
		a.Events = append(a.Events, answerEvent{Start: b.Start.UTC().Format("2006-01-02T15:04:05"), End: b.End.UTC().Format("2006-01-02T15:04:05"),
			Busy: b.Busy.String(), Subject: b.Subject, Location: b.Location, Private: b.Private})
	}
	return a
}
