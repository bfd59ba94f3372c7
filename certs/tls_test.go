package certs

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	pkcs12 "software.sslmate.com/src/go-pkcs12"
)

func writePair(t *testing.T, dir string, c *Certificate, when time.Time) (string, string) {
	t.Helper()
	cp, kp := filepath.Join(dir, "tls.crt"), filepath.Join(dir, "tls.key")
	key, _ := x509.MarshalPKCS8PrivateKey(c.Key)
	os.WriteFile(cp, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Cert.Raw}), 0o600)
	os.WriteFile(kp, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: key}), 0o600)
	os.Chtimes(cp, when, when)
	os.Chtimes(kp, when, when)
	return cp, kp
}

func TestFileTLSReloads(t *testing.T) {
	dir := t.TempDir()
	first, _ := Generate("first", time.Now())
	second, _ := Generate("second", time.Now())
	cp, kp := writePair(t, dir, first, time.Now().Add(-time.Hour))
	f := &FileTLS{CertFile: cp, KeyFile: kp}
	if err := f.Load(); err != nil {
		t.Fatal(err)
	}
	got, _ := f.GetCertificate(&tls.ClientHelloInfo{})
	if leaf, _ := x509.ParseCertificate(got.Certificate[0]); leaf.Subject.CommonName != "first" {
		t.Fatalf("served %s", leaf.Subject.CommonName)
	}
	writePair(t, dir, second, time.Now())
	f.checked = time.Time{} // let the next handshake look at the files
	got, _ = f.GetCertificate(&tls.ClientHelloInfo{})
	if leaf, _ := x509.ParseCertificate(got.Certificate[0]); leaf.Subject.CommonName != "second" {
		t.Errorf("after renewal served %s", leaf.Subject.CommonName)
	}
	// A broken renewal keeps the working certificate.
	os.WriteFile(kp, []byte("garbage"), 0o600)
	os.Chtimes(kp, time.Now().Add(time.Minute), time.Now().Add(time.Minute))
	f.checked = time.Time{}
	var reported error
	f.OnError = func(err error) { reported = err }
	got, err := f.GetCertificate(&tls.ClientHelloInfo{})
	if err != nil || reported == nil {
		t.Fatalf("broken renewal: %v, reported %v", err, reported)
	}
	if leaf, _ := x509.ParseCertificate(got.Certificate[0]); leaf.Subject.CommonName != "second" {
		t.Errorf("after a broken renewal served %s", leaf.Subject.CommonName)
	}
	// The same broken files are reported once, not on every handshake.
	reports := 0
	f.OnError = func(error) { reports++ }
	for range 3 {
		f.checked = time.Time{}
		f.GetCertificate(&tls.ClientHelloInfo{})
	}
	if reports != 0 {
		t.Errorf("the same broken files were reported %d more times", reports)
	}
}

func TestParseAndRingRollover(t *testing.T) {
	c, _ := Generate("x", time.Now())
	pemData, err := c.EncodePEM()
	if err != nil {
		t.Fatal(err)
	}
	back, err := Parse(pemData, "")
	if err != nil || back.Thumbprint() != c.Thumbprint() || len(back.SKI()) != 20 {
		t.Fatalf("Parse: %v", err)
	}
	other, _ := Generate("y", time.Now())
	otherKey, _ := other.EncodePEM()
	wrong := append(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Cert.Raw}), otherKey[len(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: other.Cert.Raw})):]...)
	if _, err := Parse(wrong, ""); err == nil {
		t.Error("a key that does not belong to the certificate was accepted")
	}
	ctx := t.Context()
	st := Dir(t.TempDir())
	r, _ := Load(ctx, st)
	if err := r.Rollover(ctx, st); err != ErrNothingToRoll {
		t.Errorf("rollover with nothing next: %v", err)
	}
	r.Put(ctx, st, Current, c)
	r.Put(ctx, st, Next, other)
	if err := r.Rollover(ctx, st); err != nil {
		t.Fatal(err)
	}
	again, _ := Load(ctx, st)
	if again.Get(Current).Thumbprint() != other.Thumbprint() || again.Get(Previous).Thumbprint() != c.Thumbprint() || again.Get(Next) != nil {
		t.Errorf("after rollover: current %v previous %v next %v", again.Get(Current), again.Get(Previous), again.Get(Next))
	}
	for _, cert := range []*Certificate{c, other} {
		if _, ok := again.ForKeyIdentifier(cert.SKI()); !ok {
			t.Errorf("%s does not decrypt after rollover", cert.Cert.Subject.CommonName)
		}
	}
	fi, _ := os.Stat(filepath.Join(string(st), "federation-current.pem"))
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("key file mode %v", fi.Mode().Perm())
	}
	if _, err := st.Get(ctx, "../escape"); err == nil {
		t.Error("a storage name escaped the directory")
	}
}

