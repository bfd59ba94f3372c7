package main

import (
	"context"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"flag"
	"fmt"
	"github.com/calfed/calfed/config"
	"io"
	"log/slog"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/calfed/calfed/admin"
	"github.com/calfed/calfed/certs"
	"github.com/calfed/calfed/dnsproof"
	"github.com/calfed/calfed/federation"
	"github.com/calfed/calfed/orgrel"
	"github.com/calfed/calfed/store"
)

func init() {
	for name, c := range map[string]command{
		"domain proof":  {"domain proof DOMAIN [-o json]", "print the TXT records that prove DOMAIN is ours, for each federation certificate", runDomainProof},
		"domain add":    {"domain add DOMAIN [-skip-proof]", "federate a domain once its proof is published", runDomainAdd},
		"domain verify": {"domain verify [-o json]", "check the proofs of all our federated domains now", runDomainVerify},
		"domain status": {"domain status [-o json]", "the last check of every domain proof, ours (the server re-checks them) and partners'", runDomainStatus},
		"orgrel verify": {"orgrel verify NAME -cert FILE|-sts-config FILE [-signature DOMAIN=BASE64 …]", "check a partner's domain proofs against its certificate", runOrgrelVerify},
	} {
		commands[name] = c
	}
}

// expectedProofs are the proofs of domain for each certificate we hold.
func expectedProofs(ring *certs.Ring, domain string) ([]dnsproof.Expected, error) {
	var out []dnsproof.Expected
	for _, s := range certs.Slots {
		c := ring.Get(s)
		if c == nil {
			continue
		}
		p, err := dnsproof.Proof(c.Key, domain)
		if err != nil {
			return nil, err
		}
		out = append(out, dnsproof.Expected{Slot: string(s), Thumbprint: c.Thumbprint(), Proof: p})
	}
	return out, nil
}

type proofRecord struct {
	Domain     string `json:"domain"`
	Slot       string `json:"slot"`
	Thumbprint string `json:"thumbprint"`
	Proof      string `json:"proof"`
	Signature  string `json:"signature"` // for partners running calfed: lets them check the proof against our certificate
	Record     string `json:"record"`
}

func runDomainProof(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fl := flag.NewFlagSet("domain proof", flag.ContinueOnError)
	fl.SetOutput(stderr)
	output := fl.String("o", "table", "table or json")
	cfg, db, pos, err := localTrust(ctx, fl, args, "DOMAIN")
	if err != nil {
		return report(stderr, "domain proof", err)
	}
	db.Close()
	ring, err := certs.Load(ctx, cfg.Keys())
	if err != nil {
		return report(stderr, "domain proof", err)
	}
	domain := dnsproof.Normalize(pos[0])
	var out []proofRecord
	for _, s := range certs.Slots {
		c := ring.Get(s)
		if c == nil {
			continue
		}
		sig, err := dnsproof.Signature(c.Key, domain)
		if err != nil {
			return report(stderr, "domain proof", err)
		}
		p := dnsproof.ProofOfSignature(sig)
		out = append(out, proofRecord{Domain: domain, Slot: string(s), Thumbprint: c.Thumbprint(), Proof: p,
			Signature: base64.StdEncoding.EncodeToString(sig), Record: fmt.Sprintf("%s. 3600 IN TXT \"%s\"", domain, p)})
	}
	if len(out) == 0 {
		return report(stderr, "domain proof", errors.New("no federation certificate (calfed trust certificate new)"))
	}
	if *output == "json" {
		printJSON(stdout, out)
		return exitOK
	}
	for _, r := range out {
		fmt.Fprintf(stdout, "; %s certificate %s\n%s\n", r.Slot, r.Thumbprint, r.Record)
	}
	return exitOK
}

