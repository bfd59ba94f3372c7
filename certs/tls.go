package certs

import (
	"crypto/tls"
	"fmt"
	"os"
	"sync"
	"time"
)

// FileTLS serves a certificate and key from files, reloading them when
// either file changes (checked at most once a second), so a renewed
// certificate takes effect without a restart. A reload that fails keeps
// the certificate in use and reports the error to OnError.
type FileTLS struct {
	CertFile, KeyFile string
	OnError           func(error)

	mu      sync.Mutex
	cert    *tls.Certificate
	stamp   string
	failed  string // the stamp of files that did not load, reported once
	checked time.Time
}

func (f *FileTLS) fileStamp() (string, error) {
	var s string
	for _, p := range []string{f.CertFile, f.KeyFile} {
		fi, err := os.Stat(p)
		if err != nil {
			return "", err
		}
		s += fmt.Sprintf("%d/%d;", fi.Size(), fi.ModTime().UnixNano())
	}
	return s, nil
}

// Load reads the files now.
func (f *FileTLS) Load() error {
	stamp, err := f.fileStamp()
	if err != nil {
		return err
	}
	c, err := tls.LoadX509KeyPair(f.CertFile, f.KeyFile)
	if err != nil {
		return err
	}
	f.mu.Lock()
	f.cert, f.stamp, f.checked = &c, stamp, time.Now()
	f.mu.Unlock()
	return nil
}

// GetCertificate is for tls.Config.
func (f *FileTLS) GetCertificate(*tls.ClientHelloInfo) (*tls.Certificate, error) {
	f.mu.Lock()
	due := time.Since(f.checked) >= time.Second
	cur, stamp := f.cert, f.stamp
	f.mu.Unlock()
	if due {
		if s, err := f.fileStamp(); err == nil && s != stamp && s != f.failedStamp() {
			if err := f.Load(); err != nil {
				f.mu.Lock()
				f.failed = s
				f.mu.Unlock()
				if f.OnError != nil {
					f.OnError(err) // once per change of the files, not per handshake
				}
			}
		}
		f.mu.Lock()
		f.checked = time.Now()
		cur = f.cert
		f.mu.Unlock()
	}
	if cur == nil {
		return nil, fmt.Errorf("certs: no TLS certificate loaded from %s", f.CertFile)
	}
	return cur, nil
}

func (f *FileTLS) failedStamp() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.failed
}

// ParseTLSVersion reads "1.0" … "1.3".
func ParseTLSVersion(s string) (uint16, error) {
	switch s {
	case "", "1.2":
		return tls.VersionTLS12, nil
	case "1.3":
		return tls.VersionTLS13, nil
	case "1.1":
		return tls.VersionTLS11, nil
	case "1.0":
		return tls.VersionTLS10, nil
	}
	return 0, fmt.Errorf("certs: TLS version %q (want 1.0, 1.1, 1.2 or 1.3)", s)
}
