package trust

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/calfed/calfed/certs"
	"github.com/calfed/calfed/dnsproof"
	"github.com/calfed/calfed/internal/domainname"
	"github.com/calfed/calfed/internal/shellquote"
	"github.com/calfed/calfed/orgrel"
	"github.com/calfed/calfed/store"
)

// Proof is the TXT record that proves a domain is ours, for one of our
// federation certificates (Get-FederatedDomainProof, docs/protocol.md §5).
type Proof struct {
	Domain     string `json:"domain"`
	Slot       string `json:"slot"`
	Thumbprint string `json:"thumbprint"`
	Proof      string `json:"proof"`
	Signature  string `json:"signature"` // for partners running calfed: lets them check the proof against our certificate
	Record     string `json:"record"`
}

// Proofs returns domain's proof for each certificate we hold, in slot
// order; ErrNoCertificate when we hold none.
func (s *Service) Proofs(ctx context.Context, domain string) ([]Proof, error) {
	ring, err := certs.Load(ctx, s.keys)
	if err != nil {
		return nil, err
	}
	domain, err = domainname.Canonical(strings.TrimSpace(domain))
	if err != nil {
		return nil, fmt.Errorf("%w: domain: %v", store.ErrInvalid, err)
	}
	var out []Proof
	for _, slot := range certs.Slots {
		c := ring.Get(slot)
		if c == nil {
			continue
		}
		sig, err := dnsproof.Signature(c.Key, domain)
		if err != nil {
			return nil, err
		}
		p := dnsproof.ProofOfSignature(sig)
		out = append(out, Proof{Domain: domain, Slot: string(slot), Thumbprint: c.Thumbprint(), Proof: p,
			Signature: base64.StdEncoding.EncodeToString(sig), Record: fmt.Sprintf("%s. 3600 IN TXT \"%s\"", domain, p)})
	}
	if len(out) == 0 {
		return nil, mark(errors.New("no federation certificate (calfed trust certificate new)"), ErrNoCertificate)
	}
	return out, nil
}

// CurrentProofs are the current certificate's proofs of domains, the TXT
// records to publish before they can be federated; a domain whose proof
// cannot be made is left out.
func (s *Service) CurrentProofs(ctx context.Context, domains []string) []Proof {
	var out []Proof
	for _, d := range domains {
		ps, _ := s.Proofs(ctx, d)
		for _, p := range ps {
			if p.Slot == string(certs.Current) {
				out = append(out, p)
			}
		}
	}
	return out
}

