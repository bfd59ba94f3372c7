package autodiscover

import (
	"bytes"
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	"github.com/calfed/calfed/internal/domainname"
	"github.com/calfed/calfed/internal/outbound"
)

// FederationInfo is what Get-FederationInformation reports. docs/protocol.md §2.2.
type FederationInfo struct {
	DomainNames           []string `json:"domain_names"`
	TargetApplicationURI  string   `json:"target_application_uri"`
	TokenIssuerURIs       []string `json:"token_issuer_uris"`
	TargetAutodiscoverEPR string   `json:"target_autodiscover_epr"`
	Warnings              []string `json:"warnings,omitempty"`
}

// WriteTable writes the information as Get-FederationInformation shows
// it, in tab-separated columns.
func (f *FederationInfo) WriteTable(w io.Writer) {
	fmt.Fprintf(w, "DomainNames\t: {%s}\nTargetApplicationUri\t: %s\nTokenIssuerUris\t: {%s}\nTargetAutodiscoverEpr\t: %s\n",
		strings.Join(f.DomainNames, ", "), f.TargetApplicationURI, strings.Join(f.TokenIssuerURIs, ", "), f.TargetAutodiscoverEPR)
}

// Errors of Discoverer.FederationInformation.
var (
	ErrNotFederated = errors.New("autodiscover: the domain is not federated")
	ErrNoEndpoint   = errors.New("autodiscover: no Autodiscover endpoint answered")
	ErrBadAnswer    = errors.New("autodiscover: the answer is not usable")
)

// Discoverer asks a domain's Autodiscover for its federation information
// the way Exchange's Get-FederationInformation does.
type Discoverer struct {
	// HTTP sends the requests; redirects are handled here, so its
	// CheckRedirect is not used. Default: internal/outbound's transport.
	HTTP *http.Client
	// URL, when set, is the SOAP Autodiscover endpoint to ask instead of
	// discovering one (labs, or a partner that told you its URL).
	URL string
	// Trace, when set, is told each step tried and its outcome.
	Trace func(step string)
}

func (d *Discoverer) trace(format string, args ...any) {
	if d.Trace != nil {
		d.Trace(fmt.Sprintf(format, args...))
	}
}

