package admin

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/calfed/calfed/internal/domainname"
	"github.com/calfed/calfed/orgrel"
	"github.com/calfed/calfed/store"
	"github.com/calfed/calfed/trust"
)

// API is what the command line needs; Service and Client provide it.
type API interface {
	Relationships(ctx context.Context) ([]orgrel.Relationship, error)
	Relationship(ctx context.Context, name string) (orgrel.Relationship, error)
	NewRelationship(ctx context.Context, actor string, r orgrel.Relationship) (orgrel.Relationship, error)
	// SetRelationship writes r, which carries the version it was read at.
	SetRelationship(ctx context.Context, actor, action string, r orgrel.Relationship) (orgrel.Relationship, error)
	RemoveRelationship(ctx context.Context, actor, name string, version int64) error
	// SetOutboundCredential records the account and secret the partner of
	// a relationship gave us for asking it cross-forest (an empty account
	// removes them); nothing ever reads the secret back.
	SetOutboundCredential(ctx context.Context, actor, relationship, account, secret string) error
	Apply(ctx context.Context, actor string, want []orgrel.Relationship, opt ApplyOptions) (Plan, error)

	Mailbox(ctx context.Context, address string) (MailboxSharing, error)
	ShareMailbox(ctx context.Context, actor, address string, level orgrel.Level, version int64) (MailboxSharing, error)

	Accounts(ctx context.Context) ([]orgrel.ServiceAccount, error)
	// NewAccount and RotateAccount return the secret; it is shown once and
	// kept only as its hash. RotateAccount keeps the previous secret valid
	// for overlap (orgrel.RotationOverlap by default; 0 cuts it off).
	NewAccount(ctx context.Context, actor, name, relationship string) (orgrel.ServiceAccount, string, error)
	RotateAccount(ctx context.Context, actor, name string, overlap time.Duration, version int64) (orgrel.ServiceAccount, string, error)
	RevokeAccount(ctx context.Context, actor, name string, version int64) (orgrel.ServiceAccount, error)

	Audit(ctx context.Context, since time.Time, limit int) ([]orgrel.AuditEntry, error)
	// AccessLog returns the information-governance access log's entries
	// q selects: partner requests, oldest first.
	AccessLog(ctx context.Context, q orgrel.AccessQuery) ([]orgrel.AccessEntry, error)
	// PartnerActivity sums up each partner's requests: last success, last
	// failure with its reason, requests since by outcome.
	PartnerActivity(ctx context.Context, since time.Time) ([]orgrel.PartnerActivity, error)
	// Domains returns our own mailbox domains, for the partner's side of
	// the set-up.
	Domains(ctx context.Context) ([]string, error)

	// Trust returns the federation trust; SetTrust writes it at the
	// version read (0 to create it). Domains it adds, the first trust's
	// included, need their proofs published (trust.ErrUnproven).
	Trust(ctx context.Context) (orgrel.Trust, error)
	SetTrust(ctx context.Context, actor string, t orgrel.Trust) (orgrel.Trust, error)
	// Registration returns our registration with the federation gateway
	// (store.ErrNotFound before calfed trust register).
	Registration(ctx context.Context) (orgrel.Registration, error)
	// DomainChecks returns the last check of each domain proof, ours and
	// partners'.
	DomainChecks(ctx context.Context) ([]orgrel.DomainCheck, error)

	// WaitApplied waits up to wait until every running server has put
	// change in force (0: every change made so far), and says how far it
	// got.
	WaitApplied(ctx context.Context, change int64, wait time.Duration) (Applied, error)
}

// Mailbox is what the service knows of a mailbox from the directory.
type Mailbox struct {
	Address        string
	Groups         []string
	DefaultSharing orgrel.Level // from the configuration
}

// MailboxSharing is a mailbox's effective sharing and where it comes from.
type MailboxSharing struct {
	Address   string       `json:"address"`
	Level     orgrel.Level `json:"level"`
	Source    string       `json:"source"` // "recorded", "configuration" or "default"
	ChangedBy string       `json:"changed_by,omitempty"`
	ChangedAt *time.Time   `json:"changed_at,omitempty"`
	Version   int64        `json:"version"`
}

// ErrUnknownMailbox is returned for an address the directory lacks.
var ErrUnknownMailbox = errors.New("admin: no such mailbox in the directory")

// Service implements API on a store, the federation trust and the
// mailbox directory.
type Service struct {
	db        *store.DB
	trust     *trust.Service
	mailboxes map[string]Mailbox
	groups    map[string]bool
}

// NewService returns a Service over db and tr (the trust over the same
// store) for the given mailboxes.
func NewService(db *store.DB, tr *trust.Service, mailboxes []Mailbox) *Service {
	s := &Service{db: db, trust: tr, mailboxes: map[string]Mailbox{}, groups: map[string]bool{}}
	for _, m := range mailboxes {
		// The directory's addresses are canonical already (config.Build).
		s.mailboxes[m.Address] = m
		for _, g := range m.Groups {
			s.groups[g] = true
		}
	}
	return s
}

