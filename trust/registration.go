package trust

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/calfed/calfed/certs"
	"github.com/calfed/calfed/internal/domainname"
	"github.com/calfed/calfed/managedelegation"
	"github.com/calfed/calfed/orgrel"
	"github.com/calfed/calfed/store"
)

// Registration with the federation gateway, as Exchange's
// Set-FederatedOrganizationIdentifier, Add-FederatedDomain,
// Remove-FederatedDomain and Set-FederationTrust
// -PublishFederationCertificate do it (docs/protocol.md §4.5, §4.7).

// ErrNotRegistered: there is no registration with a gateway yet.
var ErrNotRegistered = errors.New("trust: not registered with a federation gateway")

// pendingPoll is how often, and pendingWait how long, Register asks about
// a reservation the gateway has not activated yet.
const (
	pendingPoll = 2 * time.Second
	pendingWait = 2 * time.Minute
)

// Registration returns the recorded registration; an error matching
// store.ErrNotFound before there is one.
func (s *Service) Registration(ctx context.Context) (orgrel.Registration, error) {
	return s.store.Registration(ctx)
}

func (s *Service) gateway(url string, cert *certs.Certificate) *managedelegation.Client {
	return &managedelegation.Client{URL: url, Certificate: cert, HTTP: s.http, Now: s.now}
}

// Register registers our application and every federated domain with the
// gateway at url (empty: the one registered with before, else the real
// gateway's), each domain with its proof: CreateAppId and ReserveDomain
// for our ApplicationUri, then AddUri per domain; domains the trust no
// longer federates are removed, and a certificate the gateway holds that
// is not our current one is replaced. It records what the gateway
// accepted even when a later step fails, and returns that error.
func (s *Service) Register(ctx context.Context, actor, url string) (orgrel.Registration, error) {
	t, err := s.store.Trust(ctx)
	if err != nil {
		return orgrel.Registration{}, err
	}
	ring, err := certs.Load(ctx, s.keys)
	if err != nil {
		return orgrel.Registration{}, err
	}
	cur := ring.Get(certs.Current)
	if cur == nil {
		return orgrel.Registration{}, mark(errors.New("no current federation certificate (calfed trust certificate new)"), ErrNoCertificate)
	}
	r, err := s.store.Registration(ctx)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return r, err
	}
	if url == "" {
		url = r.Gateway
	}
	if url == "" {
		url = managedelegation.DefaultURL
	}
	if err := checkURL(url); err != nil {
		return r, err
	}
	if r.Gateway != url || !domainname.EqualFoldASCII(r.ApplicationURI, t.ApplicationURI) {
		// Another gateway or another name: register anew.
		r = orgrel.Registration{Version: r.Version, Gateway: url, ApplicationURI: t.ApplicationURI}
	}
	gw := s.gateway(url, cur)
	steps := s.register(ctx, gw, ring, t, &r)
	if r.AppID == "" {
		return r, steps
	}
	saved, err := s.store.SetRegistration(ctx, actor, "trust.register", r)
	if err != nil {
		return r, errors.Join(steps, err)
	}
	return saved, steps
}

// register brings r up to date with the gateway, step by step.
func (s *Service) register(ctx context.Context, gw *managedelegation.Client, ring *certs.Ring, t orgrel.Trust, r *orgrel.Registration) error {
	cur := ring.Get(certs.Current)
	if r.AppID != "" && r.Certificate != cur.Thumbprint() {
		// The gateway holds an older certificate: publish ours with it
		// while we still have it, else prove the name again.
		if prev := ring.Get(certs.Previous); prev != nil && prev.Thumbprint() == r.Certificate {
			if err := s.gateway(gw.URL, prev).UpdateAppIDCertificate(ctx, r.AppID, cur); err != nil {
				return fmt.Errorf("publishing our current certificate to the gateway: %w", err)
			}
			r.Certificate = cur.Thumbprint()
		} else {
			r.AppID = ""
		}
	}
	if r.AppID == "" {
		id, err := gw.CreateAppID(ctx, t.ApplicationURI)
		if err != nil {
			return proofHint(fmt.Errorf("creating our application identifier for %s: %w", t.ApplicationURI, err), t.ApplicationURI)
		}
		r.AppID, r.Certificate, r.Domains = id, cur.Thumbprint(), nil
	}
	if err := s.reserve(ctx, gw, r.AppID, t.ApplicationURI); err != nil {
		return proofHint(fmt.Errorf("reserving %s: %w", t.ApplicationURI, err), t.ApplicationURI)
	}
	var errs []error
	for _, d := range t.Domains {
		if r.Domain(d) == string(managedelegation.Active) {
			continue
		}
		if err := gw.AddURI(ctx, r.AppID, d); err != nil {
			errs = append(errs, proofHint(fmt.Errorf("adding %s: %w", d, err), d))
			continue
		}
		setDomain(r, d, string(managedelegation.Active))
	}
	for _, d := range slices.Clone(r.Domains) {
		if slices.Contains(t.Domains, d.Domain) {
			continue
		}
		if err := removeURI(ctx, gw, r.AppID, d.Domain); err != nil {
			errs = append(errs, fmt.Errorf("removing %s, which we no longer federate: %w", d.Domain, err))
			continue
		}
		setDomain(r, d.Domain, "")
	}
	return errors.Join(errs...)
}

