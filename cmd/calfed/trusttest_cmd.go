package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"time"

	"github.com/calfed/calfed/config"
	"github.com/calfed/calfed/orgrel"
	"github.com/calfed/calfed/trust"
)

func runTrustTest(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	var user string
	return localCommand(ctx, "trust test", args, stdout, stderr, nil, func(fl *flag.FlagSet) {
		fl.StringVar(&user, "user", "", "the user to ask a token for; default test@<account namespace>")
	}, func(l *config.Local, _ []string) (int, error) {
		code := exitOK
		for _, s := range l.Trust.Test(ctx, user, time.Duration(l.Config.Federation.ClockSkew)) {
			if s.Err != nil {
				code = exitFailed
				fmt.Fprintf(stdout, "FAIL  %-28s %v\n", s.Name, s.Err)
				continue
			}
			fmt.Fprintf(stdout, "ok    %-28s %s\n", s.Name, s.Detail)
		}
		return code, nil
	})
}

// runTrustNew is New-FederationTrust plus Set-FederatedOrganizationIdentifier:
// the trust from the issuer's metadata, and our first certificate.
func runTrustNew(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	var ns, domains, source string
	var skip bool
	return localCommand(ctx, "trust new", args, stdout, stderr, nil, func(fl *flag.FlagSet) {
		fl.StringVar(&ns, "account-namespace", "", "our primary domain (required)")
		fl.StringVar(&domains, "domains", "", "further federated domains, comma-separated")
		fl.StringVar(&source, "metadata", "", "the token issuer's metadata: a file or an https:// URL (required)")
		fl.BoolVar(&skip, "skip-proof", false, "federate the domains without checking their proofs (labs only; audited)")
	}, func(l *config.Local, _ []string) (int, error) {
		if ns == "" || source == "" {
			return 0, usageError{Msg: "-account-namespace and -metadata are required"}
		}
		opt := trust.CreateOptions{AccountNamespace: ns, Domains: orgrel.SplitList(domains), Metadata: source, SkipProof: skip,
			Skipped: func(domains []string) { warnSkip(stderr, domains) }}
		c, err := l.Trust.Create(ctx, actor(), opt)
		if c.Made != nil {
			fmt.Fprintf(stdout, "made federation certificate %s\n", c.Made.Thumbprint())
		}
		if errors.Is(err, trust.ErrUnproven) {
			// What to publish before running this command again.
			for _, p := range l.Trust.CurrentProofs(ctx, append([]string{ns}, orgrel.SplitList(domains)...)) {
				fmt.Fprintf(stdout, "publish: %s\n", p.Record)
			}
		}
		if err != nil {
			return 0, err
		}
		fmt.Fprintf(stdout, "federation trust for %s: ApplicationUri %s, token issuer %s; federation certificate %s\n",
			c.Trust.AccountNamespace, c.Trust.ApplicationURI, c.Trust.TokenIssuerURI, c.Current.Thumbprint())
		fmt.Fprintln(stdout, "Next: calfed trust register (the token issuer learns our certificate and domains), then calfed trust test.")
		return exitOK, nil
	})
}
