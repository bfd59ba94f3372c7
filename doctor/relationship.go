package doctor

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/calfed/calfed/autodiscover"
	"github.com/calfed/calfed/freebusy"
	"github.com/calfed/calfed/internal/domainname"
	"github.com/calfed/calfed/internal/fedtoken"
	"github.com/calfed/calfed/orgrel"
	"github.com/calfed/calfed/partner"
)

// Steps of Relationship, in order (the TLS steps, StepTLSVersion and
// StepTLSCertificate, follow discovery for Autodiscover and the EWS URL
// for EWS).
const (
	StepRelationship        = "relationship"
	StepFederationInfo      = "federation information"
	StepAutodiscoverToken   = "token for Autodiscover"
	StepPartnerRelationship = "partner's relationship with us"
	StepEWSURL              = "EWS URL"
	StepFreeBusyToken       = "token for free/busy"
	StepFreeBusy            = "free/busy query"
)

// RelationshipOptions name the relationship and the users of a test.
type RelationshipOptions struct {
	Name string // our relationship's name
	User string // ours, on whose behalf the partner is asked
	// PartnerUser is a mailbox of the partner's to look up: the EWS URL
	// through its Autodiscover, and its free/busy. Without it those steps
	// are skipped, unless the relationship names TargetSharingEpr.
	PartnerUser string
}

// Relationship is Test-OrganizationRelationship: it tests our
// relationship named o.Name from our side to the partner and back, each
// step a Result (docs/protocol.md §5, §11).
func (c *Checker) Relationship(ctx context.Context, o RelationshipOptions) *Report {
	s := newSteps("orgrel test " + o.Name)
	rel, ours, ok := c.relationshipStep(ctx, s, o)
	if !ok {
		return s.r
	}
	userDomain, _ := domainname.DomainOf(o.User)

	// Discovery at the relationship's Autodiscover endpoint.
	adURL := strings.TrimSuffix(strings.TrimRight(rel.TargetAutodiscoverEPR, "/"), "/WSSecurity")
	if strings.HasSuffix(strings.ToLower(adURL), "/wssecurity") {
		adURL = adURL[:len(adURL)-len("/wssecurity")]
	}
	c.federationInfoStep(ctx, s, rel, ours, adURL)
	if adURL != "" {
		c.checkTLS(ctx, s, "Autodiscover", adURL)
	} else {
		s.skip(StepTLSVersion+" (Autodiscover)", "the relationship has no TargetAutodiscoverEpr")
		s.skip(StepTLSCertificate+" (Autodiscover)", "the relationship has no TargetAutodiscoverEpr")
	}

	tokens, err := c.tokens(ctx)
	var adToken []byte
	if err == nil {
		adToken, err = tokens.Token(ctx, o.User, rel.TargetApplicationURI, fedtoken.OfferAutodiscover)
	}
	if err != nil {
		s.fail(StepAutodiscoverToken, err, tokenFix(ours))
	} else {
		s.pass(StepAutodiscoverToken, fmt.Sprintf("for %s, audience %s, offer %s", o.User, rel.TargetApplicationURI, fedtoken.OfferAutodiscover))
	}

	adWSS := partner.WSSecurityURL(orDefault(rel.TargetAutodiscoverEPR, adURL))
	if adURL == "" {
		s.skip(StepAutodiscoverWSSecurity, "the relationship has no TargetAutodiscoverEpr")
		s.skip(StepPartnerRelationship, "the relationship has no TargetAutodiscoverEpr")
	} else {
		c.probe(ctx, s, StepAutodiscoverWSSecurity, adWSS)
		if s.failed(StepAutodiscoverToken) {
			s.skip(StepPartnerRelationship, "no token for Autodiscover")
		} else {
			c.partnerRelationshipStep(ctx, s, rel, ours, userDomain, adWSS, adToken)
		}
	}

	// The partner's EWS: its URL, TLS, the /WSSecurity path, a query.
	client := &partner.Client{Tokens: tokens, HTTP: c.client()}
	p := partner.Partner{ApplicationURI: rel.TargetApplicationURI, AutodiscoverEPR: adWSS, SharingEPR: rel.TargetSharingEPR}
	ewsURL := ""
	switch {
	case rel.TargetSharingEPR != "":
		ewsURL = rel.TargetSharingEPR
		s.pass(StepEWSURL, ewsURL+" (the relationship's TargetSharingEpr)")
	case o.PartnerUser == "":
		s.skip(StepEWSURL, "give -partner-user, a mailbox of the partner's, to look up its EWS URL")
	case s.failed(StepAutodiscoverToken):
		s.skip(StepEWSURL, "no token for Autodiscover")
	default:
		ewsURL, err = client.EWSURL(ctx, p, o.User, o.PartnerUser)
		if err != nil {
			s.fail(StepEWSURL, err, "the partner's Autodiscover must answer GetUserSettings for "+o.PartnerUser+" with ExternalEwsUrl (their Exchange's External URL of the EWS virtual directory)")
		} else {
			s.pass(StepEWSURL, ewsURL+" (GetUserSettings for "+o.PartnerUser+")")
		}
	}
	if ewsURL == "" {
		s.skip(StepTLSVersion+" (EWS)", "no EWS URL")
		s.skip(StepTLSCertificate+" (EWS)", "no EWS URL")
		s.skip(StepEWSWSSecurity, "no EWS URL")
	} else {
		if !sameHost(ewsURL, adURL) {
			c.checkTLS(ctx, s, "EWS", ewsURL)
		}
		c.probe(ctx, s, StepEWSWSSecurity, partner.WSSecurityURL(ewsURL))
	}

	if tokens == nil {
		s.fail(StepFreeBusyToken, errors.New("no token client: our federation trust has no certificate or token issuer"), tokenFix(ours))
	} else if _, err := tokens.Token(ctx, o.User, rel.TargetApplicationURI, fedtoken.OfferFreeBusy); err != nil {
		s.fail(StepFreeBusyToken, err, tokenFix(ours))
	} else {
		s.pass(StepFreeBusyToken, fmt.Sprintf("for %s, audience %s, offer %s", o.User, rel.TargetApplicationURI, fedtoken.OfferFreeBusy))
	}
	switch {
	case o.PartnerUser == "":
		s.skip(StepFreeBusy, "give -partner-user, a mailbox of the partner's, to ask for its free/busy")
	case ewsURL == "" || s.failed(StepFreeBusyToken):
		s.skip(StepFreeBusy, "no EWS URL or no token for free/busy")
	default:
		c.freeBusyStep(ctx, s, client, p, ewsURL, o)
	}
	return s.r
}