// expected are the proofs of domain for each certificate we hold.
func expected(ring *certs.Ring, domain string) ([]dnsproof.Expected, error) {
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

// Check is one of our domains' proof check. Warning, on a pass, says that
// a staged certificate's proof is not published yet: the rollover to it
// would break the domain's federation.
type Check struct {
	dnsproof.Result
	Warning string
}

// A Report is one of our domains' check as calfed domain verify reports
// it.
type Report struct {
	Domain  string   `json:"domain"`
	Status  string   `json:"status"`
	Matched []string `json:"matched"`          // the slots of the certificates whose proofs are published
	Detail  string   `json:"detail,omitempty"` // why it did not pass, or a pass's warning
}

// ReportColumns are a report as calfed domain verify shows it.
var ReportColumns = []orgrel.Field[Report]{
	{Label: "DOMAIN", Get: func(r Report) string { return r.Domain }},
	{Label: "STATUS", Get: func(r Report) string { return r.Status }},
	{Label: "PROOFS FOUND FOR", Get: func(r Report) string { return orDash(strings.Join(r.Matched, ",")) }},
	{Label: "DETAIL", Get: func(r Report) string { return orDash(r.Detail) }},
}

// orDash shows an empty value as "-".
func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// Report is the check as reported.
func (c Check) Report() Report {
	detail := c.Warning
	if c.Err != nil {
		detail = c.Err.Error()
	}
	return Report{c.Domain, string(c.Status), c.Matched, detail}
}

// Reports are the checks as reported.
func Reports(checks []Check) []Report {
	var out []Report
	for _, c := range checks {
		out = append(out, c.Report())
	}
	return out
}

// Verdict sums checks up: Pass when every domain passes; otherwise the
// status of the first that failed for good (Fail, PermError) or, when
// none did, TempError: a check to try again.
func Verdict(checks []Check) dnsproof.Status {
	verdict := dnsproof.Pass
	for _, c := range checks {
		switch c.Status {
		case dnsproof.Pass:
		case dnsproof.TempError:
			if verdict == dnsproof.Pass {
				verdict = dnsproof.TempError
			}
		default:
			if verdict == dnsproof.Pass || verdict == dnsproof.TempError {
				verdict = c.Status
			}
		}
	}
	return verdict
}

// checkOurs checks that domain carries the proof of our current
// certificate, and records the outcome.
func (s *Service) checkOurs(ctx context.Context, ring *certs.Ring, domain string) Check {
	want, err := expected(ring, domain)
	if err != nil || ring.Get(certs.Current) == nil {
		return Check{Result: dnsproof.Result{Domain: domain, Status: dnsproof.PermError, Err: errors.New("no current federation certificate to prove the domain with (calfed trust certificate new)")}}
	}
	c := Check{Result: dnsproof.Check(ctx, s.resolver, domain, want)}
	if c.Status == dnsproof.Pass && !c.Has(string(certs.Current)) {
		c.Status, c.Err = dnsproof.Fail, fmt.Errorf("%w: only the %s certificate's proof is published", dnsproof.ErrWrongProof, strings.Join(c.Matched, ", "))
	}
	detail := "proofs found for " + strings.Join(c.Matched, ", ")
	if c.Status == dnsproof.Pass && ring.Get(certs.Next) != nil && !c.Has(string(certs.Next)) {
		c.Warning = "the next certificate's proof is not published yet: publish it (calfed domain proof " + shellquote.Word(domain) + ") before the rollover"
		detail += "; " + c.Warning
	}
	if c.Err != nil {
		detail = c.Err.Error()
	}
	s.store.RecordDomainCheck(ctx, orgrel.DomainCheck{Domain: domain, Kind: orgrel.DomainOurs, Status: string(c.Status), Detail: detail, Checked: s.now()})
	return c
}

// requireProofs checks each domain; it returns an error naming the first
// that does not pass, and how to publish its proof.
func (s *Service) requireProofs(ctx context.Context, domains []string) error {
	ring, err := certs.Load(ctx, s.keys)
	if err != nil {
		return err
	}
	for _, d := range domains {
		c := s.checkOurs(ctx, ring, d)
		switch c.Status {
		case dnsproof.Pass:
		case dnsproof.TempError:
			return mark(fmt.Errorf("%s: the proof could not be checked now (%v); try again", d, c.Err), ErrProofUnchecked)
		default:
			return mark(fmt.Errorf("%w: %s: %s (%v); publish what calfed domain proof %s prints, or use -skip-proof in a lab", store.ErrInvalid, d, c.Status, c.Err, d), ErrUnproven)
		}
	}
	return nil
}

// VerifyOurs checks the proofs of all our federated domains now, and
// records the outcomes.
func (s *Service) VerifyOurs(ctx context.Context) ([]Check, error) {
	t, err := s.store.Trust(ctx)
	if err != nil {
		return nil, err
	}
	ring, err := certs.Load(ctx, s.keys)
	if err != nil {
		return nil, err
	}
	var out []Check
	for _, d := range t.Domains {
		out = append(out, s.checkOurs(ctx, ring, d))
	}
	return out, nil
}

// RecheckOurs runs VerifyOurs every interval until ctx ends, logging what
// is wrong.
func (s *Service) RecheckOurs(ctx context.Context, interval time.Duration) {
	tick := time.NewTicker(interval)
	defer tick.Stop()
	for {
		checks, err := s.VerifyOurs(ctx)
		if err != nil && !errors.Is(err, store.ErrNotFound) && ctx.Err() == nil {
			s.log.Error("domain proofs not checked", "err", err)
		}
		for _, c := range checks {
			if c.Status != dnsproof.Pass {
				s.log.Warn("domain proof check", "domain", c.Domain, "status", c.Status, "err", c.Err)
			}
			if c.Warning != "" {
				s.log.Warn("a certificate rollover is staged but its proof is not published", "domain", c.Domain)
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

// VerifyDomain checks that one of our domains carries the proof of our
// current certificate now, as VerifyOurs does for each, and records the
// outcome.
func (s *Service) VerifyDomain(ctx context.Context, domain string) (Check, error) {
	ring, err := certs.Load(ctx, s.keys)
	if err != nil {
		return Check{}, err
	}
	return s.checkOurs(ctx, ring, domain), nil
}

// Published looks for proofs on a domain that is not ours: proof-shaped
// TXT records, which only the partner's certificate and signature can
// tie to the partner (VerifyPartner). Pass never comes back: Fail means
// proofs are published, None that there are none.
func (s *Service) Published(ctx context.Context, domain string) dnsproof.Result {
	return dnsproof.Check(ctx, s.resolver, domain, nil)
}
