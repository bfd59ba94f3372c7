package main

import (
	"context"
	"flag"
	"fmt"
	"io"

	"github.com/calfed/calfed/config"
	"github.com/calfed/calfed/internal/cli"
	"github.com/calfed/calfed/managedelegation"
	"github.com/calfed/calfed/orgrel"
)

func runTrustRegister(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	var gateway, output string
	return localCommand(ctx, "trust register", args, stdout, stderr, nil, func(fl *flag.FlagSet) {
		fl.StringVar(&gateway, "gateway", "", "the gateway's ManageDelegation2 URL; default the one registered with before, else "+managedelegation.DefaultURL)
		fl.StringVar(&output, "o", "table", "table or json")
	}, func(l *config.Local, _ []string) (int, error) {
		r, err := l.Trust.Register(ctx, actor(), gateway)
		if r.AppID != "" {
			printRegistration(stdout, output, r)
		}
		return exitOK, err
	})
}

func printRegistration(w io.Writer, output string, r orgrel.Registration) error {
	return cli.ShowTable(w, output, r, func(tw io.Writer) {
		fmt.Fprintf(tw, "Gateway:\t%s\nAppId:\t%s\nApplicationUri:\t%s\nCertificate:\t%s\n", r.Gateway, r.AppID, r.ApplicationURI, r.Certificate)
		for _, d := range r.Domains {
			fmt.Fprintf(tw, "Registered:\t%s\t%s\n", d.Domain, d.State)
		}
	})
}

func runDomainRemove(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	return localCommand(ctx, "domain remove", args, stdout, stderr, []string{"DOMAIN"}, nil, func(l *config.Local, pos []string) (int, error) {
		if _, err := l.Trust.RemoveDomain(ctx, actor(), pos[0]); err != nil {
			return 0, err
		}
		fmt.Fprintf(stdout, "%s is no longer federated\n", pos[0])
		return exitOK, nil
	})
}