// relationshipStep finds our relationship and checks that it can be
// used to ask the partner; it returns the relationship and our trust.
func (c *Checker) relationshipStep(ctx context.Context, s *steps, o RelationshipOptions) (orgrel.Relationship, orgrel.Trust, bool) {
	var rel orgrel.Relationship
	rels, err := c.Records.Relationships(ctx)
	if err != nil {
		s.fail(StepRelationship, err, "check that the store is reachable (calfed orgrel list)")
		return rel, orgrel.Trust{}, false
	}
	i := slices.IndexFunc(rels, func(r orgrel.Relationship) bool { return r.Name == o.Name })
	if i < 0 {
		s.fail(StepRelationship, fmt.Errorf("no organisation relationship named %q", o.Name), "calfed orgrel list shows the names")
		return rel, orgrel.Trust{}, false
	}
	rel = rels[i]
	ours, err := c.Trust.Get(ctx)
	if err != nil {
		s.fail(StepRelationship, fmt.Errorf("our federation trust: %w", err), "set up the federation trust first (calfed trust new)")
		return rel, ours, false
	}
	var problems []string
	var fixes []string
	if !rel.Enabled {
		problems = append(problems, "it is disabled")
		fixes = append(fixes, "calfed orgrel enable "+quote(rel.Name))
	}
	if !rel.FreeBusyAccessEnabled {
		problems = append(problems, "free/busy access is off")
		fixes = append(fixes, "calfed orgrel set "+quote(rel.Name)+" -free-busy")
	}
	if rel.TargetApplicationURI == "" {
		problems = append(problems, "it has no TargetApplicationUri to ask tokens for")
		fixes = append(fixes, "calfed orgrel set "+quote(rel.Name)+" -target-application-uri URI (calfed fedinfo "+first(rel.Domains)+" shows it)")
	}
	if rel.TargetAutodiscoverEPR == "" && rel.TargetSharingEPR == "" {
		problems = append(problems, "it has neither TargetAutodiscoverEpr nor TargetSharingEpr")
		fixes = append(fixes, "calfed orgrel set "+quote(rel.Name)+" -target-autodiscover-epr URL (calfed fedinfo "+first(rel.Domains)+" shows it)")
	}
	if _, err := domainname.DomainOf(o.User); o.User == "" || err != nil {
		problems = append(problems, fmt.Sprintf("no user of ours to ask as (-user %q)", o.User))
		fixes = append(fixes, "give -user, one of our addresses, on whose behalf the partner is asked")
	}
	if len(problems) > 0 {
		s.fail(StepRelationship, fmt.Errorf("relationship %s: %s", rel.Name, strings.Join(problems, "; ")), strings.Join(fixes, "; "))
		return rel, ours, false
	}
	s.pass(StepRelationship, fmt.Sprintf("%s: domains %s, %s, ApplicationUri %s", rel.Name, strings.Join(rel.Domains, ", "), rel.FreeBusyAccessLevel, rel.TargetApplicationURI))
	return rel, ours, true
}

