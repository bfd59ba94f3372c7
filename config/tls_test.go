package config

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/calfed/calfed/certs"
)

// The public listener's TLS: certificate files, TLS 1.2 at least by
// default, down to 1.0 only when configured.
func TestTLSMinimumVersion(t *testing.T) {
	dir := t.TempDir()
	c, _ := certs.Generate("mail.contoso.example", time.Now())
	key, _ := x509.MarshalPKCS8PrivateKey(c.Key)
	os.WriteFile(filepath.Join(dir, "tls.crt"), pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Cert.Raw}), 0o600)
	os.WriteFile(filepath.Join(dir, "tls.key"), pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: key}), 0o600)
	for _, tt := range []struct {
		min      string
		tls10ok  bool
		wantWarn bool
	}{{"", false, false}, {"1.0", true, true}} {
		cfg := &Config{Dir: dir}
		cfg.TLS.CertFile, cfg.TLS.KeyFile, cfg.TLS.MinVersion = "tls.crt", "tls.key", tt.min
		tc, err := cfg.ServerTLS(slog.New(slog.DiscardHandler))
		if err != nil {
			t.Fatal(err)
		}
		srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
		srv.TLS = tc
		srv.StartTLS()
		client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true, // the version is under test, not the name
			MinVersion: tls.VersionTLS10, MaxVersion: tls.VersionTLS10}}}
		_, err = client.Get(srv.URL)
		if (err == nil) != tt.tls10ok {
			t.Errorf("min_version %q: a TLS 1.0 client got err %v", tt.min, err)
		}
		srv.Close()
	}
	cfg := &Config{Dir: dir}
	cfg.TLS.MinVersion = "0.9"
	if _, err := cfg.ServerTLS(slog.New(slog.DiscardHandler)); err == nil {
		t.Error("min_version 0.9 accepted")
	}
}
