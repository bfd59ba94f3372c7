package orgrel

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// A Field is one setting of a record as people set and see it: the
// command-line option that sets it (calfed orgrel new and set, trust set,
// mailbox share), the label it is shown under, and its value as text.
// Each record's table lists its fields in the order they are shown;
// options given together are set in that order too. A list shows its
// records in columns, which are Fields too: the label heads the column.
type Field[T any] struct {
	Flag  string // the option, without its dash; empty for a field only shown
	Label string // what it is shown as: Exchange's parameter name where it has one
	Help  string // the option's help
	// Switch marks a boolean option, which alone turns the setting on;
	// On is the option's default, for its help.
	Switch, On bool
	Get        func(T) string         // the value shown; empty leaves the field out
	Set        func(*T, string) error // parses an option's value into the record
}

// RelationshipFields are a relationship's fields: Exchange's parameters,
// then the onboarding record. Text is trimmed; "-" shows it empty.
var RelationshipFields = []Field[Relationship]{
	{Label: "Name", Get: func(r Relationship) string { return r.Name }},
	{Flag: "domains", Label: "DomainNames", Help: "Domains: the partner's domains, comma-separated",
		Get: func(r Relationship) string { return strings.Join(r.Domains, ", ") },
		Set: setList(func(r *Relationship) *[]string { return &r.Domains })},
	{Flag: "enabled", Label: "Enabled", Help: "Enabled", Switch: true, On: true,
		Get: func(r Relationship) string { return fmt.Sprint(r.Enabled) },
		Set: setBool(func(r *Relationship) *bool { return &r.Enabled })},
	{Flag: "free-busy", Label: "FreeBusyAccessEnabled", Help: "FreeBusyAccessEnabled (off by default, as Exchange)", Switch: true,
		Get: func(r Relationship) string { return fmt.Sprint(r.FreeBusyAccessEnabled) },
		Set: func(r *Relationship, v string) (err error) {
			r.FreeBusyAccessEnabled, err = strconv.ParseBool(v)
			// Turned on, it shares availability at least; a level given
			// with it is set after it.
			if r.FreeBusyAccessEnabled && r.FreeBusyAccessLevel == None {
				r.FreeBusyAccessLevel = AvailabilityOnly
			}
			return err
		}},
	{Flag: "level", Label: "FreeBusyAccessLevel", Help: "FreeBusyAccessLevel: None, AvailabilityOnly (default once -free-busy) or LimitedDetails",
		Get: func(r Relationship) string { return r.FreeBusyAccessLevel.String() },
		Set: func(r *Relationship, v string) (err error) {
			r.FreeBusyAccessLevel, err = ParseLevel(v)
			return err
		}},
	relText("scope", "FreeBusyAccessScope", "FreeBusyAccessScope: a group of our mailboxes; empty for all",
		func(r *Relationship) *string { return &r.FreeBusyAccessScope }),
	{Flag: "mail-tips", Label: "MailTipsAccessEnabled", Help: "MailTipsAccessEnabled (off by default, as Exchange)", Switch: true,
		Get: func(r Relationship) string { return fmt.Sprint(r.MailTipsAccessEnabled) },
		Set: func(r *Relationship, v string) (err error) {
			r.MailTipsAccessEnabled, err = strconv.ParseBool(v)
			// Turned on, it gives Limited MailTips at least; a level
			// given with it is set after it.
			if r.MailTipsAccessEnabled && r.MailTipsAccessLevel == MailTipsNone {
				r.MailTipsAccessLevel = MailTipsLimited
			}
			return err
		}},
	{Flag: "mail-tips-level", Label: "MailTipsAccessLevel", Help: "MailTipsAccessLevel: None, Limited (default once -mail-tips) or All",
		Get: func(r Relationship) string { return r.MailTipsAccessLevel.String() },
		Set: func(r *Relationship, v string) (err error) {
			r.MailTipsAccessLevel, err = ParseMailTipsLevel(v)
			return err
		}},
	relText("target-application-uri", "TargetApplicationUri", "TargetApplicationUri",
		func(r *Relationship) *string { return &r.TargetApplicationURI }),
	relText("target-autodiscover-epr", "TargetAutodiscoverEpr", "TargetAutodiscoverEpr",
		func(r *Relationship) *string { return &r.TargetAutodiscoverEPR }),
	relText("target-sharing-epr", "TargetSharingEpr", "TargetSharingEpr",
		func(r *Relationship) *string { return &r.TargetSharingEPR }),
	relText("organization-contact", "OrganizationContact", "OrganizationContact",
		func(r *Relationship) *string { return &r.OrganizationContact }),
	relText("partner-organization", "Partner organisation", "onboarding: partner organisation name",
		func(r *Relationship) *string { return &r.Onboarding.PartnerOrganization }),
	relText("partner-code", "Partner code", "onboarding: partner organisation code",
		func(r *Relationship) *string { return &r.Onboarding.PartnerCode }),
	relText("agreement", "Agreement", "onboarding: agreement reference",
		func(r *Relationship) *string { return &r.Onboarding.AgreementReference }),
	relText("signatory", "Authorised signatory", "onboarding: authorised signatory",
		func(r *Relationship) *string { return &r.Onboarding.AuthorisedSignatory }),
	relText("contact-point", "Contact point", "onboarding: single point of contact",
		func(r *Relationship) *string { return &r.Onboarding.ContactPoint }),
	{Flag: "approved", Label: "Approved", Help: "onboarding: approval date, YYYY-MM-DD or RFC 3339; \"none\" clears it",
		Get: func(r Relationship) string {
			if r.Onboarding.Approved == nil {
				return "-"
			}
			return r.Onboarding.Approved.Format("2006-01-02")
		},
		Set: func(r *Relationship, v string) (err error) {
			r.Onboarding.Approved, err = parseApproved(v)
			return err
		}},
	relText("notes", "Notes", "onboarding: notes", func(r *Relationship) *string { return &r.Onboarding.Notes }),
	{Label: "Created", Get: func(r Relationship) string { return r.Created.Format(time.RFC3339) }},
	{Label: "Updated", Get: func(r Relationship) string { return r.Updated.Format(time.RFC3339) }},
	{Label: "Version", Get: func(r Relationship) string { return fmt.Sprint(r.Version) }},
}

