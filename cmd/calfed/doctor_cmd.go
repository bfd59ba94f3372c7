package main

import (
	"context"
	"flag"
	"io"
	"time"

	"github.com/calfed/calfed/config"
	"github.com/calfed/calfed/doctor"
	"github.com/calfed/calfed/internal/cli"
	"github.com/calfed/calfed/orgrel"
)

func runOrgrelTest(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	var o doctor.RelationshipOptions
	return checkCommand(ctx, "orgrel test", args, stdout, stderr, "NAME", func(fl *flag.FlagSet) {
		fl.StringVar(&o.User, "user", "", "our user on whose behalf to ask (required)")
		fl.StringVar(&o.PartnerUser, "partner-user", "", "a mailbox of the partner's: its EWS URL and free/busy are looked up")
	}, func(c *doctor.Checker, name string) *doctor.Report { o.Name = name; return c.Relationship(ctx, o) })
}

func runDoctor(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	var o doctor.DomainOptions
	return checkCommand(ctx, "doctor", args, stdout, stderr, "DOMAIN", func(fl *flag.FlagSet) {
		fl.StringVar(&o.AutodiscoverURL, "url", "", "ask this SOAP Autodiscover URL instead of discovering one")
		fl.Func("level", "the free/busy `LEVEL` our relationship must grant; default AvailabilityOnly or LimitedDetails",
			func(s string) (err error) { o.Level, err = orgrel.ParseLevel(s); return err })
	}, func(c *doctor.Checker, domain string) *doctor.Report { o.Domain = domain; return c.Domain(ctx, o) })
}

// checkCommand runs a check on this machine's store and trust and prints
// its report; exit 2 when a step failed.
func checkCommand(ctx context.Context, name string, args []string, stdout, stderr io.Writer, positional string,
	extra func(fl *flag.FlagSet), check func(c *doctor.Checker, arg string) *doctor.Report) int {
	var output string
	return localCommand(ctx, name, args, stdout, stderr, []string{positional}, func(fl *flag.FlagSet) {
		fl.StringVar(&output, "o", "table", "output: table or json")
		extra(fl)
	}, func(l *config.Local, pos []string) (int, error) {
		r := check(&doctor.Checker{Records: l.DB, Trust: l.Trust, HTTP: l.Config.HTTPClient(20 * time.Second)}, pos[0])
		if err := cli.ShowTable(stdout, output, r, r.WriteTable); err != nil || !r.Passed {
			return exitFailed, err
		}
		return exitOK, nil
	})
}
