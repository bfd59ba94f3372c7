package doctor

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"

	"github.com/calfed/calfed/autodiscover"
	"github.com/calfed/calfed/dnsproof"
	"github.com/calfed/calfed/internal/domainname"
	"github.com/calfed/calfed/orgrel"
	"github.com/calfed/calfed/partner"
	"github.com/calfed/calfed/store"
)

// Steps of Domain, in order (the TLS steps follow StepAutodiscoverHTTPS,
// for Autodiscover and, on a host of its own, EWS).
const (
	StepAutodiscover      = "Autodiscover"
	StepAutodiscoverHTTPS = "Autodiscover over HTTPS"
	StepGateway           = "federation trust with the gateway"
	StepProof             = "domain proof"
	StepOrgRelationship   = "organisation relationship"
)

// DomainOptions say what to check a domain against.
type DomainOptions struct {
	Domain string
	// AutodiscoverURL, when set, is the SOAP Autodiscover endpoint to ask
	// instead of discovering one (labs; a partner that gave its URL).
	AutodiscoverURL string
	// Level is the free/busy access level our relationship with a
	// partner's domain is expected to grant; None: AvailabilityOnly or
	// LimitedDetails, either will do.
	Level orgrel.Level
}

// Domain checks a domain's readiness for calendar federation against
// what partner platforms require (docs/protocol.md §11): Autodiscover
// over HTTPS with a public certificate and TLS 1.2 or later, its and
// EWS's /WSSecurity endpoints reaching the server, a federation trust with
// the gateway we use, the domain's TXT proof, and, for a partner's
// domain, our relationship with it at the expected level. A domain of our
// trust is checked as ours: its proof against our certificate, its
// registration with the gateway.
func (c *Checker) Domain(ctx context.Context, o DomainOptions) *Report {
	domain, err := domainname.Canonical(strings.TrimSpace(o.Domain))
	s := newSteps("doctor " + o.Domain)
	if err != nil {
		s.fail(StepAutodiscover, err, "give the domain as a DNS name, such as contoso.example")
		return s.r
	}
	s.r.Subject = "doctor " + domain
	ours, err := c.Trust.Get(ctx)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		s.fail(StepAutodiscover, fmt.Errorf("our federation trust: %w", err), "check that the store is reachable (calfed trust show)")
		return s.r
	}
	isOurs := ours.AccountNamespace == domain || slices.Contains(ours.Domains, domain)

	// Discovery, as Get-FederationInformation.
	d := &autodiscover.Discoverer{URL: o.AutodiscoverURL, HTTP: c.client()}
	var tried []string
	d.Trace = func(step string) { tried = append(tried, step) }
	info, err := d.FederationInformation(ctx, domain)
	endpoint := ""
	if err != nil {
		s.fail(StepAutodiscover, err, fedInfoFix(err, domain))
	} else {
		endpoint = strings.TrimSuffix(info.TargetAutodiscoverEPR, "/WSSecurity")
		detail := fmt.Sprintf("%s: ApplicationUri %s, domains %s", endpoint, info.TargetApplicationURI, strings.Join(info.DomainNames, ", "))
		if len(tried) > 0 {
			detail += fmt.Sprintf(" (after %d endpoints that did not answer)", len(tried))
		}
		s.pass(StepAutodiscover, detail)
	}

	// HTTPS and TLS; when discovery failed, TLS is checked where
	// discovery looks first, which may be why it failed.
	if endpoint == "" {
		s.skip(StepAutodiscoverHTTPS, "Autodiscover was not found")
		c.checkTLS(ctx, s, "Autodiscover", orDefault(o.AutodiscoverURL, "https://autodiscover."+domain+"/autodiscover/autodiscover.svc"))
	} else {
		if strings.HasPrefix(endpoint, "https://") {
			s.pass(StepAutodiscoverHTTPS, endpoint)
		} else {
			s.fail(StepAutodiscoverHTTPS, fmt.Errorf("the Autodiscover endpoint found is %s, not HTTPS", endpoint),
				"serve Autodiscover over HTTPS at https://autodiscover."+domain+"/autodiscover/autodiscover.svc: Exchange refuses plain HTTP")
		}
		c.checkTLS(ctx, s, "Autodiscover", endpoint)
	}

	// The gateway: the domain's token issuers include ours; our own
	// domain must also be registered with it.
	c.gatewayStep(ctx, s, domain, isOurs, ours, info)

	// The TXT proof.
	c.proofStep(ctx, s, domain, isOurs)

	// The WS-Security endpoints reach the server.
	rel, hasRel := c.relationshipFor(ctx, domain)
	if endpoint == "" {
		s.skip(StepAutodiscoverWSSecurity, "Autodiscover was not found")
		s.skip(StepEWSWSSecurity, "Autodiscover was not found")
	} else {
		c.probe(ctx, s, StepAutodiscoverWSSecurity, endpoint+"/WSSecurity")
		ews := ewsBeside(endpoint)
		if hasRel && rel.TargetSharingEPR != "" {
			ews = rel.TargetSharingEPR
		}
		if !sameHost(ews, endpoint) {
			c.checkTLS(ctx, s, "EWS", ews)
		}
		c.probe(ctx, s, StepEWSWSSecurity, partner.WSSecurityURL(ews))
	}

	// Our relationship with a partner's domain.
	switch {
	case isOurs:
		s.skip(StepOrgRelationship, domain+" is ours: each partner's relationship with us is checked by calfed orgrel test")
	case !hasRel:
		s.fail(StepOrgRelationship, fmt.Errorf("no organisation relationship of ours covers %s", domain),
			fmt.Sprintf("calfed orgrel new NAME -domains %s -free-busy -level %s -target-application-uri %s -target-autodiscover-epr %s",
				domain, levelOr(o.Level), appURI(info), orDefault(infoEPR(info), "URL")))
	default:
		c.levelStep(s, rel, o.Level)
	}
	return s.r
}

