package trust

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/calfed/calfed/certs"
	"github.com/calfed/calfed/dnsproof"
	"github.com/calfed/calfed/internal/domainname"
	"github.com/calfed/calfed/internal/outbound"
	"github.com/calfed/calfed/orgrel"
	"github.com/calfed/calfed/store"
)

// Store keeps the trust and the outcomes of domain-proof checks
// (*store.DB). Trust returns an error matching store.ErrNotFound before a
// trust is set.
type Store interface {
	Trust(ctx context.Context) (orgrel.Trust, error)
	SetTrustAction(ctx context.Context, actor, action string, t orgrel.Trust) (orgrel.Trust, error)
	RecordDomainCheck(ctx context.Context, c orgrel.DomainCheck) error
	Registration(ctx context.Context) (orgrel.Registration, error)
	SetRegistration(ctx context.Context, actor, action string, r orgrel.Registration) (orgrel.Registration, error)
	// RecordChange audits a change made outside the store: our
	// federation certificates.
	RecordChange(ctx context.Context, actor, action, object string, before, after any) error
}

// Config is what a Service works with.
type Config struct {
	Store    Store             // required
	Keys     certs.Storage     // our federation certificates and keys; required
	Resolver dnsproof.Resolver // where domain proofs are looked up; required
	Logger   *slog.Logger      // nil discards
	Now      func() time.Time  // default time.Now
	// HTTP reaches the token issuer, its metadata and the gateway's
	// registration service; default: internal/outbound's, with a 30-second
	// timeout.
	HTTP *http.Client
}

// Service applies the trust's rules to a store and a key storage.
type Service struct {
	store    Store
	keys     certs.Storage
	resolver dnsproof.Resolver
	log      *slog.Logger
	now      func() time.Time
	http     *http.Client

	mu   sync.Mutex  // guards last
	last *builtTrust // the last validation trust built (Validation)
}

// NewService returns a Service over cfg.
func NewService(cfg Config) *Service {
	s := &Service{store: cfg.Store, keys: cfg.Keys, resolver: cfg.Resolver, log: cfg.Logger, now: cfg.Now, http: cfg.HTTP}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.http == nil {
		s.http = outbound.Default().HTTP(30 * time.Second)
	}
	return s
}

// Errors; match with errors.Is. Each error the Service returns for an
// invalid request also matches store.ErrInvalid.
var (
	// ErrUnproven: a domain's proof was not found, so it may not join the
	// trust.
	ErrUnproven = errors.New("trust: domain proof not found")
	// ErrProofUnchecked: a domain's proof could not be looked up now
	// (a temporary DNS failure); try again.
	ErrProofUnchecked = errors.New("trust: domain proof could not be checked now")
	// ErrNoCertificate: there is no current federation certificate.
	ErrNoCertificate = errors.New("trust: no federation certificate")
	// ErrNoMetadataURL: the token issuer's metadata has no recorded URL
	// to refresh from.
	ErrNoMetadataURL = errors.New("trust: no token issuer metadata URL recorded")
	// ErrInsecureMetadataURL: metadata is fetched over https only (http
	// on loopback).
	ErrInsecureMetadataURL = errors.New("trust: metadata URLs must be https")
)

// marked reads as err and also matches kinds: the public message stays the
// one the command line has always printed.
type marked struct {
	err   error
	kinds []error
}

func (m *marked) Error() string   { return m.err.Error() }
func (m *marked) Unwrap() []error { return append([]error{m.err}, m.kinds...) }

func mark(err error, kinds ...error) error { return &marked{err, kinds} }

// Get returns the trust; an error matching store.ErrNotFound before one
// is set.
func (s *Service) Get(ctx context.Context) (orgrel.Trust, error) { return s.store.Trust(ctx) }

// NewDomains lists the domains t federates that before did not, the
// account namespace included, in the canonical form the store keeps
// (internal/domainname). A domain with no canonical form is not listed:
// the store refuses it, naming it.
func NewDomains(before, t orgrel.Trust) []string {
	canonical := func(d string) string {
		c, err := domainname.Canonical(strings.TrimSpace(d))
		if err != nil {
			return ""
		}
		return c
	}
	had := map[string]bool{}
	for _, d := range append([]string{before.AccountNamespace}, before.Domains...) {
		had[canonical(d)] = true
	}
	var out []string
	for _, d := range append([]string{t.AccountNamespace}, t.Domains...) {
		d = canonical(d)
		if d != "" && !had[d] {
			had[d] = true
			out = append(out, d)
		}
	}
	return out
}

// SetOptions steer Set.
type SetOptions struct {
	// SkipProof federates new domains without checking their proofs, for
	// labs: the audit log records the change as Action + ".skip-proof".
	SkipProof bool
	// Action names the change in the audit log; default trust.set.
	Action string
	// Skipped, when set, is told which domains join unproven, before the
	// change is written.
	Skipped func(domains []string)
}

