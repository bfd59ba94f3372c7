package orgrel

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/calfed/calfed/internal/identity"
)

// ErrBadCredentials is returned for an unknown account or a wrong secret;
// the two are not told apart.
var ErrBadCredentials = errors.New("orgrel: invalid credentials")

// Accounts authenticates the service accounts of one snapshot. The work of
// checking secrets — the verified-credential cache, the hashing queue —
// belongs to its Verifier, which successive Accounts share.
type Accounts struct {
	byName  map[string]ServiceAccount
	callers map[string]identity.Caller
	v       *Verifier
}

// NewAccounts checks the accounts against the policy's relationships. A nil
// Verifier gets a fresh one of its own.
func NewAccounts(accts []ServiceAccount, p *Policy, v *Verifier) (*Accounts, error) {
	if v == nil {
		v = NewVerifier(VerifierOptions{})
	}
	a := &Accounts{
		byName:  map[string]ServiceAccount{},
		callers: map[string]identity.Caller{},
		v:       v,
	}
	for _, acct := range accts {
		name := strings.ToLower(strings.TrimSpace(acct.Name))
		if name == "" {
			return nil, errors.New("orgrel: service account without a name")
		}
		if _, dup := a.byName[name]; dup {
			return nil, fmt.Errorf("orgrel: service account %q is defined twice", acct.Name)
		}
		rel, ok := p.RelationshipByName(acct.Relationship)
		if !ok {
			return nil, fmt.Errorf("orgrel: service account %q: no relationship named %q", acct.Name, acct.Relationship)
		}
		if err := ValidateHash(acct.SecretHash); err != nil {
			return nil, fmt.Errorf("orgrel: service account %q: %w", acct.Name, err)
		}
		if acct.PreviousSecretHash != "" {
			if err := ValidateHash(acct.PreviousSecretHash); err != nil {
				return nil, fmt.Errorf("orgrel: service account %q: previous secret: %w", acct.Name, err)
			}
		}
		a.byName[name] = acct
		a.callers[name] = identity.Caller{Domain: rel.Domains[0], Account: acct.Name}
	}
	return a, nil
}

// Authenticate verifies a service account's secret and returns the caller
// it stands for. An unknown account costs the same hashing as a known one
// with a wrong secret, and both fail with ErrBadCredentials; ErrBusy means
// the request's source has too many verifications waiting.
func (a *Accounts) Authenticate(ctx context.Context, name, secret string) (identity.Caller, error) {
	key := strings.ToLower(strings.TrimSpace(name))
	var acct *ServiceAccount
	if s, ok := a.byName[key]; ok {
		acct = &s
	}
	err := a.v.check(ctx, key, acct, secret)
	if !errors.Is(err, ErrBadCredentials) {
		if err != nil {
			return identity.Caller{}, err
		}
		return a.callers[key], nil
	}
	// A refused secret is tried once more: against the previous secret
	// while its overlap after a rotation lasts, else against the dummy
	// hash, so that every refusal costs two hashes, whether the account
	// has a previous secret, has none, or does not exist.
	var prev *ServiceAccount
	if acct != nil && acct.PreviousValid(a.v.opt.Now()) {
		p := *acct
		p.SecretHash = acct.PreviousSecretHash
		prev = &p
	}
	if err := a.v.check(ctx, key, prev, secret); err != nil {
		return identity.Caller{}, err
	}
	return a.callers[key], nil
}
