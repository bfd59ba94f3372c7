package config

import (
	"crypto/tls"
	"log/slog"
	"path/filepath"

	"golang.org/x/crypto/acme"
	"golang.org/x/crypto/acme/autocert"

	"github.com/calfed/calfed/certs"
)

// ServerTLS builds the public listener's TLS: nil when it serves plain
// HTTP (loopback labs and the demo). Certificate files are reloaded when
// they change; ACME certificates are kept under the data directory.
func (cfg *Config) ServerTLS(log *slog.Logger) (*tls.Config, error) {
	min, err := certs.ParseTLSVersion(cfg.TLS.MinVersion)
	if err != nil {
		return nil, err
	}
	tc := &tls.Config{MinVersion: min}
	switch {
	case cfg.TLS.CertFile != "":
		f := &certs.FileTLS{CertFile: cfg.Path(cfg.TLS.CertFile), KeyFile: cfg.Path(cfg.TLS.KeyFile),
			OnError: func(err error) { log.Error("TLS certificate not reloaded; the previous one stays in use", "err", err) }}
		if err := f.Load(); err != nil {
			return nil, err
		}
		tc.GetCertificate = f.GetCertificate
	case len(cfg.TLS.ACME.Hosts) > 0:
		m := &autocert.Manager{
			Prompt:     autocert.AcceptTOS,
			HostPolicy: autocert.HostWhitelist(cfg.TLS.ACME.Hosts...),
			Cache:      autocert.DirCache(filepath.Join(cfg.DataPath(), "acme")),
			Email:      cfg.TLS.ACME.Email,
		}
		if cfg.TLS.ACME.Directory != "" {
			m.Client = &acme.Client{DirectoryURL: cfg.TLS.ACME.Directory}
		}
		if o, err := cfg.OutboundClient(); err == nil {
			if m.Client == nil {
				m.Client = &acme.Client{DirectoryURL: autocert.DefaultACMEDirectory}
			}
			m.Client.HTTPClient = o.HTTP(0)
		}
		tc.GetCertificate = m.GetCertificate
		tc.NextProtos = []string{"h2", "http/1.1", acme.ALPNProto}
	default:
		return nil, nil
	}
	if min < tls.VersionTLS12 {
		log.Warn("TLS versions below 1.2 are enabled for legacy partners", "min_version", cfg.TLS.MinVersion)
	}
	return tc, nil
}
