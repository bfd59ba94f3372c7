package trust

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/calfed/calfed/internal/outbound"
	"github.com/calfed/calfed/orgrel"
	"github.com/calfed/calfed/store"
	"github.com/calfed/calfed/wsfed"
)

// checkURL admits https URLs, and http ones on loopback, for labs.
func checkURL(src string) error {
	u, err := url.Parse(src)
	if err != nil {
		return fmt.Errorf("%w: %v", store.ErrInvalid, err)
	}
	if u.Scheme != "https" && !(u.Scheme == "http" && (u.Hostname() == "127.0.0.1" || u.Hostname() == "localhost" || u.Hostname() == "::1")) {
		return mark(fmt.Errorf("%s: URLs must be https:// (http:// only on loopback)", src), ErrInsecureMetadataURL, store.ErrInvalid)
	}
	return nil
}

// ReadMetadata reads the token issuer's metadata from a file, or fetches
// it with hc (nil: internal/outbound's default) from an https URL (http
// only on loopback, for labs).
func ReadMetadata(ctx context.Context, hc *http.Client, src string) ([]byte, error) {
	if !strings.Contains(src, "://") {
		return os.ReadFile(src)
	}
	if err := checkURL(src); err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, src, nil)
	if err != nil {
		return nil, err
	}
	if hc == nil {
		hc = outbound.Default().HTTP(0)
	}
	resp, err := hc.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("%s: HTTP %d", src, resp.StatusCode)
	}
	return io.ReadAll(io.LimitReader(resp.Body, 1<<20))
}

func parseMetadata(data []byte, now time.Time) (*wsfed.Metadata, error) {
	m, err := wsfed.ParseMetadata(data, now)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", store.ErrInvalid, err)
	}
	return m, nil
}

// RefreshMetadata reads the token issuer's metadata from src (default:
// the URL recorded last time; ErrNoMetadataURL when there is none) and
// records what it says in the trust, audited as actor.
func (s *Service) RefreshMetadata(ctx context.Context, actor, src string) (orgrel.Trust, *wsfed.Metadata, error) {
	t, err := s.store.Trust(ctx)
	if err != nil {
		return t, nil, err
	}
	if src == "" {
		src = t.MetadataURL
	}
	if src == "" {
		return t, nil, ErrNoMetadataURL
	}
	return s.refresh(ctx, actor, t, src)
}

func (s *Service) refresh(ctx context.Context, actor string, t orgrel.Trust, src string) (orgrel.Trust, *wsfed.Metadata, error) {
	now := s.now()
	data, err := ReadMetadata(ctx, s.http, src)
	if err != nil {
		return t, nil, err
	}
	m, err := parseMetadata(data, now)
	if err != nil {
		return t, nil, err
	}
	t, err = s.applyMetadata(ctx, actor, t, src, m, now)
	return t, m, err
}

// applyMetadata records the issuer's URI, endpoint and signing
// certificates in t, and src when it is a URL to refresh from.
func (s *Service) applyMetadata(ctx context.Context, actor string, t orgrel.Trust, src string, m *wsfed.Metadata, now time.Time) (orgrel.Trust, error) {
	next := t
	next.TokenIssuerURI, next.TokenIssuerEndpoint = m.IssuerURI, m.Endpoint
	next.TokenIssuerCertificates = wsfed.EncodeCertificates(m.Certificates())
	if strings.HasPrefix(src, "https://") || strings.HasPrefix(src, "http://") {
		next.MetadataURL = src
	}
	next.MetadataRefreshed = &now
	return s.store.SetTrustAction(ctx, actor, "trust.set", next)
}

// ExpiresSoon is how close to its end a token issuer's signing certificate
// is reported as expiring.
const ExpiresSoon = 30 * 24 * time.Hour

// WatchMetadata refreshes the issuer's metadata from its recorded URL
// every interval until ctx ends, and warns before its signing
// certificates expire. Several instances may race; a version conflict
// means another did it.
func (s *Service) WatchMetadata(ctx context.Context, interval time.Duration) {
	tick := time.NewTicker(interval)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		t, err := s.store.Trust(ctx)
		if err != nil || t.MetadataURL == "" {
			continue
		}
		_, m, err := s.refresh(ctx, "calfed (scheduled metadata refresh)", t, t.MetadataURL)
		switch {
		case errors.Is(err, store.ErrConflict):
			continue
		case err != nil:
			s.log.Error("token issuer metadata not refreshed", "url", t.MetadataURL, "err", err)
			continue
		}
		for _, c := range m.Certificates() {
			if c.NotAfter.Before(s.now().Add(ExpiresSoon)) {
				s.log.Warn("a token issuer signing certificate expires soon", "subject", c.Subject.CommonName, "not_after", c.NotAfter)
			}
		}
	}
}
