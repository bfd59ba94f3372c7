package orgrel

import (
	"encoding/json"
	"strings"
	"time"

	"github.com/calfed/calfed/internal/domainname"
)

// The federation's records: what the store keeps, the admin API and the
// command line show, and Autodiscover answers from. Their JSON and YAML
// names are the admin API's and the orgrel apply file's wire format.

// Relationship is an organisation relationship, as New-OrganizationRelationship
// describes one (docs/protocol.md §5), with the onboarding record kept beside it. The
// access decision reads the first six fields.
type Relationship struct {
	Name                  string   `json:"name" yaml:"name"`
	Domains               []string `json:"domain_names" yaml:"domain_names"` // DomainNames: partner domains, lower case
	Enabled               bool     `json:"enabled" yaml:"enabled"`
	FreeBusyAccessEnabled bool     `json:"free_busy_access_enabled" yaml:"free_busy_access_enabled"`
	FreeBusyAccessLevel   Level    `json:"free_busy_access_level" yaml:"free_busy_access_level"`
	FreeBusyAccessScope   string   `json:"free_busy_access_scope,omitempty" yaml:"free_busy_access_scope,omitempty"` // a group of our mailboxes; empty: all
	TargetApplicationURI  string   `json:"target_application_uri,omitempty" yaml:"target_application_uri,omitempty"`
	TargetAutodiscoverEPR string   `json:"target_autodiscover_epr,omitempty" yaml:"target_autodiscover_epr,omitempty"`
	TargetSharingEPR      string   `json:"target_sharing_epr,omitempty" yaml:"target_sharing_epr,omitempty"`
	OrganizationContact   string   `json:"organization_contact,omitempty" yaml:"organization_contact,omitempty"`
	// MailTipsAccessEnabled and MailTipsAccessLevel decide which MailTips
	// of our recipients the partner's senders get (DecideMailTips).
	MailTipsAccessEnabled bool          `json:"mail_tips_access_enabled" yaml:"mail_tips_access_enabled"`
	MailTipsAccessLevel   MailTipsLevel `json:"mail_tips_access_level" yaml:"mail_tips_access_level"`
	Onboarding            Onboarding    `json:"onboarding" yaml:"onboarding"`

	Version int64     `json:"version" yaml:"-"`
	Created time.Time `json:"created" yaml:"-"`
	Updated time.Time `json:"updated" yaml:"-"`
}

// Onboarding is what a health-service platform records about a partner.
type Onboarding struct {
	PartnerOrganization string     `json:"partner_organization,omitempty" yaml:"partner_organization,omitempty"`
	PartnerCode         string     `json:"partner_code,omitempty" yaml:"partner_code,omitempty"` // e.g. an ODS code
	AgreementReference  string     `json:"agreement_reference,omitempty" yaml:"agreement_reference,omitempty"`
	AuthorisedSignatory string     `json:"authorised_signatory,omitempty" yaml:"authorised_signatory,omitempty"`
	ContactPoint        string     `json:"contact_point,omitempty" yaml:"contact_point,omitempty"` // single point of contact
	Approved            *time.Time `json:"approved,omitempty" yaml:"approved,omitempty"`
	Notes               string     `json:"notes,omitempty" yaml:"notes,omitempty"`
}

// MailboxSharing is a user's recorded choice of what partners may see of
// their calendar: LimitedDetails to opt in to subject and location, None
// to opt out entirely.
type MailboxSharing struct {
	Address   string    `json:"address"`
	Level     Level     `json:"level"`
	ChangedBy string    `json:"changed_by"`
	ChangedAt time.Time `json:"changed_at"`
	Version   int64     `json:"version"`
}

// ServiceAccount is a partner's cross-forest credential: Exchange's
// Add-AvailabilityAddressSpace -AccessMethod OrgWideFB -Credentials. The
// secret is kept only as its hash.
type ServiceAccount struct {
	Name         string     `json:"name"`         // user name the partner sends, case-insensitive
	Relationship string     `json:"relationship"` // name of the relationship it acts for
	SecretHash   string     `json:"-"`            // HashSecret output
	Created      time.Time  `json:"created"`
	Rotated      *time.Time `json:"rotated,omitempty"`
	// PreviousSecretHash is the secret's hash before the last rotation,
	// still accepted until PreviousValidUntil, so that the partner can
	// change over without being cut off (RotationOverlap).
	PreviousSecretHash string     `json:"-"`
	PreviousValidUntil *time.Time `json:"previous_valid_until,omitempty"`
	Revoked            *time.Time `json:"revoked,omitempty"` // a revoked account never signs in again
	Version            int64      `json:"version"`
}

// RotationOverlap is how long, by default, a service account's previous
// secret is still accepted after a rotation.
const RotationOverlap = 7 * 24 * time.Hour

// MaxRotationOverlap bounds the overlap: a replaced secret is not a
// second secret for good.
const MaxRotationOverlap = 30 * 24 * time.Hour

// PreviousValid reports whether the previous secret is still accepted at
// now.
func (a ServiceAccount) PreviousValid(now time.Time) bool {
	return a.PreviousSecretHash != "" && a.PreviousValidUntil != nil && now.Before(*a.PreviousValidUntil)
}

// AuditEntry records one change: who, when, what, before and after.
type AuditEntry struct {
	ID     int64           `json:"id"`
	At     time.Time       `json:"at"`
	Actor  string          `json:"actor"`
	Action string          `json:"action"` // e.g. orgrel.new, mailbox.share, account.revoke
	Object string          `json:"object"` // e.g. orgrel/Partner
	Before json.RawMessage `json:"before,omitempty"`
	After  json.RawMessage `json:"after,omitempty"`
}

