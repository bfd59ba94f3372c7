package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/calfed/calfed/admin"
	"github.com/calfed/calfed/orgrel"
	"github.com/calfed/calfed/store"
	"github.com/calfed/calfed/trust"
)

func runTrustSet(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	var ns, appURI, domains, issuerURI, issuerEPR string
	var disclose, skipProof bool
	return adminCommand(ctx, "trust set", args, stderr, nil, func(fl *flag.FlagSet) {
		fl.StringVar(&ns, "account-namespace", "", "AccountNamespace: our primary domain (required the first time)")
		fl.StringVar(&appURI, "application-uri", "", "ApplicationUri; default FYDIBOHF25SPDLT.<account namespace>")
		fl.StringVar(&domains, "domains", "", "federated domains besides the account namespace, comma-separated")
		fl.StringVar(&issuerURI, "token-issuer-uri", "", "the token issuer's URI, e.g. urn:federation:MicrosoftOnline (required the first time)")
		fl.StringVar(&issuerEPR, "token-issuer-endpoint", "", "the token issuer's endpoint, e.g. https://login.microsoftonline.com/extSTS.srf (required the first time)")
		fl.BoolVar(&disclose, "disclose-all-domains", false, "list every federated domain in GetFederationInformation, not only the one asked about")
		fl.BoolVar(&skipProof, "skip-proof", false, "federate new domains without checking their proofs (labs only; audited)")
	}, func(api admin.API, a *adminFlags, fl *flag.FlagSet, pos []string) error {
		if fl.NFlag() == 0 {
			return usageError{"nothing to set: give at least one option"}
		}
		before, err := api.Trust(ctx)
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			return err
		}
		t := before
		set := map[string]bool{}
		fl.Visit(func(f *flag.Flag) { set[f.Name] = true })
		if set["account-namespace"] {
			if t.AccountNamespace != "" && strings.EqualFold(t.ApplicationURI, orgrel.DefaultApplicationURI(t.AccountNamespace)) && !set["application-uri"] {
				t.ApplicationURI = "" // follows the new namespace
			}
			t.AccountNamespace = ns
		}
		if set["application-uri"] {
			t.ApplicationURI = appURI
		}
		if set["domains"] {
			t.Domains = splitList(domains)
		}
		if set["token-issuer-uri"] {
			t.TokenIssuerURI = issuerURI
		}
		if set["token-issuer-endpoint"] {
			t.TokenIssuerEndpoint = issuerEPR
		}
		if set["disclose-all-domains"] {
			t.DiscloseAllDomains = disclose
		}
		if len(trust.NewDomains(before, t)) > 0 {
			if a.server != "" { // -skip-proof is for the server's own machine only
				return usageError{"federated domains change only on the server itself (calfed domain add), where the proofs can be checked"}
			}
			// Set on the configuration's store, with options the admin
			// API does not offer.
			t, err = a.local.Trust.Set(ctx, actor(), t, trust.SetOptions{SkipProof: skipProof, Skipped: func(d []string) { warnSkip(stderr, d) }})
		} else {
			t, err = api.SetTrust(ctx, actor(), t)
		}
		if err != nil {
			return err
		}
		return printTrust(stdout, a.output, t)
	})
}

// splitList splits a comma-separated flag value, dropping empty items.
func splitList(s string) []string {
	var out []string
	for _, d := range strings.Split(s, ",") {
		if d = strings.TrimSpace(d); d != "" {
			out = append(out, d)
		}
	}
	return out
}

func runTrustShow(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	return adminCommand(ctx, "trust show", args, stderr, nil, nil, func(api admin.API, a *adminFlags, fl *flag.FlagSet, pos []string) error {
		t, err := api.Trust(ctx)
		if err != nil {
			return err
		}
		r, err := api.Registration(ctx)
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			return err
		}
		if a.output == "json" {
			printJSON(stdout, struct {
				orgrel.Trust
				Registration *orgrel.Registration `json:"registration,omitempty"`
			}{t, ptrIf(r, r.AppID != "")})
			return nil
		}
		if err := printTrust(stdout, a.output, t); err != nil {
			return err
		}
		if r.AppID == "" {
			fmt.Fprintln(stdout, "Registration:       none (calfed trust register)")
			return nil
		}
		printRegistration(stdout, a.output, r)
		return nil
	})
}

func ptrIf[T any](v T, ok bool) *T {
	if !ok {
		return nil
	}
	return &v
}

func printTrust(w io.Writer, output string, t orgrel.Trust) error {
	if output == "json" {
		printJSON(w, t)
		return nil
	}
	tw := table(w)
	fmt.Fprintf(tw, "AccountNamespace:\t%s\nApplicationUri:\t%s\nDomains:\t%s\nTokenIssuerUri:\t%s\nTokenIssuerEpr:\t%s\nDiscloseAllDomains:\t%v\nUpdated:\t%s\nVersion:\t%d\n",
		t.AccountNamespace, t.ApplicationURI, strings.Join(t.Domains, ", "), t.TokenIssuerURI, t.TokenIssuerEndpoint,
		t.DiscloseAllDomains, t.Updated.Format(time.RFC3339), t.Version)
	return tw.Flush()
}