// reserve reserves our ApplicationUri, then waits while the gateway has
// it pending.
func (s *Service) reserve(ctx context.Context, gw *managedelegation.Client, appID, uri string) error {
	if err := gw.ReserveDomain(ctx, appID, uri); err != nil {
		return err
	}
	deadline := s.now().Add(pendingWait)
	for {
		info, err := gw.GetDomainInfo(ctx, appID, uri)
		if err != nil {
			return err
		}
		if info.State != managedelegation.PendingActivation {
			return nil
		}
		if s.now().After(deadline) {
			return fmt.Errorf("the gateway still has %s pending after %s; run calfed trust register again later", uri, pendingWait)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(pendingPoll):
		}
	}
}

// removeURI removes uri at the gateway; one the gateway does not have is
// removed already.
func removeURI(ctx context.Context, gw *managedelegation.Client, appID, uri string) error {
	err := gw.RemoveURI(ctx, appID, uri)
	if errors.Is(err, &managedelegation.Error{Code: managedelegation.InvalidURI}) {
		return nil
	}
	return err
}

func setDomain(r *orgrel.Registration, domain, state string) {
	r.Domains = slices.DeleteFunc(r.Domains, func(d orgrel.RegisteredDomain) bool { return d.Domain == domain }) // both canonical
	if state != "" {
		r.Domains = append(r.Domains, orgrel.RegisteredDomain{Domain: domain, State: state})
		slices.SortFunc(r.Domains, func(a, b orgrel.RegisteredDomain) int { return strings.Compare(a.Domain, b.Domain) })
	}
}

// proofHint adds the fix to a refused proof.
func proofHint(err error, name string) error {
	if errors.Is(err, &managedelegation.Error{Code: managedelegation.ProofOfOwnershipNotValid}) {
		return fmt.Errorf("%w\npublish the proof first: calfed domain proof %s", err, managedelegation.ProofDomain(name))
	}
	return err
}

// RemoveDomain stops federating domain, as Remove-FederatedDomain: the
// gateway forgets it first (when we are registered), then the trust. The
// account namespace stays.
func (s *Service) RemoveDomain(ctx context.Context, actor, domain string) (orgrel.Trust, error) {
	domain, err := domainname.Canonical(strings.TrimSpace(domain))
	if err != nil {
		return orgrel.Trust{}, fmt.Errorf("%w: domain: %v", store.ErrInvalid, err)
	}
	t, err := s.store.Trust(ctx)
	if err != nil {
		return t, err
	}
	if domain == t.AccountNamespace {
		return t, fmt.Errorf("%w: %s is the account namespace; it leaves only with the trust", store.ErrInvalid, domain)
	}
	if !slices.Contains(t.Domains, domain) {
		return t, fmt.Errorf("%w: %s is not a federated domain", store.ErrNotFound, domain)
	}
	r, err := s.store.Registration(ctx)
	registered := err == nil && r.Domain(domain) != ""
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return t, err
	}
	if registered {
		ring, err := certs.Load(ctx, s.keys)
		if err != nil {
			return t, err
		}
		if cur := ring.Get(certs.Current); cur == nil {
			return t, mark(errors.New("no current federation certificate to sign the gateway request with"), ErrNoCertificate)
		} else if err := removeURI(ctx, s.gateway(r.Gateway, cur), r.AppID, domain); err != nil {
			return t, fmt.Errorf("the gateway did not remove %s, so nothing changed: %w", domain, err)
		}
		setDomain(&r, domain, "")
		if _, err := s.store.SetRegistration(ctx, actor, "domain.remove", r); err != nil {
			return t, err
		}
	}
	t.Domains = slices.DeleteFunc(t.Domains, func(d string) bool { return d == domain })
	return s.store.SetTrustAction(ctx, actor, "domain.remove", t)
}

// publishNext gives the gateway our next certificate before a rollover
// makes it current, as -PublishFederationCertificate does; without a
// registration there is nothing to publish.
func (s *Service) publishNext(ctx context.Context, actor string, ring *certs.Ring) (func() error, error) {
	r, err := s.store.Registration(ctx)
	if errors.Is(err, store.ErrNotFound) {
		return func() error { return nil }, nil
	}
	if err != nil {
		return nil, err
	}
	cur, next := ring.Get(certs.Current), ring.Get(certs.Next)
	if cur == nil || next == nil {
		return func() error { return nil }, nil // the rollover itself refuses
	}
	if err := s.gateway(r.Gateway, cur).UpdateAppIDCertificate(ctx, r.AppID, next); err != nil {
		return nil, fmt.Errorf("the gateway did not take the next certificate, so nothing changed: %w", err)
	}
	return func() error {
		r.Certificate = next.Thumbprint()
		_, err := s.store.SetRegistration(ctx, actor, "trust.certificate.rollover", r)
		return err
	}, nil
}