// Kinds of DomainCheck.
const (
	DomainOurs    = "ours"    // one of our federated domains
	DomainPartner = "partner" // a partner's domain, of a relationship
)

// DomainCheck is the last check of a domain's proof.
type DomainCheck struct {
	Domain       string    `json:"domain"`
	Kind         string    `json:"kind"`         // DomainOurs or DomainPartner
	Relationship string    `json:"relationship"` // for partner domains
	Status       string    `json:"status"`
	Detail       string    `json:"detail,omitempty"`
	Checked      time.Time `json:"checked"`
}

// Trust is our federation trust as far as Autodiscover tells partners:
// Set-FederatedOrganizationIdentifier's account namespace, our federated
// domains, and the token issuer partners get delegation tokens from.
type Trust struct {
	AccountNamespace    string   `json:"account_namespace"`
	ApplicationURI      string   `json:"application_uri"` // default DefaultApplicationURI(AccountNamespace)
	Domains             []string `json:"domains"`
	TokenIssuerURI      string   `json:"token_issuer_uri"`
	TokenIssuerEndpoint string   `json:"token_issuer_endpoint"`
	// DiscloseAllDomains makes GetFederationInformation list every
	// federated domain instead of only the one asked about.
	DiscloseAllDomains bool `json:"disclose_all_domains"`
	// TokenIssuerCertificates are the issuer's signing certificates as
	// PEM, current first, then previous.
	TokenIssuerCertificates string     `json:"token_issuer_certificates,omitempty"`
	MetadataURL             string     `json:"metadata_url,omitempty"`
	MetadataRefreshed       *time.Time `json:"metadata_refreshed,omitempty"`
	// CertificateThumbprint is our current federation certificate's, so
	// that a rollover is a recorded change every server sees.
	CertificateThumbprint string    `json:"certificate_thumbprint,omitempty"`
	Version               int64     `json:"version"`
	Updated               time.Time `json:"updated"`
}

// Registration is our application's registration with the federation
// gateway through ManageDelegation2 (docs/protocol.md §4.5, §4.7): the
// identifier it gave us, the certificate it holds, and each domain's
// state there.
type Registration struct {
	Gateway        string `json:"gateway"` // the registration service's URL
	AppID          string `json:"app_id"`
	ApplicationURI string `json:"application_uri"`
	// Certificate is the thumbprint of the federation certificate the
	// gateway holds for us.
	Certificate string             `json:"certificate"`
	Domains     []RegisteredDomain `json:"domains"`
	Version     int64              `json:"version"`
	Updated     time.Time          `json:"updated"`
}

// RegisteredDomain is one domain's state at the gateway.
type RegisteredDomain struct {
	Domain string `json:"domain"`
	State  string `json:"state"` // Active; PendingActivation while the gateway checks
}

// Domain returns the state recorded for domain, "" when it is not
// registered; domains are compared in canonical form
// (internal/domainname), and one with none is not registered.
func (r Registration) Domain(domain string) string {
	c, err := domainname.Canonical(strings.TrimSpace(domain))
	if err != nil {
		return ""
	}
	for _, d := range r.Domains {
		if dc, err := domainname.Canonical(d.Domain); err == nil && dc == c {
			return d.State
		}
	}
	return ""
}

// DefaultApplicationURI is Exchange's ApplicationUri for an account
// namespace when none is set. docs/protocol.md §5.
func DefaultApplicationURI(accountNamespace string) string {
	return "FYDIBOHF25SPDLT." + accountNamespace
}

// Server is a running calfed server as it reports itself in the store:
// the change it has put in force and whether its policy reloads fail.
// Every server rewrites its record at each heartbeat, so that the
// commands that change access can wait until every server applies them.
type Server struct {
	// ID names the process: its host, process id and a random part,
	// stable for the process's life and named in its log.
	ID      string    `json:"id"`
	Started time.Time `json:"started"`
	// Applied is the change counter of the policy in force, as of
	// AppliedAt.
	Applied   int64     `json:"applied"`
	AppliedAt time.Time `json:"applied_at"`
	// Heartbeat is the server's last report; it counts as gone once
	// Expires has passed.
	Heartbeat time.Time `json:"heartbeat"`
	Expires   time.Time `json:"expires"`
	// Error is why the last reload failed; empty when it succeeded.
	// FailingSince is when the failures began.
	Error        string     `json:"error,omitempty"`
	FailingSince *time.Time `json:"failing_since,omitempty"`
}

// UserToken is an app password or token one of our users signs in with to
// the free/busy fronts (calfed user token new). The token itself is shown
// once, when made; the store keeps only its SHA-256 hash, enough for a
// random secret of 256 bits.
type UserToken struct {
	ID      string     `json:"id"`      // public, to list and revoke it by
	Address string     `json:"address"` // the mailbox of ours it signs in as, canonical
	Label   string     `json:"label,omitempty"`
	Created time.Time  `json:"created"`
	Expires *time.Time `json:"expires,omitempty"`
	Revoked *time.Time `json:"revoked,omitempty"`
}

// Usable reports whether the token may sign in at now.
func (t UserToken) Usable(now time.Time) bool {
	return t.Revoked == nil && (t.Expires == nil || now.Before(*t.Expires))
}

// OutboundCredential is the account and secret a partner gave us to ask
// its availability service as an organisation (cross-forest), as Exchange
// keeps with Add-AvailabilityAddressSpace -AccessMethod OrgWideFB
// -Credentials. Unlike our own secrets it must be kept as it is, to be
// sent: its JSON never shows it.
type OutboundCredential struct {
	Relationship string    `json:"relationship"`
	Account      string    `json:"account"`
	Secret       string    `json:"-"`
	Updated      time.Time `json:"updated"`
}