// federationInfoStep asks the partner's Autodiscover for its federation
// information, as Get-FederationInformation, and compares it with the
// relationship: ApplicationUri, domain, token issuer (Exchange's
// ApplicationUrisDiffer and MismatchedFederation).
func (c *Checker) federationInfoStep(ctx context.Context, s *steps, rel orgrel.Relationship, ours orgrel.Trust, adURL string) {
	d := &autodiscover.Discoverer{URL: adURL, HTTP: c.client()}
	info, err := d.FederationInformation(ctx, first(rel.Domains))
	if err != nil {
		s.fail(StepFederationInfo, err, fedInfoFix(err, first(rel.Domains)))
		return
	}
	var problems []string
	if !domainname.EqualFoldASCII(info.TargetApplicationURI, rel.TargetApplicationURI) {
		problems = append(problems, fmt.Sprintf("the partner's ApplicationUri is %s, the relationship's TargetApplicationUri %s", info.TargetApplicationURI, rel.TargetApplicationURI))
	}
	if ours.TokenIssuerURI != "" && !slices.Contains(info.TokenIssuerURIs, ours.TokenIssuerURI) {
		problems = append(problems, fmt.Sprintf("the partner trusts token issuers %s, not ours (%s)", strings.Join(info.TokenIssuerURIs, ", "), ours.TokenIssuerURI))
	}
	if len(problems) > 0 {
		s.fail(StepFederationInfo, errors.New(strings.Join(problems, "; ")),
			"if the partner's answer is right: calfed orgrel set "+quote(rel.Name)+" -target-application-uri "+info.TargetApplicationURI+
				"; the partner's federation trust must be with the same token issuer as ours")
		return
	}
	s.pass(StepFederationInfo, fmt.Sprintf("%s: ApplicationUri %s, domains %s, token issuers %s", orDefault(adURL, "discovered"),
		info.TargetApplicationURI, strings.Join(info.DomainNames, ", "), strings.Join(info.TokenIssuerURIs, ", ")))
}

// partnerRelationshipStep asks the partner for its relationship with our
// domain (GetOrganizationRelationshipSettings), and checks that it lets
// our users see free/busy and names our ApplicationUri.
func (c *Checker) partnerRelationshipStep(ctx context.Context, s *steps, rel orgrel.Relationship, ours orgrel.Trust, domain, url string, token []byte) {
	ad := &autodiscover.Client{HTTP: c.client()}
	settings, err := ad.GetOrganizationRelationshipSettings(ctx, url, token, []string{domain})
	if err != nil {
		s.fail(StepPartnerRelationship, fmt.Errorf("GetOrganizationRelationshipSettings at %s: %w", url, err),
			"the partner's Autodiscover must accept our token at /WSSecurity; their administrator checks the token issuer and our federation trust (Test-FederationTrust there)")
		return
	}
	var theirs *autodiscover.OrganizationRelationshipSettings
	for i := range settings {
		if slices.ContainsFunc(settings[i].DomainNames, func(d string) bool { return domainname.EqualFoldASCII(d, domain) }) {
			theirs = &settings[i]
		}
	}
	powershell := "their administrator creates it: calfed orgrel powershell " + quote(rel.Name) + " prints what they run"
	switch {
	case theirs == nil:
		s.fail(StepPartnerRelationship, fmt.Errorf("the partner has no organisation relationship with %s: GetOrganizationRelationshipSettings lists none", domain), powershell)
	case !theirs.FreeBusyAccessEnabled || theirs.FreeBusyAccessLevel == "None":
		s.fail(StepPartnerRelationship, fmt.Errorf("the partner's relationship %s with %s does not share free/busy (enabled %t, level %s)", theirs.Name, domain, theirs.FreeBusyAccessEnabled, theirs.FreeBusyAccessLevel),
			"their administrator runs Set-OrganizationRelationship "+quote(theirs.Name)+" -Enabled $true -FreeBusyAccessEnabled $true -FreeBusyAccessLevel AvailabilityOnly")
	case theirs.TargetApplicationURI != "" && ours.ApplicationURI != "" && !domainname.EqualFoldASCII(theirs.TargetApplicationURI, ours.ApplicationURI):
		s.fail(StepPartnerRelationship, fmt.Errorf("the partner's relationship %s names TargetApplicationUri %s; ours is %s", theirs.Name, theirs.TargetApplicationURI, ours.ApplicationURI),
			"their administrator runs Get-FederationInformation -DomainName "+domain+" | Set-OrganizationRelationship "+quote(theirs.Name))
	default:
		s.pass(StepPartnerRelationship, fmt.Sprintf("%s: free/busy %s for %s; MailTips %s", theirs.Name, theirs.FreeBusyAccessLevel, strings.Join(theirs.DomainNames, ", "), theirs.MailTipsAccessLevel))
	}
}