// gatewayStep checks the federation trust with the gateway.
func (c *Checker) gatewayStep(ctx context.Context, s *steps, domain string, isOurs bool, ours orgrel.Trust, info *autodiscover.FederationInfo) {
	issuer := ours.TokenIssuerURI
	if issuer == "" {
		s.fail(StepGateway, errors.New("we have no federation trust to compare the domain's with"), "set up our federation trust first (calfed trust new)")
		return
	}
	if info == nil {
		s.skip(StepGateway, "Autodiscover was not found")
		return
	}
	if !slices.Contains(info.TokenIssuerURIs, issuer) {
		s.fail(StepGateway, fmt.Errorf("%s trusts token issuers %s, not ours (%s)", domain, orDefault(strings.Join(info.TokenIssuerURIs, ", "), "none"), issuer),
			"the organisation's federation trust must be with the same gateway as ours (New-FederationTrust; calfed trust new -metadata with its metadata)")
		return
	}
	if !isOurs {
		s.pass(StepGateway, "token issuer "+issuer+", ApplicationUri "+info.TargetApplicationURI)
		return
	}
	reg, err := c.Trust.Registration(ctx)
	state := ""
	if err == nil {
		state = reg.Domain(domain)
	}
	switch {
	case errors.Is(err, store.ErrNotFound):
		s.fail(StepGateway, errors.New("we are not registered with the gateway"), "calfed trust register")
	case err != nil:
		s.fail(StepGateway, fmt.Errorf("our registration with the gateway: %w", err), "check that the store is reachable (calfed trust show)")
	case state != "Active":
		s.fail(StepGateway, fmt.Errorf("%s is %s at the gateway %s", domain, orDefault(state, "not registered"), reg.Gateway),
			"calfed trust register (again, once the domain's proof is published: calfed domain proof "+domain+")")
	default:
		s.pass(StepGateway, fmt.Sprintf("token issuer %s; %s Active at %s", issuer, domain, reg.Gateway))
	}
}