// relText is a relationship's text field at the string at returns.
func relText(flag, label, help string, at func(*Relationship) *string) Field[Relationship] {
	return Field[Relationship]{Flag: flag, Label: label, Help: help,
		Get: func(r Relationship) string { return dash(*at(&r)) },
		Set: func(r *Relationship, v string) error {
			*at(r) = strings.TrimSpace(v)
			return nil
		},
	}
}

// RelationshipColumns are a relationship as orgrel list shows it.
var RelationshipColumns = []Field[Relationship]{
	{Label: "NAME", Get: func(r Relationship) string { return r.Name }},
	{Label: "DOMAINS", Get: func(r Relationship) string { return strings.Join(r.Domains, ",") }},
	{Label: "ENABLED", Get: func(r Relationship) string { return fmt.Sprint(r.Enabled) }},
	{Label: "FREE/BUSY", Get: func(r Relationship) string { return levelOrOff(r.FreeBusyAccessEnabled, r.FreeBusyAccessLevel) }},
	{Label: "SCOPE", Get: func(r Relationship) string { return dash(r.FreeBusyAccessScope) }},
	{Label: "MAILTIPS", Get: func(r Relationship) string { return levelOrOff(r.MailTipsAccessEnabled, r.MailTipsAccessLevel) }},
	{Label: "PARTNER", Get: func(r Relationship) string { return dash(r.Onboarding.PartnerOrganization) }},
}

// levelOrOff is an access level, or "off" where the access is not
// enabled.
func levelOrOff(enabled bool, level fmt.Stringer) string {
	if !enabled {
		return "off"
	}
	return level.String()
}

// AccountColumns are a service account as account list shows it.
var AccountColumns = []Field[ServiceAccount]{
	{Label: "NAME", Get: func(a ServiceAccount) string { return a.Name }},
	{Label: "RELATIONSHIP", Get: func(a ServiceAccount) string { return a.Relationship }},
	{Label: "STATE", Get: func(a ServiceAccount) string {
		if a.Revoked != nil {
			return "revoked " + a.Revoked.Format("2006-01-02")
		}
		return "active"
	}},
	{Label: "CREATED", Get: func(a ServiceAccount) string { return a.Created.Format("2006-01-02") }},
	{Label: "ROTATED", Get: func(a ServiceAccount) string {
		if a.Rotated == nil {
			return "-"
		}
		return a.Rotated.Format("2006-01-02")
	}},
	{Label: "PREVIOUS SECRET UNTIL", Get: func(a ServiceAccount) string {
		if a.PreviousValidUntil == nil || a.Revoked != nil {
			return "-"
		}
		return a.PreviousValidUntil.UTC().Format("2006-01-02 15:04 MST")
	}},
}

// DomainCheckColumns are a domain proof's last check as domain status
// shows it.
var DomainCheckColumns = []Field[DomainCheck]{
	{Label: "DOMAIN", Get: func(c DomainCheck) string { return c.Domain }},
	{Label: "WHOSE", Get: func(c DomainCheck) string {
		if c.Kind == DomainPartner {
			return "orgrel " + c.Relationship
		}
		return "ours"
	}},
	{Label: "STATUS", Get: func(c DomainCheck) string { return c.Status }},
	{Label: "CHECKED", Get: func(c DomainCheck) string { return c.Checked.UTC().Format(time.RFC3339) }},
	{Label: "DETAIL", Get: func(c DomainCheck) string { return dash(c.Detail) }},
}

