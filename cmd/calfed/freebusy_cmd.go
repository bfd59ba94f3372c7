package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"time"

	"github.com/calfed/calfed/config"
	"github.com/calfed/calfed/internal/cli"
	"github.com/calfed/calfed/partner"
	"github.com/calfed/calfed/userfb"
)

// runFreeBusy asks as one of our users through the free/busy core our
// users' fronts use (config.Local.FreeBusy); a mailbox no partner could
// be asked about makes the exit code 1, with the reason on stderr.
func runFreeBusy(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	var req userfb.Request
	var as, output *string
	return localCommand(ctx, "freebusy", args, stdout, stderr, []string{"MAILBOX…"}, func(fl *flag.FlagSet) {
		as = fl.String("as", "", "our user on whose behalf to ask (required)")
		fl.StringVar(&req.Start, "start", "", "window start, a date or RFC 3339 (UTC); default as the /freebusy URL's")
		fl.StringVar(&req.End, "end", "", "window end")
		fl.StringVar(&req.View, "view", "FreeBusyMerged", "RequestedView")
		fl.IntVar(&req.IntervalMinutes, "interval", 30, "merged interval in minutes")
		output = fl.String("o", "table", "table or json")
	}, func(l *config.Local, mailboxes []string) (int, error) {
		req.Attendees = mailboxes
		q, err := userfb.Query(req, time.Now(), l.Config.Limits.MaxMailboxes, l.Config.Limits.MaxWindowDays)
		if *as == "" {
			return exitFailed, usageError{Msg: "give -as USER, one of ours on whose behalf to ask"}
		} else if err != nil {
			return exitFailed, usageError{Msg: err.Error()}
		}
		results, err := l.Ask(ctx, *as, q)
		if err != nil {
			return exitError, err
		}
		ans, unasked := partner.Answers(results)
		for _, r := range unasked {
			fmt.Fprintf(stderr, "calfed freebusy: %s: %s: %s\n", r.Address, r.ResponseCode(), r.Message)
		}
		return min(len(unasked), exitError), cli.Show(stdout, *output, ans, func(w io.Writer) { partner.WriteText(w, ans) })
	})
}
