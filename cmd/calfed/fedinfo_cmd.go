package main

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/calfed/calfed/autodiscover"
	"github.com/calfed/calfed/internal/cli"
	"github.com/calfed/calfed/internal/outbound"
)

func runFedinfo(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fl := newFlags("fedinfo")
	endpoint := fl.String("url", "", "ask this SOAP Autodiscover URL instead of discovering one")
	output := fl.String("o", "table", "output: table or json")
	verbose := fl.Bool("v", false, "print every step tried")
	timeout := fl.Duration("timeout", 20*time.Second, "give up after this long")
	pos, err := parseArgs(fl, args, "DOMAIN")
	if err != nil {
		return report(stdout, stderr, "fedinfo", err)
	}
	d := &autodiscover.Discoverer{URL: *endpoint, HTTP: outbound.Default().HTTP(10 * time.Second)}
	if *verbose {
		d.Trace = func(step string) { fmt.Fprintln(stderr, "  tried", step) }
	}
	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()
	info, err := d.FederationInformation(ctx, pos[0])
	if err != nil {
		fmt.Fprintf(stderr, "calfed fedinfo: %s\n", cli.Plain(err))
		return exitFailed
	}
	cli.ShowTable(stdout, *output, info, info.WriteTable)
	if *output == "json" {
		return exitOK
	}
	for _, w := range info.Warnings {
		fmt.Fprintln(stderr, "warning:", w)
	}
	return exitOK
}
