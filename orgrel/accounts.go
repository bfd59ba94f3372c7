package orgrel

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/calfed/calfed/internal/identity"
)

// ErrBadCredentials is returned for an unknown account or a wrong secret;
// the two are not told apart.
var ErrBadCredentials = errors.New("orgrel: invalid credentials")

// Accounts authenticates service accounts. Verified credentials are
// remembered for CacheTTL under an HMAC with a per-process key, so the
// memory-hard hash runs once per credential, not once per request; failed
// attempts are never cached, and hashing runs on at most GOMAXPROCS
// goroutines at once.
type Accounts struct {
	byName   map[string]ServiceAccount
	callers  map[string]identity.Caller
	now      func() time.Time
	ttl      time.Duration
	key      []byte
	sem      chan struct{}
	mu       sync.Mutex
	verified map[[32]byte]time.Time
}

// CacheTTL is how long a verified credential is remembered.
const CacheTTL = 10 * time.Minute

const maxCached = 10000

// NewAccounts checks the accounts against the policy's relationships.
func NewAccounts(accts []ServiceAccount, p *Policy, now func() time.Time) (*Accounts, error) {
	if now == nil {
		now = time.Now
	}
	a := &Accounts{
		byName:   map[string]ServiceAccount{},
		callers:  map[string]identity.Caller{},
		now:      now,
		ttl:      CacheTTL,
		key:      make([]byte, 32),
		sem:      make(chan struct{}, runtime.GOMAXPROCS(0)),
		verified: map[[32]byte]time.Time{},
	}
	if _, err := rand.Read(a.key); err != nil {
		return nil, err
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
		a.byName[name] = acct
		a.callers[name] = identity.Caller{Domain: rel.Domains[0], Account: acct.Name}
	}
	return a, nil
}

// Authenticate verifies a service account's secret and returns the caller
// it stands for.
func (a *Accounts) Authenticate(ctx context.Context, name, secret string) (identity.Caller, error) {
	key := strings.ToLower(strings.TrimSpace(name))
	acct, ok := a.byName[key]
	if !ok {
		return identity.Caller{}, ErrBadCredentials
	}
	mac := hmac.New(sha256.New, a.key)
	mac.Write([]byte(key))
	mac.Write([]byte{0})
	mac.Write([]byte(secret))
	var sum [32]byte
	mac.Sum(sum[:0])
	now := a.now()
	a.mu.Lock()
	exp, hit := a.verified[sum]
	a.mu.Unlock()
	if hit && now.Before(exp) {
		return a.callers[key], nil
	}
	select {
	case a.sem <- struct{}{}:
	case <-ctx.Done():
		return identity.Caller{}, ctx.Err()
	}
	ok, err := VerifySecret(acct.SecretHash, secret)
	<-a.sem
	if err != nil {
		return identity.Caller{}, err
	}
	if !ok {
		return identity.Caller{}, ErrBadCredentials
	}
	a.mu.Lock()
	if len(a.verified) >= maxCached {
		clear(a.verified)
	}
	a.verified[sum] = now.Add(a.ttl)
	a.mu.Unlock()
	return a.callers[key], nil
}