func (d *Discoverer) client() *http.Client {
	c := &http.Client{Transport: outbound.Default().HTTP(0).Transport, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	if d.HTTP != nil {
		c.Transport = d.HTTP.Transport
		c.Timeout = d.HTTP.Timeout
	}
	return c
}

// FederationInformation discovers domain's endpoint (docs/protocol.md §2.2: https
// autodiscover.<domain>, https <domain>, then the plain-HTTP 302 probe of
// both), asks it, checks the answer as Exchange's client does, and
// re-validates each additional domain, keeping those with the same
// ApplicationUri.
func (d *Discoverer) FederationInformation(ctx context.Context, domain string) (*FederationInfo, error) {
	domain, err := domainname.Canonical(strings.TrimSpace(domain))
	if err != nil {
		return nil, fmt.Errorf("autodiscover: %w", err)
	}
	endpoint, answer, err := d.find(ctx, domain)
	if err != nil {
		return nil, err
	}
	info, err := checkAnswer(answer, domain)
	if err != nil {
		return nil, err
	}
	info.TargetAutodiscoverEPR = endpoint + "/WSSecurity"
	if !strings.HasPrefix(endpoint, "https://") {
		info.Warnings = append(info.Warnings, "the endpoint is not HTTPS; Exchange would refuse it")
	}
	kept := []string{domain}
	for _, other := range info.DomainNames {
		if other == domain {
			continue
		}
		_, a, err := d.find(ctx, other)
		if err == nil {
			if oi, err := checkAnswer(a, other); err == nil && domainname.EqualFoldASCII(oi.TargetApplicationURI, info.TargetApplicationURI) {
				kept = append(kept, other)
				continue
			}
		}
		info.Warnings = append(info.Warnings, fmt.Sprintf("%s dropped: it does not answer with the same ApplicationUri", other))
	}
	info.DomainNames = kept
	return info, nil
}

type fedAnswer struct {
	ErrorCode      *string  `xml:"Body>GetFederationInformationResponseMessage>Response>ErrorCode"`
	ErrorMessage   string   `xml:"Body>GetFederationInformationResponseMessage>Response>ErrorMessage"`
	ApplicationURI *string  `xml:"Body>GetFederationInformationResponseMessage>Response>ApplicationUri"`
	Domains        []string `xml:"Body>GetFederationInformationResponseMessage>Response>Domains>Domain"`
	Issuers        []string `xml:"Body>GetFederationInformationResponseMessage>Response>TokenIssuers>TokenIssuer>Uri"`
}

// checkAnswer applies the checks of Get-FederationInformation. docs/protocol.md §2.2.
func checkAnswer(a *fedAnswer, domain string) (*FederationInfo, error) {
	if a.ErrorCode == nil {
		return nil, fmt.Errorf("%w: no ErrorCode", ErrBadAnswer)
	}
	switch code := strings.TrimSpace(*a.ErrorCode); code {
	case "NoError":
	case "InvalidDomain", "NotFederated":
		return nil, fmt.Errorf("%w: %s: %s", ErrNotFederated, code, a.ErrorMessage)
	default:
		return nil, fmt.Errorf("%w: %s: %s", ErrBadAnswer, code, a.ErrorMessage)
	}
	if a.ApplicationURI == nil || strings.TrimSpace(*a.ApplicationURI) == "" {
		return nil, fmt.Errorf("%w: no ApplicationUri", ErrBadAnswer)
	}
	app := strings.TrimSpace(*a.ApplicationURI)
	if _, err := url.Parse(app); err != nil {
		return nil, fmt.Errorf("%w: ApplicationUri %q: %v", ErrBadAnswer, app, err)
	}
	info := &FederationInfo{TargetApplicationURI: app}
	found := false
	for _, raw := range a.Domains {
		dom, err := domainname.Canonical(strings.TrimSpace(raw))
		if err != nil {
			info.Warnings = append(info.Warnings, fmt.Sprintf("the answer lists %+q, which is no domain name (%v); left out", raw, err))
			continue
		}
		info.DomainNames = append(info.DomainNames, dom)
		found = found || dom == domain
	}
	if !found {
		return nil, fmt.Errorf("%w: the answer does not list %s among its domains", ErrBadAnswer, domain)
	}
	for _, u := range a.Issuers {
		info.TokenIssuerURIs = append(info.TokenIssuerURIs, strings.TrimSpace(u))
	}
	return info, nil
}

// find returns the first endpoint in discovery order that answers.
func (d *Discoverer) find(ctx context.Context, domain string) (string, *fedAnswer, error) {
	var candidates []string
	if d.URL != "" {
		candidates = []string{d.URL}
	} else {
		candidates = []string{
			"https://autodiscover." + domain + "/autodiscover/autodiscover.svc",
			"https://" + domain + "/autodiscover/autodiscover.svc",
		}
	}
	var errs []error
	for _, c := range candidates {
		a, err := d.ask(ctx, c, domain)
		if err == nil {
			return c, a, nil
		}
		d.trace("%s: %v", c, err)
		errs = append(errs, fmt.Errorf("%s: %w", c, err))
	}
	if d.URL == "" {
		for _, host := range []string{"autodiscover." + domain, domain} {
			probe := "http://" + host + "/autodiscover/autodiscover.xml"
			target, err := d.redirectProbe(ctx, probe)
			if err != nil {
				d.trace("%s: %v", probe, err)
				errs = append(errs, fmt.Errorf("%s: %w", probe, err))
				continue
			}
			a, err := d.ask(ctx, target, domain)
			if err == nil {
				return target, a, nil
			}
			d.trace("%s: %v", target, err)
			errs = append(errs, fmt.Errorf("%s: %w", target, err))
		}
	}
	return "", nil, fmt.Errorf("%w for %s: %w", ErrNoEndpoint, domain, errors.Join(errs...))
}

// redirectProbe is the unauthenticated GET that expects a 302 to an HTTPS
// autodiscover.xml; the SOAP endpoint is that host's .svc.
func (d *Discoverer) redirectProbe(ctx context.Context, probe string) (string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, probe, nil)
	if err != nil {
		return "", err
	}
	resp, err := d.client().Do(req)
	if err != nil {
		return "", err
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusFound && resp.StatusCode != http.StatusMovedPermanently {
		return "", fmt.Errorf("HTTP %d, not a redirect", resp.StatusCode)
	}
	loc, err := resp.Location()
	if err != nil {
		return "", err
	}
	if loc.Scheme != "https" || !strings.EqualFold(loc.Path, "/autodiscover/autodiscover.xml") {
		return "", fmt.Errorf("redirect to %s is not an HTTPS Autodiscover URL", loc)
	}
	return "https://" + loc.Host + "/autodiscover/autodiscover.svc", nil
}

// ask posts GetFederationInformation to endpoint, following at most five
// HTTPS redirects.
func (d *Discoverer) ask(ctx context.Context, endpoint, domain string) (*fedAnswer, error) {
	for hops := 0; hops <= 5; hops++ {
		var b bytes.Buffer
		fmt.Fprintf(&b, `<?xml version="1.0" encoding="utf-8"?><soap:Envelope xmlns:a="http://www.w3.org/2005/08/addressing" xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Header><a:Action soap:mustUnderstand="1">%sGetFederationInformation</a:Action><a:To soap:mustUnderstand="1">`, actionPrefix)
		xml.EscapeText(&b, []byte(endpoint))
		b.WriteString(`</a:To><a:ReplyTo><a:Address>http://www.w3.org/2005/08/addressing/anonymous</a:Address></a:ReplyTo></soap:Header><soap:Body><GetFederationInformationRequestMessage xmlns="http://schemas.microsoft.com/exchange/2010/Autodiscover"><Request><Domain>`)
		xml.EscapeText(&b, []byte(domain))
		b.WriteString(`</Domain></Request></GetFederationInformationRequestMessage></soap:Body></soap:Envelope>`)
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, &b)
		if err != nil {
			return nil, err
		}
		req.Header.Set("Content-Type", "text/xml; charset=utf-8")
		req.Header.Set("SOAPAction", `"`+actionPrefix+`GetFederationInformation"`)
		resp, err := d.client().Do(req)
		if err != nil {
			return nil, err
		}
		body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
		resp.Body.Close()
		if err != nil {
			return nil, err
		}
		if resp.StatusCode == http.StatusFound || resp.StatusCode == http.StatusMovedPermanently {
			loc, err := resp.Location()
			if err != nil || loc.Scheme != "https" {
				return nil, fmt.Errorf("redirect to %v refused: only HTTPS redirects are followed", loc)
			}
			p := "/autodiscover/autodiscover.svc"
			loc.Path, loc.RawQuery = p, ""
			endpoint = loc.String()
			continue
		}
		if resp.StatusCode != http.StatusOK {
			return nil, fmt.Errorf("HTTP %d", resp.StatusCode)
		}
		var a fedAnswer
		if err := xml.Unmarshal(body, &a); err != nil {
			return nil, fmt.Errorf("%w: %v", ErrBadAnswer, err)
		}
		return &a, nil
	}
	return nil, errors.New("more than five redirects")
}
