package main

import (
	"context"
	"crypto/rsa"
	"encoding/base64"
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/calfed/calfed/config"
	"github.com/calfed/calfed/dnsproof"
	"github.com/calfed/calfed/internal/cli"
	"github.com/calfed/calfed/internal/domainname"
	"github.com/calfed/calfed/orgrel"
	"github.com/calfed/calfed/trust"
)

func runDomainProof(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	var output string
	return localCommand(ctx, "domain proof", args, stdout, stderr, []string{"DOMAIN"}, func(fl *flag.FlagSet) {
		fl.StringVar(&output, "o", "table", "table or json")
	}, func(l *config.Local, pos []string) (int, error) {
		out, err := l.Trust.Proofs(ctx, pos[0])
		if err != nil {
			return 0, err
		}
		return exitOK, cli.Show(stdout, output, out, func(w io.Writer) {
			for _, r := range out {
				fmt.Fprintf(w, "; %s certificate %s\n%s\n", r.Slot, r.Thumbprint, r.Record)
			}
		})
	})
}

// warnSkip says, before the change, that domains join the trust unproven.
func warnSkip(stderr io.Writer, domains []string) {
	fmt.Fprintf(stderr, "warning: federating %s without checking domain proofs; the audit log records it\n", strings.Join(domains, ", "))
}

func runDomainAdd(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	var skip bool
	return localCommand(ctx, "domain add", args, stdout, stderr, []string{"DOMAIN"}, func(fl *flag.FlagSet) {
		fl.BoolVar(&skip, "skip-proof", false, "federate without checking the proof (labs only; audited)")
	}, func(l *config.Local, pos []string) (int, error) {
		domain, err := domainname.Canonical(strings.TrimSpace(pos[0]))
		if err != nil {
			return 0, usageError{Msg: fmt.Sprintf("DOMAIN: %v", err)}
		}
		added, err := l.Trust.AddDomain(ctx, actor(), domain, trust.SetOptions{SkipProof: skip, Skipped: func(d []string) { warnSkip(stderr, d) }})
		switch {
		case err != nil:
			return 0, err
		case !added:
			fmt.Fprintf(stdout, "%s is already federated\n", domain)
		default:
			fmt.Fprintf(stdout, "federated %s\n", domain)
		}
		return exitOK, nil
	})
}

func runDomainVerify(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	var output string
	return localCommand(ctx, "domain verify", args, stdout, stderr, nil, func(fl *flag.FlagSet) {
		fl.StringVar(&output, "o", "table", "table or json")
	}, func(l *config.Local, _ []string) (int, error) {
		checks, err := l.Trust.VerifyOurs(ctx)
		if err != nil {
			return 0, err
		}
		reports := trust.Reports(checks)
		code := exitFailed
		switch trust.Verdict(checks) {
		case dnsproof.Pass:
			code = exitOK
		case dnsproof.TempError:
			code = exitError
		}
		return code, cli.ShowTable(stdout, output, reports, func(tw io.Writer) { cli.Columns(tw, trust.ReportColumns, reports) })
	})
}

func runDomainStatus(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	return adminCommand(ctx, "domain status", args, stdout, stderr, nil, nil, func(c *adminRun) error {
		checks, err := c.api.DomainChecks(ctx)
		if err != nil {
			return err
		}
		return cli.ShowTable(stdout, c.output, checks, func(tw io.Writer) { cli.Columns(tw, orgrel.DomainCheckColumns, checks) })
	})
}

func runOrgrelVerify(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	var certFile, stsConfigFile string
	var sigs []string
	return localCommand(ctx, "orgrel verify", args, stdout, stderr, []string{"NAME"}, func(fl *flag.FlagSet) {
		fl.StringVar(&certFile, "cert", "", "the partner's federation certificate (PEM)")
		fl.StringVar(&stsConfigFile, "sts-config", "", "or: a development token issuer's configuration, whose registration of the partner gives its certificate")
		fl.Func("signature", "DOMAIN=BASE64: the partner's proof signature (calfed domain proof -o json gives it); repeatable", func(v string) error {
			sigs = append(sigs, v)
			return nil
		})
	}, func(l *config.Local, pos []string) (int, error) {
		rel, err := l.DB.Relationship(ctx, pos[0])
		if err != nil {
			return 0, err
		}
		var pub *rsa.PublicKey
		switch {
		case (certFile == "") == (stsConfigFile == ""):
			return 0, usageError{Msg: "give the partner's certificate: -cert FILE or -sts-config FILE"}
		case certFile != "":
			var private bool
			pub, private, err = trust.PartnerKeyFile(certFile)
			if private {
				fmt.Fprintln(stderr, "warning: the file holds a private key; the partner should never have sent it, and should replace the certificate")
			}
		default:
			pub, err = trust.RegisteredKeyFile(stsConfigFile, rel)
		}
		if err != nil {
			return 0, err
		}
		given := map[string][]byte{}
		for _, s := range sigs {
			d, v, ok := strings.Cut(s, "=")
			b, err := base64.StdEncoding.DecodeString(v)
			if !ok || err != nil {
				return 0, usageError{Msg: fmt.Sprintf("-signature %q: want DOMAIN=BASE64", s)}
			}
			dom, err := domainname.Canonical(strings.TrimSpace(d))
			if err != nil {
				return 0, usageError{Msg: fmt.Sprintf("-signature %q: %v", s, err)}
			}
			given[dom] = b
		}
		proofs := l.Trust.VerifyPartner(ctx, rel, pub, given)
		code := exitOK
		for _, p := range proofs {
			if p.Status != string(dnsproof.Pass) {
				code = exitFailed
			}
		}
		return code, cli.Tabulate(stdout, func(tw io.Writer) { cli.Columns(tw, trust.PartnerProofColumns, proofs) })
	})
}