// proveOurs checks that domain carries the proof of our current
// certificate, recording the outcome. The warning, on a pass, says that a
// staged certificate's proof is not published yet: the rollover to it
// would break the domain's federation.
func proveOurs(ctx context.Context, cfg *config.Config, db *store.DB, ring *certs.Ring, domain string) (res dnsproof.Result, warning string) {
	want, err := expectedProofs(ring, domain)
	if err != nil || ring.Get(certs.Current) == nil {
		return dnsproof.Result{Domain: domain, Status: dnsproof.PermError, Err: errors.New("no current federation certificate to prove the domain with (calfed trust certificate new)")}, ""
	}
	res = dnsproof.Check(ctx, cfg.Resolver(), domain, want)
	if res.Status == dnsproof.Pass && !res.Has(string(certs.Current)) {
		res.Status, res.Err = dnsproof.Fail, fmt.Errorf("%w: only the %s certificate's proof is published", dnsproof.ErrWrongProof, strings.Join(res.Matched, ", "))
	}
	detail := "proofs found for " + strings.Join(res.Matched, ", ")
	if res.Status == dnsproof.Pass && ring.Get(certs.Next) != nil && !res.Has(string(certs.Next)) {
		warning = "the next certificate's proof is not published yet: publish it (calfed domain proof " + domain + ") before the rollover"
		detail += "; " + warning
	}
	if res.Err != nil {
		detail = res.Err.Error()
	}
	db.RecordDomainCheck(ctx, orgrel.DomainCheck{Domain: domain, Kind: "ours", Status: string(res.Status), Detail: detail, Checked: time.Now()})
	return res, warning
}

// requireProofs checks each domain that is not yet federated; it returns
// an error naming the first that does not pass, and how to publish it.
func requireProofs(ctx context.Context, cfg *config.Config, db *store.DB, domains []string, skip bool, stderr io.Writer) error {
	if skip {
		fmt.Fprintf(stderr, "warning: federating %s without checking domain proofs; the audit log records it\n", strings.Join(domains, ", "))
		return nil
	}
	ring, err := certs.Load(ctx, cfg.Keys())
	if err != nil {
		return err
	}
	for _, d := range domains {
		res, _ := proveOurs(ctx, cfg, db, ring, d)
		switch res.Status {
		case dnsproof.Pass:
		case dnsproof.TempError:
			return fmt.Errorf("%s: the proof could not be checked now (%v); try again", d, res.Err)
		default:
			return fmt.Errorf("%w: %s: %s (%v); publish what calfed domain proof %s prints, or use -skip-proof in a lab", store.ErrInvalid, d, res.Status, res.Err, d)
		}
	}
	return nil
}

func runDomainAdd(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fl := flag.NewFlagSet("domain add", flag.ContinueOnError)
	fl.SetOutput(stderr)
	skip := fl.Bool("skip-proof", false, "federate without checking the proof (labs only; audited)")
	cfg, db, pos, err := localTrust(ctx, fl, args, "DOMAIN")
	if err != nil {
		return report(stderr, "domain add", err)
	}
	defer db.Close()
	domain := dnsproof.Normalize(pos[0])
	t, err := db.Trust(ctx)
	if err != nil {
		return report(stderr, "domain add", err)
	}
	for _, d := range t.Domains {
		if d == domain {
			fmt.Fprintf(stdout, "%s is already federated\n", domain)
			return exitOK
		}
	}
	if err := requireProofs(ctx, cfg, db, []string{domain}, *skip, stderr); err != nil {
		return report(stderr, "domain add", err)
	}
	t.Domains = append(t.Domains, domain)
	action := "domain.add"
	if *skip {
		action = "domain.add.skip-proof"
	}
	if _, err := db.SetTrustAction(ctx, actor(), action, t); err != nil {
		return report(stderr, "domain add", err)
	}
	fmt.Fprintf(stdout, "federated %s\n", domain)
	return exitOK
}

func runDomainVerify(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fl := flag.NewFlagSet("domain verify", flag.ContinueOnError)
	fl.SetOutput(stderr)
	output := fl.String("o", "table", "table or json")
	cfg, db, _, err := localTrust(ctx, fl, args)
	if err != nil {
		return report(stderr, "domain verify", err)
	}
	defer db.Close()
	results, err := verifyOurDomains(ctx, cfg, db, slog.New(slog.DiscardHandler))
	if err != nil {
		return report(stderr, "domain verify", err)
	}
	code := exitOK
	type row struct {
		Domain  string   `json:"domain"`
		Status  string   `json:"status"`
		Matched []string `json:"matched"`
		Detail  string   `json:"detail,omitempty"`
	}
	var rows []row
	for _, r := range results {
		detail := r.Warning
		if r.Err != nil {
			detail = r.Err.Error()
		}
		rows = append(rows, row{r.Domain, string(r.Status), r.Matched, detail})
		switch r.Status {
		case dnsproof.Pass:
		case dnsproof.TempError:
			if code == exitOK {
				code = exitError
			}
		default:
			code = exitFailed
		}
	}
	if *output == "json" {
		printJSON(stdout, rows)
		return code
	}
	tw := table(stdout)
	fmt.Fprintln(tw, "DOMAIN\tSTATUS\tPROOFS FOUND FOR\tDETAIL")
	for _, r := range rows {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", r.Domain, r.Status, dash(strings.Join(r.Matched, ",")), dash(r.Detail))
	}
	tw.Flush()
	return code
}

