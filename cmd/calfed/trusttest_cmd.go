package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/calfed/calfed/certs"
	"github.com/calfed/calfed/federation"
	"github.com/calfed/calfed/orgrel"
	"github.com/calfed/calfed/store"
)

func init() {
	commands["trust test"] = command{"trust test [-user ADDRESS]", "get a token for ourselves from the token issuer and validate it here, as Test-FederationTrust", runTrustTest}
}

func runTrustTest(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fl := flag.NewFlagSet("trust test", flag.ContinueOnError)
	fl.SetOutput(stderr)
	user := fl.String("user", "", "the user to ask a token for; default test@<account namespace>")
	cfg, db, _, err := localTrust(ctx, fl, args)
	if err != nil {
		return report(stderr, "trust test", err)
	}
	defer db.Close()
	failed := false
	step := func(name string, err error, detail string) bool {
		if err != nil {
			failed = true
			fmt.Fprintf(stdout, "FAIL  %-28s %v\n", name, err)
			return false
		}
		fmt.Fprintf(stdout, "ok    %-28s %s\n", name, detail)
		return true
	}
	t, err := db.Trust(ctx)
	if !step("federation trust", err, fmt.Sprintf("%s, ApplicationUri %s", t.AccountNamespace, t.ApplicationURI)) {
		return exitFailed
	}
	issuers, err := federation.DecodeCertificates(t.TokenIssuerCertificates)
	if err == nil && len(issuers) == 0 {
		err = fmt.Errorf("none recorded (calfed trust refresh -metadata …)")
	}
	if !step("token issuer certificates", err, fmt.Sprintf("%d, issuer %s", len(issuers), t.TokenIssuerURI)) {
		return exitFailed
	}
	now := time.Now()
	for _, c := range issuers {
		if now.After(c.NotAfter) {
			step("issuer certificate validity", fmt.Errorf("%s expired on %s", c.Subject.CommonName, c.NotAfter.Format("2006-01-02")), "")
		}
	}
	ring, err := certs.Load(ctx, cfg.Keys())
	cur := (*certs.Certificate)(nil)
	if err == nil {
		if cur = ring.Get(certs.Current); cur == nil {
			err = fmt.Errorf("none (calfed trust certificate new)")
		}
	}
	if !step("our federation certificate", err, func() string {
		if cur == nil {
			return ""
		}
		return cur.Thumbprint() + ", valid until " + cur.Cert.NotAfter.Format("2006-01-02")
	}()) {
		return exitFailed
	}
	who := *user
	if who == "" {
		who = "test@" + t.AccountNamespace
	}
	client := &federation.Client{Certificate: cur, ApplicationURI: t.ApplicationURI, IssuerURI: t.TokenIssuerURI, IssuerEndpoint: t.TokenIssuerEndpoint}
	tok, err := client.Token(ctx, who, t.ApplicationURI, federation.OfferFreeBusy)
	if !step("token request", err, "from "+t.TokenIssuerEndpoint+" for "+who) {
		return exitFailed
	}
	v := &federation.Validator{Trust: func() *federation.Trust {
		return &federation.Trust{Keys: ring, Issuers: issuers, ApplicationURI: t.ApplicationURI}
	}, Skew: time.Duration(cfg.Federation.ClockSkew)}
	c, err := v.Validate(tok, federation.OfferFreeBusy, time.Now())
	step("token validation", err, fmt.Sprintf("%s, expires %s", c.Email, c.Expires.Format(time.RFC3339)))
	if failed {
		return exitFailed
	}
	return exitOK
}

func init() {
	commands["trust new"] = command{"trust new -account-namespace DOMAIN -metadata FILE|URL [-domains …] [-skip-proof]", "set up the federation trust in one step: a federation certificate if there is none, proofs checked, issuer metadata", runTrustNew}
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
	cfg, db, _, err := localTrust(ctx, fl, args)
	if err != nil {
		return report(stderr, "trust new", err)
	}
	defer db.Close()
	if *ns == "" || *source == "" {
		return report(stderr, "trust new", usageError{"-account-namespace and -metadata are required"})
	}
	if _, err := db.Trust(ctx); err == nil {
		return report(stderr, "trust new", fmt.Errorf("%w: a federation trust exists; change it with calfed trust set / refresh", store.ErrExists))
	}
	data, err := readMetadata(ctx, *source)
	if err != nil {
		return report(stderr, "trust new", err)
	}
	m, err := federation.ParseMetadata(data, time.Now())
	if err != nil {
		return report(stderr, "trust new", fmt.Errorf("%w: %v", store.ErrInvalid, err))
	}
	t := orgrel.Trust{AccountNamespace: *ns, TokenIssuerURI: m.IssuerURI, TokenIssuerEndpoint: m.Endpoint}
	for _, d := range strings.Split(*domains, ",") {
		if d = strings.TrimSpace(d); d != "" {
			t.Domains = append(t.Domains, d)
		}
	}
	// Our certificate first: the domains' proofs are made with it.
	ring, err := certs.Load(ctx, cfg.Keys())
	if err != nil {
		return report(stderr, "trust new", err)
	}
	if ring.Get(certs.Current) == nil {
		c, err := certs.Generate("Federation "+*ns, time.Now())
		if err == nil {
			err = ring.Put(ctx, cfg.Keys(), certs.Current, c)
		}
		if err != nil {
			return report(stderr, "trust new", err)
		}
		fmt.Fprintf(stdout, "made federation certificate %s\n", c.Thumbprint())
	}
	if err := requireProofs(ctx, cfg, db, append([]string{*ns}, t.Domains...), *skip, stderr); err != nil {
		return report(stderr, "trust new", err)
	}
	action := "trust.new"
	if *skip {
		action = "trust.new.skip-proof"
	}
	if _, err := db.SetTrustAction(ctx, actor(), action, t); err != nil {
		return report(stderr, "trust new", err)
	}
	t, _ = db.Trust(ctx)
	if t, _, err = refreshMetadata(ctx, db, t, *source, actor(), time.Now()); err != nil {
		return report(stderr, "trust new", err)
	}
	if err := recordCurrent(ctx, db, ring); err != nil {
		return report(stderr, "trust new", err)
	}
	fmt.Fprintf(stdout, "federation trust for %s: ApplicationUri %s, token issuer %s; federation certificate %s\n",
		t.AccountNamespace, t.ApplicationURI, t.TokenIssuerURI, ring.Get(certs.Current).Thumbprint())
	fmt.Fprintln(stdout, "Next: publish domain proofs, register the certificate with the token issuer (calfed trust certificate export), then calfed trust test.")
	return exitOK
}
