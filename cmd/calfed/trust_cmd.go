package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"

	"github.com/calfed/calfed/internal/cli"
	"github.com/calfed/calfed/orgrel"
	"github.com/calfed/calfed/store"
	"github.com/calfed/calfed/trust"
)

func runTrustSet(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	var apply func(*orgrel.Trust) error
	var skipProof bool
	return adminCommand(ctx, "trust set", args, stdout, stderr, nil, func(fl *flag.FlagSet) {
		apply = cli.FieldFlags(fl, orgrel.TrustFields)
		fl.BoolVar(&skipProof, "skip-proof", false, "federate new domains without checking their proofs (labs only; audited)")
	}, func(c *adminRun) error {
		if c.fl.NFlag() == 0 {
			return usageError{Msg: "nothing to set: give at least one option"}
		}
		before, err := c.api.Trust(ctx)
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			return err
		}
		t := before
		if err := apply(&t); err != nil {
			return err
		}
		if len(trust.NewDomains(before, t)) > 0 {
			if c.local == nil { // -skip-proof is for the server's own machine only
				return usageError{Msg: "federated domains change only on the server itself (calfed domain add), where the proofs can be checked"}
			}
			// Set on the configuration's store, with options the admin
			// API does not offer.
			t, err = c.local.Trust.Set(ctx, actor(), t, trust.SetOptions{SkipProof: skipProof, Skipped: func(d []string) { warnSkip(stderr, d) }})
		} else {
			t, err = c.api.SetTrust(ctx, actor(), t)
		}
		if err != nil {
			return err
		}
		return cli.PrintFields(stdout, c.output, orgrel.TrustFields, t)
	})
}

func runTrustShow(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	return adminCommand(ctx, "trust show", args, stdout, stderr, nil, nil, func(c *adminRun) error {
		t, err := c.api.Trust(ctx)
		if err != nil {
			return err
		}
		r, err := c.api.Registration(ctx)
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			return err
		}
		if c.output == "json" {
			v := struct {
				orgrel.Trust
				Registration *orgrel.Registration `json:"registration,omitempty"`
			}{Trust: t}
			if r.AppID != "" {
				v.Registration = &r
			}
			return cli.Show(stdout, c.output, v, nil)
		}
		if err := cli.PrintFields(stdout, c.output, orgrel.TrustFields, t); err != nil {
			return err
		}
		if r.AppID == "" {
			fmt.Fprintln(stdout, "Registration:       none (calfed trust register)")
			return nil
		}
		return printRegistration(stdout, c.output, r)
	})
}