func runDomainStatus(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	return adminCommand(ctx, "domain status", args, stderr, nil, nil, func(api admin.API, a *adminFlags, fl *flag.FlagSet, pos []string) error {
		checks, err := api.DomainChecks(ctx)
		if err != nil {
			return err
		}
		if a.output == "json" {
			printJSON(stdout, checks)
			return nil
		}
		tw := table(stdout)
		fmt.Fprintln(tw, "DOMAIN\tWHOSE\tSTATUS\tCHECKED\tDETAIL")
		for _, c := range checks {
			whose := "ours"
			if c.Kind == "partner" {
				whose = "orgrel " + c.Relationship
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", c.Domain, whose, c.Status, c.Checked.UTC().Format(time.RFC3339), dash(c.Detail))
		}
		return tw.Flush()
	})
}

// checked is one of our domains' proof check.
type checked struct {
	dnsproof.Result
	Warning string
}

// verifyOurDomains checks every federated domain, logging what is wrong.
func verifyOurDomains(ctx context.Context, cfg *config.Config, db *store.DB, log *slog.Logger) ([]checked, error) {
	t, err := db.Trust(ctx)
	if err != nil {
		return nil, err
	}
	ring, err := certs.Load(ctx, cfg.Keys())
	if err != nil {
		return nil, err
	}
	var out []checked
	for _, d := range t.Domains {
		res, warning := proveOurs(ctx, cfg, db, ring, d)
		out = append(out, checked{res, warning})
		if res.Status != dnsproof.Pass {
			log.Warn("domain proof check", "domain", d, "status", res.Status, "err", res.Err)
		}
		if warning != "" {
			log.Warn("a certificate rollover is staged but its proof is not published", "domain", d)
		}
	}
	return out, nil
}

// recheckDomains runs verifyOurDomains every interval.
func recheckDomains(ctx context.Context, cfg *config.Config, db *store.DB, interval time.Duration, log *slog.Logger) {
	tick := time.NewTicker(interval)
	defer tick.Stop()
	for {
		if _, err := verifyOurDomains(ctx, cfg, db, log); err != nil && !errors.Is(err, store.ErrNotFound) && ctx.Err() == nil {
			log.Error("domain proofs not checked", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

func runOrgrelVerify(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fl := flag.NewFlagSet("orgrel verify", flag.ContinueOnError)
	fl.SetOutput(stderr)
	certFile := fl.String("cert", "", "the partner's federation certificate (PEM)")
	stsConfigFile := fl.String("sts-config", "", "or: a development token issuer's configuration, whose registration of the partner gives its certificate")
	var sigs multiFlag
	fl.Var(&sigs, "signature", "DOMAIN=BASE64: the partner's proof signature (calfed domain proof -o json gives it); repeatable")
	cfg, db, pos, err := localTrust(ctx, fl, args, "NAME")
	if err != nil {
		return report(stderr, "orgrel verify", err)
	}
	defer db.Close()
	rel, err := db.Relationship(ctx, pos[0])
	if err != nil {
		return report(stderr, "orgrel verify", err)
	}
	var pub *rsa.PublicKey
	switch {
	case (*certFile == "") == (*stsConfigFile == ""):
		return report(stderr, "orgrel verify", usageError{"give the partner's certificate: -cert FILE or -sts-config FILE"})
	case *certFile != "":
		data, err := os.ReadFile(*certFile)
		if err != nil {
			return report(stderr, "orgrel verify", err)
		}
		if pub, err = partnerKey(data, stderr); err != nil {
			return report(stderr, "orgrel verify", fmt.Errorf("%w: %s: %v", store.ErrInvalid, *certFile, err))
		}
	default:
		if pub, err = registeredKey(*stsConfigFile, rel); err != nil {
			return report(stderr, "orgrel verify", err)
		}
	}
	given := map[string][]byte{}
	for _, s := range sigs {
		d, v, ok := strings.Cut(s, "=")
		b, err := base64.StdEncoding.DecodeString(v)
		if !ok || err != nil {
			return report(stderr, "orgrel verify", usageError{fmt.Sprintf("-signature %q: want DOMAIN=BASE64", s)})
		}
		given[dnsproof.Normalize(d)] = b
	}
	code := exitOK
	tw := table(stdout)
	fmt.Fprintln(tw, "DOMAIN\tSTATUS\tDETAIL")
	for _, d := range rel.Domains {
		status, detail := partnerProof(ctx, cfg, pub, d, given[d])
		db.RecordDomainCheck(ctx, orgrel.DomainCheck{Domain: d, Kind: "partner", Relationship: rel.Name, Status: status, Detail: detail, Checked: time.Now()})
		fmt.Fprintf(tw, "%s\t%s\t%s\n", d, status, detail)
		if status != string(dnsproof.Pass) {
			code = exitFailed
		}
	}
	tw.Flush()
	return code
}

// partnerProof checks a partner domain: its TXT records must hold the proof
// of a signature that verifies with the partner's certificate. Without the
// signature the published proof (a hash of it) cannot be tied to the
// certificate, and the domain stays unverified.
func partnerProof(ctx context.Context, cfg *config.Config, pub *rsa.PublicKey, domain string, sig []byte) (string, string) {
	if sig == nil {
		res := dnsproof.Check(ctx, cfg.Resolver(), domain, nil)
		switch res.Status {
		case dnsproof.Fail: // proof-shaped records exist; none we could tie to the certificate
			return "unverified", fmt.Sprintf("%d proof records found; give -signature to check them against the certificate", res.Found)
		default:
			return string(res.Status), errText(res.Err)
		}
	}
	if err := dnsproof.VerifySignature(pub, domain, sig); err != nil {
		return string(dnsproof.Fail), err.Error()
	}
	res := dnsproof.Check(ctx, cfg.Resolver(), domain, []dnsproof.Expected{{Slot: "partner", Proof: dnsproof.ProofOfSignature(sig)}})
	return string(res.Status), errText(res.Err)
}

// registeredKey is the key of the organisation a token issuer registered
// for the relationship's domains: exactly one must claim any of them, and
// it must be the relationship's TargetApplicationUri where that is set.
func registeredKey(stsConfig string, rel orgrel.Relationship) (*rsa.PublicKey, error) {
	_, orgs, err := loadSTSConfig(stsConfig)
	if err != nil {
		return nil, err
	}
	var found []federation.Organization
	for _, o := range orgs {
		for _, d := range o.Domains {
			if slices.Contains(rel.Domains, dnsproof.Normalize(d)) {
				found = append(found, o)
				break
			}
		}
	}
	switch {
	case len(found) == 0:
		return nil, fmt.Errorf("%w: %s registers no organisation with the domains of %s (%s)", store.ErrInvalid, stsConfig, rel.Name, strings.Join(rel.Domains, ", "))
	case len(found) > 1:
		return nil, fmt.Errorf("%w: %s registers several organisations with the domains of %s", store.ErrInvalid, stsConfig, rel.Name)
	case rel.TargetApplicationURI != "" && !strings.EqualFold(found[0].ApplicationURI, rel.TargetApplicationURI):
		return nil, fmt.Errorf("%w: the registered organisation %s has ApplicationUri %s, the relationship expects %s", store.ErrInvalid, found[0].Name, found[0].ApplicationURI, rel.TargetApplicationURI)
	}
	pub, ok := found[0].Certificate.PublicKey.(*rsa.PublicKey)
	if !ok {
		return nil, fmt.Errorf("%w: the registered certificate's key is not RSA", store.ErrInvalid)
	}
	return pub, nil
}

// partnerKey reads the public key of the first certificate in a PEM file.
func partnerKey(data []byte, stderr io.Writer) (*rsa.PublicKey, error) {
	var cert *x509.Certificate
	for rest := data; ; {
		var b *pem.Block
		if b, rest = pem.Decode(rest); b == nil {
			break
		}
		switch {
		case strings.HasSuffix(b.Type, "PRIVATE KEY"):
			fmt.Fprintln(stderr, "warning: the file holds a private key; the partner should never have sent it, and should replace the certificate")
		case b.Type == "CERTIFICATE" && cert == nil:
			c, err := x509.ParseCertificate(b.Bytes)
			if err != nil {
				return nil, err
			}
			cert = c
		}
	}
	if cert == nil {
		return nil, errors.New("no PEM certificate in it")
	}
	pub, ok := cert.PublicKey.(*rsa.PublicKey)
	if !ok {
		return nil, errors.New("the certificate's key is not RSA, as a federation certificate's must be")
	}
	return pub, nil
}

func errText(err error) string {
	if err == nil {
		return "-"
	}
	return err.Error()
}

type multiFlag []string

func (m *multiFlag) String() string     { return strings.Join(*m, ",") }
func (m *multiFlag) Set(v string) error { *m = append(*m, v); return nil }
