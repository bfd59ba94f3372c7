package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"time"

	"github.com/calfed/calfed/trust"
)

func runTrustTest(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fl := flag.NewFlagSet("trust test", flag.ContinueOnError)
	fl.SetOutput(stderr)
	user := fl.String("user", "", "the user to ask a token for; default test@<account namespace>")
	l, _, err := localTrust(ctx, fl, args)
	if err != nil {
		return report(stderr, "trust test", err)
	}
	defer l.Close()
	code := exitOK
	for _, s := range l.trust.Test(ctx, *user, time.Duration(l.cfg.Federation.ClockSkew)) {
		if s.Err != nil {
			code = exitFailed
			fmt.Fprintf(stdout, "FAIL  %-28s %v\n", s.Name, s.Err)
			continue
		}
		fmt.Fprintf(stdout, "ok    %-28s %s\n", s.Name, s.Detail)
	}
	return code
}

// runTrustNew is New-FederationTrust plus Set-FederatedOrganizationIdentifier:
// the trust from the issuer's metadata, and our first certificate.
func runTrustNew(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fl := flag.NewFlagSet("trust new", flag.ContinueOnError)
	fl.SetOutput(stderr)
	ns := fl.String("account-namespace", "", "our primary domain (required)")
	domains := fl.String("domains", "", "further federated domains, comma-separated")
	source := fl.String("metadata", "", "the token issuer's metadata: a file or an https:// URL (required)")
	skip := fl.Bool("skip-proof", false, "federate the domains without checking their proofs (labs only; audited)")
	l, _, err := localTrust(ctx, fl, args)
	if err != nil {
		return report(stderr, "trust new", err)
	}
	defer l.Close()
	if *ns == "" || *source == "" {
		return report(stderr, "trust new", usageError{"-account-namespace and -metadata are required"})
	}
	opt := trust.CreateOptions{AccountNamespace: *ns, Domains: splitList(*domains), Metadata: *source, SkipProof: *skip,
		Skipped: func(domains []string) { warnSkip(stderr, domains) }}
	c, err := l.trust.Create(ctx, actor(), opt)
	if c.Made != nil {
		fmt.Fprintf(stdout, "made federation certificate %s\n", c.Made.Thumbprint())
	}
	if err != nil {
		return report(stderr, "trust new", err)
	}
	fmt.Fprintf(stdout, "federation trust for %s: ApplicationUri %s, token issuer %s; federation certificate %s\n",
		c.Trust.AccountNamespace, c.Trust.ApplicationURI, c.Trust.TokenIssuerURI, c.Current.Thumbprint())
	fmt.Fprintln(stdout, "Next: publish domain proofs, register the certificate with the token issuer (calfed trust certificate export), then calfed trust test.")
	return exitOK
}
