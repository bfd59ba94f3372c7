package doctor

import (
	"bytes"
	"context"
	"encoding/xml"
	"fmt"
	"io"
	"mime"
	"net/http"
	"regexp"
	"strings"
)

// Step names of the probes of the WS-Security endpoints.
const (
	StepEWSWSSecurity          = "EWS /WSSecurity endpoint"
	StepAutodiscoverWSSecurity = "Autodiscover /WSSecurity endpoint"
)

// interceptedFix is what to do when something in front of the server
// answers a /WSSecurity path in its place.
const interceptedFix = "something in front of the server (a reverse proxy or load balancer with pre-authentication, a web application firewall, TLS inspection) answers %s; " +
	"publish the path through to the server without pre-authentication or rewriting: the delegation token in the message is the authentication, and only the server can check it"

// probe posts a SOAP message without a delegation token to url, a
// /WSSecurity endpoint, and checks that the server itself refused it, as
// Exchange does (docs/protocol.md §4.3): EWS with a SOAP fault, HTTP 500,
// Autodiscover with HTTP 401 (either is accepted at either). An HTML page,
// a redirect, a proxy's challenge, a demand for Windows sign-in or
// anything else means the path is intercepted before it reaches the
// server.
func (c *Checker) probe(ctx context.Context, s *steps, step, url string) {
	body := `<?xml version="1.0" encoding="utf-8"?><s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body>` +
		`<GetFederationInformationRequestMessage xmlns="http://schemas.microsoft.com/exchange/2010/Autodiscover"><Request><Domain>example.com</Domain></Request></GetFederationInformationRequestMessage>` +
		`</s:Body></s:Envelope>`
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, strings.NewReader(body))
	if err != nil {
		s.fail(step, err, "correct the endpoint's URL")
		return
	}
	req.Header.Set("Content-Type", "text/xml; charset=utf-8")
	hc := *c.client()
	hc.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	resp, err := hc.Do(req)
	if err != nil {
		s.fail(step, fmt.Errorf("POST %s: %w", url, err), "make "+url+" reachable from the internet over HTTPS")
		return
	}
	data, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	if err := classify(resp, data); err != nil {
		s.fail(step, fmt.Errorf("POST %s without a token: %w", url, err), fmt.Sprintf(interceptedFix, url))
		return
	}
	s.pass(step, fmt.Sprintf("%s: the server itself refuses a message without a token (HTTP %d)", url, resp.StatusCode))
}

var titleRE = regexp.MustCompile(`(?is)<title[^>]*>(.*?)</title>`)

// classify says what is wrong with the answer to a message without a
// token; nil when it is the server's own refusal.
func classify(resp *http.Response, data []byte) error {
	ct := resp.Header.Get("Content-Type")
	media, _, _ := mime.ParseMediaType(ct)
	trimmed := bytes.ToLower(bytes.TrimSpace(data))
	switch {
	case media == "text/html" || bytes.HasPrefix(trimmed, []byte("<!doctype html")) || bytes.HasPrefix(trimmed, []byte("<html")):
		title := ""
		if m := titleRE.FindSubmatch(data); m != nil {
			title = fmt.Sprintf(" titled %q", strings.TrimSpace(string(m[1])))
		}
		return fmt.Errorf("answered an HTML page%s (HTTP %d, Content-Type %s), not a SOAP fault or a 401", title, resp.StatusCode, ct)
	case resp.StatusCode >= 300 && resp.StatusCode < 400:
		return fmt.Errorf("redirected (HTTP %d) to %s, as a sign-in page does", resp.StatusCode, resp.Header.Get("Location"))
	case resp.StatusCode == http.StatusProxyAuthRequired:
		return fmt.Errorf("a proxy asks for its own credentials (HTTP 407, %s)", resp.Header.Get("Proxy-Authenticate"))
	case resp.StatusCode == http.StatusUnauthorized && windowsAuth(resp.Header.Values("WWW-Authenticate")):
		return fmt.Errorf("asks for Windows sign-in (HTTP 401, WWW-Authenticate %s), where the path takes a delegation token", strings.Join(resp.Header.Values("WWW-Authenticate"), ", "))
	case resp.StatusCode == http.StatusUnauthorized:
		return nil
	case resp.StatusCode == http.StatusInternalServerError && isSOAPFault(data):
		return nil
	}
	return fmt.Errorf("answered HTTP %d (Content-Type %q), where the server refuses with a SOAP fault or a 401 with an empty body", resp.StatusCode, ct)
}

// windowsAuth reports whether a challenge asks for Windows integrated
// sign-in, which a /WSSecurity path never does (its virtual directory is
// anonymous; the token is checked in the message), but a proxy doing
// Kerberos constrained delegation, or integrated authentication set on
// the path by mistake, does.
func windowsAuth(challenges []string) bool {
	for _, c := range challenges {
		scheme, _, _ := strings.Cut(strings.TrimSpace(c), " ")
		if strings.EqualFold(scheme, "Negotiate") || strings.EqualFold(scheme, "NTLM") {
			return true
		}
	}
	return false
}

// isSOAPFault reports whether data is a SOAP envelope whose body is a
// fault, in either SOAP version.
func isSOAPFault(data []byte) bool {
	var env struct {
		XMLName xml.Name
		Body    struct {
			Fault *struct{} `xml:"Fault"`
		} `xml:"Body"`
	}
	if err := xml.Unmarshal(data, &env); err != nil || env.XMLName.Local != "Envelope" {
		return false
	}
	return env.Body.Fault != nil
}