// dash shows an empty value as "-".
func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// parseApproved reads an approval date: YYYY-MM-DD or RFC 3339, kept in
// UTC; empty or "none" is no approval.
func parseApproved(v string) (*time.Time, error) {
	switch v = strings.TrimSpace(v); v {
	case "", "none":
		return nil, nil
	}
	t, err := time.Parse("2006-01-02", v)
	if err != nil {
		if t, err = time.Parse(time.RFC3339, v); err != nil {
			return nil, fmt.Errorf("%q is neither YYYY-MM-DD nor RFC 3339", v)
		}
	}
	t = t.UTC()
	return &t, nil
}

// TrustFields are the federation trust's fields, as
// Set-FederatedOrganizationIdentifier and Get-FederationTrust name them.
var TrustFields = []Field[Trust]{
	{Flag: "account-namespace", Label: "AccountNamespace", Help: "AccountNamespace: our primary domain (required the first time)",
		Get: func(t Trust) string { return t.AccountNamespace },
		Set: func(t *Trust, v string) error {
			// An ApplicationUri that followed the old namespace follows
			// the new one; one given with it is set after it.
			if t.AccountNamespace != "" && strings.EqualFold(t.ApplicationURI, DefaultApplicationURI(t.AccountNamespace)) {
				t.ApplicationURI = ""
			}
			t.AccountNamespace = v
			return nil
		}},
	{Flag: "application-uri", Label: "ApplicationUri", Help: "ApplicationUri; default FYDIBOHF25SPDLT.<account namespace>",
		Get: func(t Trust) string { return t.ApplicationURI },
		Set: setText(func(t *Trust) *string { return &t.ApplicationURI })},
	{Flag: "domains", Label: "Domains", Help: "federated domains besides the account namespace, comma-separated",
		Get: func(t Trust) string { return strings.Join(t.Domains, ", ") },
		Set: setList(func(t *Trust) *[]string { return &t.Domains })},
	{Flag: "token-issuer-uri", Label: "TokenIssuerUri", Help: "the token issuer's URI, e.g. urn:federation:MicrosoftOnline (required the first time)",
		Get: func(t Trust) string { return t.TokenIssuerURI },
		Set: setText(func(t *Trust) *string { return &t.TokenIssuerURI })},
	{Flag: "token-issuer-endpoint", Label: "TokenIssuerEpr", Help: "the token issuer's endpoint, e.g. https://login.microsoftonline.com/extSTS.srf (required the first time)",
		Get: func(t Trust) string { return t.TokenIssuerEndpoint },
		Set: setText(func(t *Trust) *string { return &t.TokenIssuerEndpoint })},
	{Flag: "disclose-all-domains", Label: "DiscloseAllDomains", Help: "list every federated domain in GetFederationInformation, not only the one asked about", Switch: true,
		Get: func(t Trust) string { return fmt.Sprint(t.DiscloseAllDomains) },
		Set: setBool(func(t *Trust) *bool { return &t.DiscloseAllDomains })},
	{Label: "Updated", Get: func(t Trust) string { return t.Updated.Format(time.RFC3339) }},
	{Label: "Version", Get: func(t Trust) string { return fmt.Sprint(t.Version) }},
}

// setText sets the string at returns to an option's value, as given.
func setText[T any](at func(*T) *string) func(*T, string) error {
	return func(r *T, v string) error {
		*at(r) = v
		return nil
	}
}

// setList sets the list at returns to an option's comma-separated items.
func setList[T any](at func(*T) *[]string) func(*T, string) error {
	return func(r *T, v string) error {
		*at(r) = SplitList(v)
		return nil
	}
}

// setBool sets the boolean at returns to a switch's value.
func setBool[T any](at func(*T) *bool) func(*T, string) error {
	return func(r *T, v string) (err error) {
		*at(r), err = strconv.ParseBool(v)
		return err
	}
}

// SplitList splits a comma-separated list, trimming each item and
// dropping empty ones.
func SplitList(s string) []string {
	var out []string
	for _, d := range strings.Split(s, ",") {
		if d = strings.TrimSpace(d); d != "" {
			out = append(out, d)
		}
	}
	return out
}

// UserTokenColumns are a user's token as user token list shows it.
var UserTokenColumns = []Field[UserToken]{
	{Label: "ID", Get: func(t UserToken) string { return t.ID }},
	{Label: "ADDRESS", Get: func(t UserToken) string { return t.Address }},
	{Label: "LABEL", Get: func(t UserToken) string { return dash(t.Label) }},
	{Label: "STATE", Get: func(t UserToken) string {
		switch {
		case t.Revoked != nil:
			return "revoked " + t.Revoked.Format("2006-01-02")
		case t.Expires != nil:
			return "expires " + t.Expires.Format("2006-01-02")
		}
		return "active"
	}},
	{Label: "CREATED", Get: func(t UserToken) string { return t.Created.Format("2006-01-02") }},
}