// proofStep checks the domain's TXT proof: ours against our certificate,
// a partner's as published and as last tied to its certificate.
func (c *Checker) proofStep(ctx context.Context, s *steps, domain string, isOurs bool) {
	if isOurs {
		chk, err := c.Trust.VerifyDomain(ctx, domain)
		switch {
		case err != nil:
			s.fail(StepProof, err, "check that the store and our keys are readable (calfed trust certificate show)")
		case chk.Status != dnsproof.Pass:
			s.fail(StepProof, fmt.Errorf("%s: %s: %v", domain, chk.Status, chk.Err), "publish the TXT record calfed domain proof "+domain+" prints")
		default:
			s.pass(StepProof, fmt.Sprintf("%s: proofs of our %s certificate published%s", domain, strings.Join(chk.Matched, ", "), prefixed("; ", chk.Warning)))
		}
		return
	}
	res := c.Trust.Published(ctx, domain)
	switch res.Status {
	case dnsproof.Fail: // proof-shaped records, as expected without a certificate
	case dnsproof.None:
		s.fail(StepProof, fmt.Errorf("%s publishes no domain proof: no TXT record shaped as Get-FederatedDomainProof's", domain),
			"the partner publishes, as a TXT record on "+domain+", the proof Get-FederatedDomainProof -DomainName "+domain+" prints (calfed: calfed domain proof "+domain+")")
		return
	default:
		s.fail(StepProof, fmt.Errorf("%s: %s: %v", domain, res.Status, res.Err), "the domain's DNS must answer TXT queries; try again if the error is temporary")
		return
	}
	detail := fmt.Sprintf("%d proof records published", res.Found)
	if checks, err := c.Records.DomainChecks(ctx); err == nil {
		for _, chk := range checks {
			if chk.Kind == orgrel.DomainPartner && chk.Domain == domain {
				detail += fmt.Sprintf("; %s against the partner's certificate on %s", chk.Status, chk.Checked.UTC().Format("2006-01-02"))
				if chk.Status != string(dnsproof.Pass) {
					s.fail(StepProof, fmt.Errorf("%s: the published proof does not fit the partner's certificate (%s: %s, checked %s)", domain, chk.Status, chk.Detail, chk.Checked.UTC().Format("2006-01-02")),
						"the partner publishes the proof of its current certificate; check again with calfed orgrel verify "+quote(chk.Relationship)+" -cert FILE -signature "+domain+"=BASE64")
					return
				}
			}
		}
	}
	s.pass(StepProof, detail)
}

// levelStep checks our relationship's free/busy level.
func (c *Checker) levelStep(s *steps, rel orgrel.Relationship, want orgrel.Level) {
	set := "calfed orgrel set " + quote(rel.Name)
	switch {
	case !rel.Enabled:
		s.fail(StepOrgRelationship, fmt.Errorf("our relationship %s is disabled", rel.Name), "calfed orgrel enable "+quote(rel.Name))
	case !rel.FreeBusyAccessEnabled:
		s.fail(StepOrgRelationship, fmt.Errorf("our relationship %s does not share free/busy", rel.Name), set+" -free-busy")
	case want != orgrel.None && rel.FreeBusyAccessLevel != want:
		s.fail(StepOrgRelationship, fmt.Errorf("our relationship %s grants %s, not %s", rel.Name, rel.FreeBusyAccessLevel, want), set+" -level "+want.String())
	case rel.FreeBusyAccessLevel == orgrel.None:
		s.fail(StepOrgRelationship, fmt.Errorf("our relationship %s grants no free/busy (level None)", rel.Name), set+" -level AvailabilityOnly")
	default:
		s.pass(StepOrgRelationship, fmt.Sprintf("%s: %s%s", rel.Name, rel.FreeBusyAccessLevel, prefixed(", scope ", rel.FreeBusyAccessScope)))
	}
}

// relationshipFor is our relationship covering domain.
func (c *Checker) relationshipFor(ctx context.Context, domain string) (orgrel.Relationship, bool) {
	rels, err := c.Records.Relationships(ctx)
	if err != nil {
		return orgrel.Relationship{}, false
	}
	for _, r := range rels {
		if slices.Contains(r.Domains, domain) {
			return r, true
		}
	}
	return orgrel.Relationship{}, false
}

// ewsBeside is the EWS URL on the Autodiscover endpoint's host, where
// Exchange publishes both.
func ewsBeside(endpoint string) string {
	u, err := url.Parse(endpoint)
	if err != nil {
		return endpoint
	}
	u.Path, u.RawQuery = "/EWS/Exchange.asmx", ""
	return u.String()
}

func levelOr(l orgrel.Level) string {
	if l == orgrel.None {
		return orgrel.AvailabilityOnly.String()
	}
	return l.String()
}

func appURI(info *autodiscover.FederationInfo) string {
	if info == nil {
		return "URI"
	}
	return info.TargetApplicationURI
}

func infoEPR(info *autodiscover.FederationInfo) string {
	if info == nil {
		return ""
	}
	return info.TargetAutodiscoverEPR
}

func prefixed(prefix, s string) string {
	if s == "" {
		return ""
	}
	return prefix + s
}