// freeBusyStep asks the partner for a day of o.PartnerUser's free/busy.
func (c *Checker) freeBusyStep(ctx context.Context, s *steps, client *partner.Client, p partner.Partner, ewsURL string, o RelationshipOptions) {
	p.SharingEPR = ewsURL
	start := c.now().UTC().Truncate(24 * time.Hour)
	res, err := client.FreeBusy(ctx, p, partner.Query{User: o.User, Query: freebusy.Query{Mailboxes: []string{o.PartnerUser}, Start: start, End: start.Add(24 * time.Hour)}})
	if err != nil {
		s.fail(StepFreeBusy, err, "the partner's EWS must accept our free/busy token at "+partner.WSSecurityURL(ewsURL)+"; their administrator checks their relationship with us and their federation trust")
		return
	}
	r := res[0]
	if r.Code != "NoError" {
		fix := "their administrator checks their relationship with our domain and the sharing of " + o.PartnerUser
		if r.Code == "ErrorMailRecipientNotFound" {
			fix = "ask for a mailbox the partner has"
		}
		s.fail(StepFreeBusy, fmt.Errorf("%s: %s: %s", o.PartnerUser, r.Code, r.Message), fix)
		return
	}
	s.pass(StepFreeBusy, fmt.Sprintf("%s: %s, %d events on %s", o.PartnerUser, r.View, len(r.Busy), start.Format("2006-01-02")))
}

// fedInfoFix says what to do about a failed Get-FederationInformation.
func fedInfoFix(err error, domain string) string {
	var certErr *tls.CertificateVerificationError
	switch {
	case errors.As(err, &certErr):
		return "the endpoint's TLS certificate is refused: see the TLS certificate step"
	case errors.Is(err, autodiscover.ErrNotFederated):
		return domain + " is not among the organisation's federated domains: its administrator adds it (Add-FederatedDomain; calfed domain add " + domain + ")"
	case errors.Is(err, autodiscover.ErrNoEndpoint):
		return "publish Autodiscover for " + domain + ": https://autodiscover." + domain + "/autodiscover/autodiscover.svc must answer GetFederationInformation without authentication"
	}
	return "the Autodiscover endpoint must answer GetFederationInformation as Exchange does (calfed fedinfo " + domain + " -v shows each step tried)"
}

// tokenFix says what to do about a token the issuer would not give.
func tokenFix(ours orgrel.Trust) string {
	return "check our trust with calfed trust test; the token issuer (" + orDefault(ours.TokenIssuerEndpoint, "none set") +
		") must know the partner's ApplicationUri, and us (calfed trust register)"
}

func sameHost(a, b string) bool {
	ua, err1 := url.Parse(a)
	ub, err2 := url.Parse(b)
	return err1 == nil && err2 == nil && ua.Scheme == ub.Scheme && strings.EqualFold(ua.Host, ub.Host)
}

func first(s []string) string {
	if len(s) == 0 {
		return ""
	}
	return s[0]
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// quote quotes a relationship's name for a shell when it needs it.
func quote(name string) string {
	if strings.ContainsAny(name, " \t'\"$`\\") {
		return "'" + strings.ReplaceAll(name, "'", `'\''`) + "'"
	}
	return name
}
