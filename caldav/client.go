package caldav

import (
	"bytes"
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
)

// Credentials are how calfed signs in to a server: HTTP Basic with a
// user name and the password in a file, or a bearer token in a file.
// The files are read again at every sync round, so that a rotated
// secret is picked up without a restart. Neither file may be readable by
// others.
type Credentials struct {
	Username        string
	PasswordFile    string
	BearerTokenFile string
}

// ErrCredentials is wrapped by the error of a credential file that
// cannot be used.
var ErrCredentials = errors.New("caldav: credentials")

// header is the Authorization header the credentials make; empty for
// none.
func (c Credentials) header() (string, error) {
	switch {
	case c.BearerTokenFile != "":
		tok, err := readSecret(c.BearerTokenFile)
		if err != nil {
			return "", err
		}
		return "Bearer " + tok, nil
	case c.PasswordFile != "":
		pw, err := readSecret(c.PasswordFile)
		if err != nil {
			return "", err
		}
		r := http.Request{Header: http.Header{}}
		r.SetBasicAuth(c.Username, pw)
		return r.Header.Get("Authorization"), nil
	}
	return "", nil
}

// readSecret reads a one-line secret from a file private to its owner.
func readSecret(path string) (string, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return "", fmt.Errorf("%w: %v", ErrCredentials, err)
	}
	if fi.Mode().Perm()&0o077 != 0 {
		return "", fmt.Errorf("%w: %s is readable by others (mode %v); chmod 600 it", ErrCredentials, path, fi.Mode().Perm())
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("%w: %v", ErrCredentials, err)
	}
	s := strings.TrimRight(string(data), "\r\n")
	if s == "" || strings.ContainsAny(s, "\r\n") {
		return "", fmt.Errorf("%w: %s must hold the secret on one line", ErrCredentials, path)
	}
	return s, nil
}

// HTTPError is a server's answer other than the one a request expects.
type HTTPError struct {
	Method, URL string
	Status      int
	// Precondition names the DAV:error element the server gave, such as
	// valid-sync-token (RFC 6578 §3.2); empty when none.
	Precondition string
}

func (e *HTTPError) Error() string {
	s := fmt.Sprintf("caldav: %s %s: HTTP %d %s", e.Method, e.URL, e.Status, http.StatusText(e.Status))
	if e.Precondition != "" {
		s += " (" + e.Precondition + ")"
	}
	if e.Status == http.StatusUnauthorized || e.Status == http.StatusForbidden && e.Precondition == "" {
		s += "; check the server's credentials and that its account may read this calendar"
	}
	return s
}

// ErrTooLarge is wrapped when an answer exceeds MaxResponseBytes.
var ErrTooLarge = errors.New("caldav: answer too large")

// do sends one request with the server's credentials and timeout and
// decodes a 207 Multi-Status answer. Transport failures (the server not
// answering) are returned unwrapped from net/http; answers other than 207
// as *HTTPError.
func (s *Server) do(ctx context.Context, auth, method string, u *url.URL, depth, body string) (*multistatus, error) {
	ctx, cancel := context.WithTimeout(ctx, s.cfg.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, u.String(), strings.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/xml; charset=utf-8")
	if depth != "" {
		req.Header.Set("Depth", depth)
	}
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	s.requests.Add(1)
	resp, err := s.http.Do(req)
	if err != nil {
		return nil, &transportError{err}
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, s.cfg.MaxResponseBytes+1))
	if err != nil {
		return nil, &transportError{err}
	}
	if int64(len(data)) > s.cfg.MaxResponseBytes {
		return nil, fmt.Errorf("%w: %s %s sent more than %d bytes", ErrTooLarge, method, u, s.cfg.MaxResponseBytes)
	}
	if resp.StatusCode != http.StatusMultiStatus {
		he := &HTTPError{Method: method, URL: u.String(), Status: resp.StatusCode, Precondition: precondition(data)}
		if resp.StatusCode >= 500 {
			return nil, &transportError{he}
		}
		return nil, he
	}
	var ms multistatus
	if err := xml.Unmarshal(data, &ms); err != nil {
		return nil, fmt.Errorf("caldav: %s %s: the answer is not a DAV:multistatus: %v", method, u, err)
	}
	return &ms, nil
}

// transportError is a failure of the server rather than of one mailbox:
// no answer, or a 5xx. Enough of them in a row end a sync round early.
type transportError struct{ err error }

func (e *transportError) Error() string { return e.err.Error() }
func (e *transportError) Unwrap() error { return e.err }

func isTransport(err error) bool {
	var te *transportError
	return errors.As(err, &te)
}

// precondition names the first child of a DAV:error body, RFC 4918 §16.
func precondition(data []byte) string {
	var e struct {
		XMLName xml.Name `xml:"DAV: error"`
		Any     []struct {
			XMLName xml.Name
		} `xml:",any"`
	}
	if bytes.Contains(data, []byte("error")) && xml.Unmarshal(data, &e) == nil && len(e.Any) > 0 {
		return e.Any[0].XMLName.Local
	}
	return ""
}

// resolve turns an href from an answer into a URL on the server; hrefs
// elsewhere are refused, so a server cannot send calfed to another host
// with its credentials.
func resolve(base *url.URL, href string) (*url.URL, error) {
	h, err := url.Parse(strings.TrimSpace(href))
	if err != nil {
		return nil, fmt.Errorf("caldav: href %q: %v", href, err)
	}
	u := base.ResolveReference(h)
	if u.Scheme != base.Scheme || u.Host != base.Host {
		return nil, fmt.Errorf("caldav: href %q points away from %s://%s", href, base.Scheme, base.Host)
	}
	u.RawQuery, u.Fragment = "", ""
	return u, nil
}