// Set writes t, which carries the version it was read at (0 to create
// the trust). Every domain it federates that the trust did not — all of
// them when there is no trust yet — must carry our current certificate's
// proof (ErrUnproven, ErrProofUnchecked), unless opt.SkipProof.
func (s *Service) Set(ctx context.Context, actor string, t orgrel.Trust, opt SetOptions) (orgrel.Trust, error) {
	cur, err := s.store.Trust(ctx)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return t, err
	}
	action := opt.Action
	if action == "" {
		action = "trust.set"
	}
	if added := NewDomains(cur, t); len(added) > 0 {
		if opt.SkipProof {
			action += ".skip-proof"
			if opt.Skipped != nil {
				opt.Skipped(added)
			}
		} else if err := s.requireProofs(ctx, added); err != nil {
			return t, err
		}
	}
	return s.store.SetTrustAction(ctx, actor, action, t)
}

// AddDomain federates domain as Set does, audited as domain.add whatever
// opt.Action says, and registers it with the gateway when we are
// registered; it reports false, changing nothing, when the domain is
// federated already.
func (s *Service) AddDomain(ctx context.Context, actor, domain string, opt SetOptions) (bool, error) {
	domain, err := domainname.Canonical(strings.TrimSpace(domain))
	if err != nil {
		return false, fmt.Errorf("%w: domain: %v", store.ErrInvalid, err)
	}
	t, err := s.store.Trust(ctx)
	if err != nil {
		return false, err
	}
	if slices.Contains(t.Domains, domain) {
		return false, nil
	}
	t.Domains = append(t.Domains, domain)
	opt.Action = "domain.add"
	if _, err = s.Set(ctx, actor, t, opt); err != nil {
		return false, err
	}
	// Registered with a gateway: it learns of the domain too, as
	// Add-FederatedDomain sends AddUri.
	if _, err := s.store.Registration(ctx); err == nil {
		if _, err := s.Register(ctx, actor, ""); err != nil {
			return true, fmt.Errorf("%s is federated here, but the gateway did not take it (run calfed trust register once that is fixed): %w", domain, err)
		}
	}
	return true, nil
}

// CreateOptions describe a new trust.
type CreateOptions struct {
	AccountNamespace string         // our primary domain; required
	Domains          []string       // further federated domains
	Metadata         string         // the token issuer's metadata: a file or an https URL; required
	SkipProof        bool           // as SetOptions.SkipProof
	Skipped          func([]string) // as SetOptions.Skipped
	Subject          string         // a made certificate's common name; default Federation <account namespace>
}

// Created is what Create did.
type Created struct {
	Trust   orgrel.Trust
	Made    *certs.Certificate // the certificate Create made; nil when there was one
	Current *certs.Certificate
}

// Create is New-FederationTrust with Set-FederatedOrganizationIdentifier:
// our first federation certificate when there is none (the domains'
// proofs are made with it), the trust from the issuer's metadata, its
// domains admitted as Set admits them (audited as trust.new). Made is set
// even when a later step fails.
func (s *Service) Create(ctx context.Context, actor string, o CreateOptions) (Created, error) {
	var out Created
	if _, err := s.store.Trust(ctx); err == nil {
		return out, fmt.Errorf("%w: a federation trust exists; change it with calfed trust set / refresh", store.ErrExists)
	}
	data, err := ReadMetadata(ctx, s.http, o.Metadata)
	if err != nil {
		return out, err
	}
	m, err := parseMetadata(data, s.now())
	if err != nil {
		return out, err
	}
	t := orgrel.Trust{AccountNamespace: o.AccountNamespace, TokenIssuerURI: m.IssuerURI, TokenIssuerEndpoint: m.Endpoint}
	for _, d := range o.Domains {
		if d = strings.TrimSpace(d); d != "" {
			t.Domains = append(t.Domains, d)
		}
	}
	ring, err := certs.Load(ctx, s.keys)
	if err != nil {
		return out, err
	}
	if ring.Get(certs.Current) == nil {
		subject := o.Subject
		if subject == "" {
			subject = "Federation " + o.AccountNamespace
		}
		c, err := certs.Generate(subject, s.now())
		if err == nil {
			err = ring.Put(ctx, s.keys, certs.Current, c)
		}
		if err == nil {
			err = s.auditSlot(ctx, actor, "certificate.new", certs.Current, nil, c)
		}
		if err != nil {
			return out, err
		}
		out.Made = c
	}
	if _, err := s.Set(ctx, actor, t, SetOptions{SkipProof: o.SkipProof, Action: "trust.new", Skipped: o.Skipped}); err != nil {
		return out, err
	}
	if t, err = s.store.Trust(ctx); err != nil {
		return out, err
	}
	if out.Trust, err = s.applyMetadata(ctx, actor, t, o.Metadata, m, s.now()); err != nil {
		return out, err
	}
	if err := s.recordCurrent(ctx, actor, ring); err != nil {
		return out, err
	}
	out.Current = ring.Get(certs.Current)
	return out, nil
}