// An Exchange .pfx export, in the legacy (3DES) and the modern (AES-256)
// encodings Windows produces.
func TestParsePKCS12(t *testing.T) {
	c, _ := Generate("Federation", time.Now())
	for name, enc := range map[string]*pkcs12.Encoder{"legacy": pkcs12.LegacyRC2, "modern": pkcs12.Modern2023} {
		pfx, err := enc.Encode(c.Key, c.Cert, nil, "s3cret")
		if err != nil {
			t.Fatal(err)
		}
		got, err := Parse(pfx, "s3cret")
		if err != nil || got.Thumbprint() != c.Thumbprint() {
			t.Errorf("%s: Parse = %v", name, err)
		}
		if _, err := Parse(pfx, "wrong"); err == nil {
			t.Errorf("%s: wrong password accepted", name)
		}
	}
}

func TestDirRefusesExposedSecrets(t *testing.T) {
	d := Dir(t.TempDir())
	if err := d.Put(t.Context(), "federation-current.pem", []byte("secret")); err != nil {
		t.Fatal(err)
	}
	if _, err := d.Get(t.Context(), "federation-current.pem"); err != nil {
		t.Fatalf("Get of a private entry: %v", err)
	}
	os.Chmod(filepath.Join(string(d), "federation-current.pem"), 0o644)
	if _, err := d.Get(t.Context(), "federation-current.pem"); !errors.Is(err, ErrExposed) {
		t.Errorf("Get of a world-readable key: err = %v, want ErrExposed", err)
	}
}

// ParseFile reads the password file's first line without its line end,
// as editors and echo write it.
func TestParseFile(t *testing.T) {
	dir := t.TempDir()
	c, _ := Generate("Federation", time.Now())
	pfx, err := pkcs12.Modern2023.Encode(c.Key, c.Cert, nil, "s3cret")
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(dir, "fed.pfx"), pfx, 0o600)
	os.WriteFile(filepath.Join(dir, "pw"), []byte("s3cret\r\n"), 0o600)
	if got, err := ParseFile(filepath.Join(dir, "fed.pfx"), filepath.Join(dir, "pw")); err != nil || got.Thumbprint() != c.Thumbprint() {
		t.Errorf("ParseFile(pfx, pw) = %v", err)
	}
	if _, err := ParseFile(filepath.Join(dir, "fed.pfx"), ""); err == nil {
		t.Error("ParseFile without the password succeeded")
	}
	if _, err := ParseFile(filepath.Join(dir, "fed.pfx"), filepath.Join(dir, "missing")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("ParseFile with a missing password file = %v", err)
	}
	pemData, _ := c.EncodePEM()
	os.WriteFile(filepath.Join(dir, "fed.pem"), pemData, 0o600)
	if got, err := ParseFile(filepath.Join(dir, "fed.pem"), ""); err != nil || got.Thumbprint() != c.Thumbprint() {
		t.Errorf("ParseFile(pem) = %v", err)
	}
}
