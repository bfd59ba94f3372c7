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
	client := &partner.Client{Tokens: tokens}
	q := freebusy.Query{Mailboxes: mailboxes, Start: from, End: to, View: requestedView, Interval: time.Duration(*interval) * time.Minute}
	results, err := client.Ask(ctx, rels, partner.Query{User: *as, Query: q})
	if err != nil {
		return report(stderr, "freebusy", err)
	}
	ans := make([]partner.Answer, len(results))
	for i, r := range results {
		ans[i] = r.Answer()
	}
	err = show(stdout, *output, ans, func(w io.Writer) {
		for _, a := range ans {
			fmt.Fprintf(w, "%s: %s %s %s\n", a.Mailbox, a.ResponseCode, a.View, a.Merged)
			for _, e := range a.Events {
				fmt.Fprintf(w, "  %s – %s  %-9s %s %s\n", e.Start, e.End, e.Busy, e.Subject, e.Location)
			}
		}
	})
	if err != nil {
		return report(stderr, "freebusy", err)
	}
	return exitOK
}
