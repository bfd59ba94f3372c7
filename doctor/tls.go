package doctor

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
)

// Step names of the TLS checks; the endpoint's role is appended in
// parentheses, as in "TLS version (Autodiscover)".
const (
	StepTLSVersion     = "TLS version"
	StepTLSCertificate = "TLS certificate"
)

// minTLS is the lowest TLS version partners' platforms accept: TLS 1.2
// (docs/protocol.md §11).
const minTLS = tls.VersionTLS12

// checkTLS connects to the host of endpoint, accepting any TLS version
// and any certificate so as to report what the server offers, and checks
// the version negotiated and the certificate: a chain to a root this
// machine trusts (the system's, or Checker.Roots), the host's name among
// its names, valid now.
func (c *Checker) checkTLS(ctx context.Context, s *steps, role, endpoint string) {
	version, certificate := StepTLSVersion+" ("+role+")", StepTLSCertificate+" ("+role+")"
	u, err := url.Parse(endpoint)
	if err != nil || u.Scheme != "https" {
		err := fmt.Errorf("%s is not an https:// URL", endpoint)
		fix := "serve " + role + " over HTTPS: Exchange refuses plain HTTP to a partner (calfed: tls: in the configuration, and https:// in the relationship's endpoints)"
		s.fail(version, err, fix)
		s.fail(certificate, err, fix)
		return
	}
	host, port := u.Hostname(), u.Port()
	if port == "" {
		port = "443"
	}
	addr := net.JoinHostPort(host, port)
	state, err := c.handshake(ctx, endpoint, host)
	if err != nil {
		err = fmt.Errorf("TLS handshake with %s: %w", addr, err)
		fix := "make " + addr + " accept TLS 1.2 or later connections from the internet (a listener, its firewall, its certificate)"
		s.fail(version, err, fix)
		s.skip(certificate, "no TLS connection to "+addr)
		return
	}
	if state.Version < minTLS {
		s.fail(version, fmt.Errorf("%s negotiated %s; partners require TLS 1.2 or later", addr, tls.VersionName(state.Version)),
			"enable TLS 1.2 (and 1.3) on "+addr+"; calfed: tls.min_version \"1.2\", the default")
	} else {
		s.pass(version, addr+": "+tls.VersionName(state.Version)+", "+tls.CipherSuiteName(state.CipherSuite))
	}
	c.checkChain(s, certificate, host, state.PeerCertificates)
}

// handshake connects to endpoint as every other request does (through
// the outbound proxy, when Checker.HTTP has one), accepting any TLS
// version from 1.0 and any certificate, and returns what was negotiated.
func (c *Checker) handshake(ctx context.Context, endpoint, host string) (*tls.ConnectionState, error) {
	t, ok := c.client().Transport.(*http.Transport)
	if !ok || t == nil {
		t = http.DefaultTransport.(*http.Transport)
	}
	t = t.Clone()
	t.TLSClientConfig = &tls.Config{ServerName: host, MinVersion: tls.VersionTLS10, InsecureSkipVerify: true} // checked by the caller, to say what is wrong
	t.ForceAttemptHTTP2 = false
	defer t.CloseIdleConnections()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, endpoint, nil)
	if err != nil {
		return nil, err
	}
	hc := &http.Client{Transport: t, Timeout: c.client().Timeout,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := hc.Do(req)
	if err != nil {
		return nil, err
	}
	resp.Body.Close()
	if resp.TLS == nil {
		return nil, fmt.Errorf("no TLS connection state")
	}
	return resp.TLS, nil
}

// checkChain verifies the server's certificate chain for host.
func (c *Checker) checkChain(s *steps, step, host string, chain []*x509.Certificate) {
	if len(chain) == 0 {
		s.fail(step, errors.New("the server sent no certificate"), "configure a certificate for "+host)
		return
	}
	leaf := chain[0]
	opts := x509.VerifyOptions{Roots: c.Roots, Intermediates: x509.NewCertPool(), DNSName: host, CurrentTime: c.now()}
	for _, ic := range chain[1:] {
		opts.Intermediates.AddCert(ic)
	}
	if _, err := leaf.Verify(opts); err != nil {
		var host509 x509.HostnameError
		var unknown x509.UnknownAuthorityError
		var invalid x509.CertificateInvalidError
		fix := "serve a certificate from a public certification authority, with its intermediates"
		switch {
		case errors.As(err, &host509):
			fix = "serve a certificate whose subject alternative names include " + host + " (the name partners reach it by)"
		case errors.As(err, &unknown):
			fix = "serve a certificate issued by a public certification authority (not self-signed, not an internal CA), with its intermediate certificates"
		case errors.As(err, &invalid) && invalid.Reason == x509.Expired:
			fix = "renew the certificate of " + host
		}
		s.fail(step, fmt.Errorf("%s: %w", host, err), fix)
		return
	}
	names := leaf.DNSNames
	for _, ip := range leaf.IPAddresses {
		names = append(names, ip.String())
	}
	s.pass(step, fmt.Sprintf("%s, issued by %s, for %s, valid until %s", leaf.Subject.CommonName, leaf.Issuer.CommonName,
		strings.Join(names, ", "), leaf.NotAfter.UTC().Format("2006-01-02")))
}
