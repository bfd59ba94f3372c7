package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"time"

	"github.com/calfed/calfed/certs"
	"github.com/calfed/calfed/federation"
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
	ring, err := certs.Load(ctx, cfg.keys())
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