func (s *Service) Relationships(ctx context.Context) ([]orgrel.Relationship, error) {
	return s.db.Relationships(ctx)
}

func (s *Service) Relationship(ctx context.Context, name string) (orgrel.Relationship, error) {
	return s.db.Relationship(ctx, name)
}

// check refuses a relationship that cannot be what its writer meant: a
// scope naming no group of ours, a partner domain that is one of ours,
// or a free/busy or MailTips level set while that access is off, which
// would give the partner nothing. old is the relationship as it was (nil
// when it is new): a level it already had is left alone, so that access
// can be turned off without clearing the level.
func (s *Service) check(ctx context.Context, r orgrel.Relationship, old *orgrel.Relationship) error {
	if r.FreeBusyAccessScope != "" && !s.groups[r.FreeBusyAccessScope] {
		return fmt.Errorf("%w: free_busy_access_scope: no mailbox is in group %q", store.ErrInvalid, r.FreeBusyAccessScope)
	}
	ours, err := s.ourDomains(ctx)
	if err != nil {
		return err
	}
	for _, d := range r.Domains {
		d, err := domainname.Canonical(strings.TrimSpace(d))
		if err != nil {
			continue // the store refuses it, naming it
		}
		if why, ok := ours[d]; ok {
			return fmt.Errorf("%w: domain_names: %s is our own domain (%s); a relationship names a partner's domains", store.ErrInvalid, d, why)
		}
	}
	if r.FreeBusyAccessLevel != orgrel.None && !r.FreeBusyAccessEnabled && (old == nil || old.FreeBusyAccessLevel != r.FreeBusyAccessLevel) {
		return fmt.Errorf("%w: free_busy_access_level %s with free/busy access off gives the partner nothing; turn it on too (-free-busy, free_busy_access_enabled: true)", store.ErrInvalid, r.FreeBusyAccessLevel)
	}
	if r.MailTipsAccessLevel != orgrel.MailTipsNone && !r.MailTipsAccessEnabled && (old == nil || old.MailTipsAccessLevel != r.MailTipsAccessLevel) {
		return fmt.Errorf("%w: mail_tips_access_level %s with MailTips access off gives the partner nothing; turn it on too (-mail-tips, mail_tips_access_enabled: true)", store.ErrInvalid, r.MailTipsAccessLevel)
	}
	return nil
}

// ourDomains are the domains of our own mailboxes and of our federation
// trust (its account namespace and federated domains), each with where
// it comes from.
func (s *Service) ourDomains(ctx context.Context) (map[string]string, error) {
	out := map[string]string{}
	for addr := range s.mailboxes { // canonical already
		out[addr[strings.LastIndexByte(addr, '@')+1:]] = "our mailboxes are there"
	}
	if s.trust == nil {
		return out, nil
	}
	t, err := s.trust.Get(ctx)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return out, nil
	case err != nil:
		return nil, err
	}
	for _, d := range t.Domains {
		if c, err := domainname.Canonical(d); err == nil {
			out[c] = "a federated domain of our trust"
		}
	}
	if c, err := domainname.Canonical(t.AccountNamespace); err == nil {
		out[c] = "our trust's account namespace"
	}
	return out, nil
}

func (s *Service) NewRelationship(ctx context.Context, actor string, r orgrel.Relationship) (orgrel.Relationship, error) {
	if err := s.check(ctx, r, nil); err != nil {
		return r, err
	}
	return s.db.CreateRelationship(ctx, actor, r)
}

func (s *Service) SetRelationship(ctx context.Context, actor, action string, r orgrel.Relationship) (orgrel.Relationship, error) {
	var old *orgrel.Relationship
	if cur, err := s.db.Relationship(ctx, r.Name); err == nil {
		old = &cur
	}
	if err := s.check(ctx, r, old); err != nil {
		return r, err
	}
	if !strings.HasPrefix(action, "orgrel.") {
		action = "orgrel.set"
	}
	return s.db.UpdateRelationship(ctx, actor, action, r)
}

func (s *Service) RemoveRelationship(ctx context.Context, actor, name string, version int64) error {
	return s.db.DeleteRelationship(ctx, actor, name, version)
}

func (s *Service) Mailbox(ctx context.Context, address string) (MailboxSharing, error) {
	address, err := mailboxAddress(address)
	if err != nil {
		return MailboxSharing{}, err
	}
	mb, ok := s.mailboxes[address]
	if !ok {
		return MailboxSharing{}, s.unknownMailbox(address)
	}
	rec, err := s.db.MailboxSharing(ctx, address)
	switch {
	case err == nil:
		at := rec.ChangedAt
		return MailboxSharing{Address: address, Level: rec.Level, Source: "recorded", ChangedBy: rec.ChangedBy, ChangedAt: &at, Version: rec.Version}, nil
	case !errors.Is(err, store.ErrNotFound):
		return MailboxSharing{}, err
	}
	src := "default"
	if mb.DefaultSharing != orgrel.AvailabilityOnly {
		src = "configuration"
	}
	return MailboxSharing{Address: address, Level: mb.DefaultSharing, Source: src}, nil
}

