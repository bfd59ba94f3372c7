package dnsproof

import (
	"context"
	"errors"
	"fmt"
)

// Status is the outcome of a check, in the words mail administrators know
// from SPF.
type Status string

const (
	None      Status = "none"      // no proof-shaped TXT record
	Pass      Status = "pass"      // an expected proof is published
	Fail      Status = "fail"      // proofs are published, none expected
	TempError Status = "temperror" // DNS failed in a way that may pass; never reported as fail
	PermError Status = "permerror" // the domain does not exist, or DNS answers are unusable
)

// Errors carried by results; match with errors.Is.
var (
	ErrNoProof    = errors.New("dnsproof: no proof is published")
	ErrWrongProof = errors.New("dnsproof: the published proofs are not ours")
)

// Expected is one proof a domain may carry: for a certificate slot.
type Expected struct {
	Slot       string // next, current, previous
	Thumbprint string
	Proof      string
}

// Result is a check's outcome.
type Result struct {
	Domain  string
	Status  Status
	Matched []string // the slots whose proof is published
	Found   int      // proof-shaped TXT records
	Err     error    // why it is not Pass
}

// Check looks up domain's TXT records and compares proof-shaped ones with
// the expected proofs; unrelated TXT records are ignored.
func Check(ctx context.Context, r Resolver, domain string, want []Expected) Result {
	d, err := canonical(domain)
	if err != nil {
		return Result{Domain: domain, Status: PermError, Err: err}
	}
	domain = d
	res := Result{Domain: domain}
	txts, err := r.TXT(ctx, domain)
	switch {
	case errors.Is(err, ErrNXDomain):
		res.Status, res.Err = PermError, err
		return res
	case errors.Is(err, ErrTemporary):
		res.Status, res.Err = TempError, err
		return res
	case err != nil:
		res.Status, res.Err = PermError, err
		return res
	}
	published := map[string]bool{}
	for _, v := range txts {
		if LooksLikeProof(v) && !published[v] {
			published[v] = true
			res.Found++
		}
	}
	for _, e := range want { // in the caller's order, each once
		if published[e.Proof] {
			res.Matched = append(res.Matched, e.Slot)
		}
	}
	switch {
	case len(res.Matched) > 0:
		res.Status = Pass
	case res.Found > 0:
		res.Status, res.Err = Fail, fmt.Errorf("%w: %d proof records on %s", ErrWrongProof, res.Found, domain)
	default:
		res.Status, res.Err = None, fmt.Errorf("%w on %s", ErrNoProof, domain)
	}
	return res
}

// Has reports whether slot's proof was found.
func (r Result) Has(slot string) bool {
	for _, m := range r.Matched {
		if m == slot {
			return true
		}
	}
	return false
}