func (s *Service) ShareMailbox(ctx context.Context, actor, address string, level orgrel.Level, version int64) (MailboxSharing, error) {
	address, err := mailboxAddress(address)
	if err != nil {
		return MailboxSharing{}, err
	}
	if _, ok := s.mailboxes[address]; !ok {
		return MailboxSharing{}, s.unknownMailbox(address)
	}
	if _, err := s.db.SetSharing(ctx, actor, address, level, version); err != nil {
		return MailboxSharing{}, err
	}
	return s.Mailbox(ctx, address)
}

// unknownMailbox is ErrUnknownMailbox for address, with the address of
// the directory nearest to it.
func (s *Service) unknownMailbox(address string) error {
	addrs := make([]string, 0, len(s.mailboxes))
	for a := range s.mailboxes {
		addrs = append(addrs, a)
	}
	slices.Sort(addrs)
	return fmt.Errorf("%w: %s%s", ErrUnknownMailbox, address, didYouMean(address, addrs))
}

// mailboxAddress is an address as the directory keeps it
// (internal/domainname), or store.ErrInvalid naming it.
func mailboxAddress(address string) (string, error) {
	a, err := domainname.Address(strings.TrimSpace(address))
	if err != nil {
		return "", fmt.Errorf("%w: address: %v", store.ErrInvalid, err)
	}
	return a, nil
}

func (s *Service) Accounts(ctx context.Context) ([]orgrel.ServiceAccount, error) {
	return s.db.Accounts(ctx)
}

// newSecret makes a 192-bit random secret.
func newSecret() (string, string, error) {
	b := make([]byte, 24)
	if _, err := rand.Read(b); err != nil {
		return "", "", err
	}
	secret := base64.RawURLEncoding.EncodeToString(b)
	hash, err := orgrel.HashSecret(secret)
	return secret, hash, err
}

func (s *Service) NewAccount(ctx context.Context, actor, name, relationship string) (orgrel.ServiceAccount, string, error) {
	secret, hash, err := newSecret()
	if err != nil {
		return orgrel.ServiceAccount{}, "", err
	}
	a, err := s.db.CreateAccount(ctx, actor, name, relationship, hash)
	if err != nil {
		return a, "", err
	}
	return a, secret, nil
}

func (s *Service) RotateAccount(ctx context.Context, actor, name string, overlap time.Duration, version int64) (orgrel.ServiceAccount, string, error) {
	secret, hash, err := newSecret()
	if err != nil {
		return orgrel.ServiceAccount{}, "", err
	}
	a, err := s.db.RotateAccount(ctx, actor, name, hash, overlap, version)
	if err != nil {
		return a, "", err
	}
	return a, secret, nil
}

func (s *Service) SetOutboundCredential(ctx context.Context, actor, relationship, account, secret string) error {
	return s.db.SetOutboundCredential(ctx, actor, relationship, account, secret)
}

func (s *Service) RevokeAccount(ctx context.Context, actor, name string, version int64) (orgrel.ServiceAccount, error) {
	return s.db.RevokeAccount(ctx, actor, name, version)
}

func (s *Service) Audit(ctx context.Context, since time.Time, limit int) ([]orgrel.AuditEntry, error) {
	return s.db.Audit(ctx, since, limit)
}

func (s *Service) AccessLog(ctx context.Context, q orgrel.AccessQuery) ([]orgrel.AccessEntry, error) {
	if q.Mailbox != "" {
		a, err := domainname.Address(strings.TrimSpace(q.Mailbox))
		if err != nil {
			return nil, fmt.Errorf("%w: -mailbox %q: %v", store.ErrInvalid, q.Mailbox, err)
		}
		q.Mailbox = a
	}
	return s.db.AccessLog(ctx, q)
}

func (s *Service) PartnerActivity(ctx context.Context, since time.Time) ([]orgrel.PartnerActivity, error) {
	return s.db.PartnerActivity(ctx, since)
}

func (s *Service) Domains(ctx context.Context) ([]string, error) {
	var out []string
	for addr := range s.mailboxes {
		d := addr[strings.LastIndexByte(addr, '@')+1:]
		if !slices.Contains(out, d) {
			out = append(out, d)
		}
	}
	slices.Sort(out)
	return out, nil
}

func (s *Service) Trust(ctx context.Context) (orgrel.Trust, error) { return s.trust.Get(ctx) }

func (s *Service) Registration(ctx context.Context) (orgrel.Registration, error) {
	return s.trust.Registration(ctx)
}

func (s *Service) DomainChecks(ctx context.Context) ([]orgrel.DomainCheck, error) {
	return s.db.DomainChecks(ctx)
}

// SetTrust writes t as trust.Service.Set does: domains it adds, the
// first trust's included, must have their proofs published. There is no
// skipping them here; that is for the server's own command line.
func (s *Service) SetTrust(ctx context.Context, actor string, t orgrel.Trust) (orgrel.Trust, error) {
	return s.trust.Set(ctx, actor, t, trust.SetOptions{})
}
