package main

import (
	"context"
	"encoding/base64"
	"errors"
	"flag"
	"fmt"
	"github.com/calfed/calfed/config"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/calfed/calfed/certs"
	"github.com/calfed/calfed/federation"
	"github.com/calfed/calfed/orgrel"
	"github.com/calfed/calfed/store"
)

func init() {
	for name, c := range map[string]command{
		"trust certificate new":      {"trust certificate new [-slot next|current]", "generate a federation certificate (into next, or current when empty)", runCertNew},
		"trust certificate import":   {"trust certificate import -f FILE [-password-file F] [-slot …]", "import a federation certificate from PEM or PKCS#12 (.pfx)", runCertImport},
		"trust certificate rollover": {"trust certificate rollover", "make next current and current previous, as Set-FederationTrust -PublishFederationCertificate", runCertRollover},
		"trust certificate show":     {"trust certificate show", "show the federation certificates in their slots", runCertShow},
		"trust refresh":              {"trust refresh [-metadata FILE|URL]", "read the token issuer's metadata: its URI, endpoint and signing certificates", runTrustRefresh},
	} {
		commands[name] = c
	}
}

// localTrust opens the configuration's store and key directory; keys are
// never handled through the admin API.
func localTrust(ctx context.Context, fl *flag.FlagSet, args []string, positional ...string) (*config.Config, *store.DB, []string, error) {
	configPath := fl.String("config", envOr("CALFED_CONFIG", "calfed.yaml"), "configuration file ($CALFED_CONFIG)")
	pos, err := parseArgs(fl, args, positional...)
	if err != nil {
		return nil, nil, nil, err
	}
	cfg, err := config.Load(*configPath)
	if err != nil {
		return nil, nil, nil, err
	}
	if _, err := cfg.Build(); err != nil {
		return nil, nil, nil, fmt.Errorf("%s: invalid configuration:\n%s", *configPath, indent(err.Error()))
	}
	db, err := openStore(ctx, cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		return nil, nil, nil, err
	}
	return cfg, db, pos, nil
}

// recordCurrent writes the current certificate's thumbprint into the
// trust, so the change is audited and every server reloads its keys.
func recordCurrent(ctx context.Context, db *store.DB, ring *certs.Ring) error {
	t, err := db.Trust(ctx)
	if errors.Is(err, store.ErrNotFound) {
		return nil // nothing to record into yet; calfed trust set creates it
	}
	if err != nil {
		return err
	}
	thumb := ""
	if c := ring.Get(certs.Current); c != nil {
		thumb = c.Thumbprint()
	}
	if t.CertificateThumbprint == thumb {
		return nil
	}
	t.CertificateThumbprint = thumb
	_, err = db.SetTrust(ctx, actor(), t)
	return err
}

func parseSlot(s string, ring *certs.Ring) (certs.Slot, error) {
	switch certs.Slot(s) {
	case "":
		if ring.Get(certs.Current) == nil {
			return certs.Current, nil
		}
		return certs.Next, nil
	case certs.Next, certs.Current:
		return certs.Slot(s), nil
	}
	return "", usageError{fmt.Sprintf("-slot %q: want next or current (previous is filled by rollover)", s)}
}

func runCertNew(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	return certCommand(ctx, "trust certificate new", args, stdout, stderr, func(fl *flag.FlagSet) func(*certs.Ring) (*certs.Certificate, string, error) {
		slot := fl.String("slot", "", "next or current; default current when empty, else next")
		cn := fl.String("subject", "", "the certificate's common name; default Federation <account namespace>")
		return func(ring *certs.Ring) (*certs.Certificate, string, error) {
			name := *cn
			if name == "" {
				name = "Federation"
			}
			c, err := certs.Generate(name, time.Now())
			return c, *slot, err
		}
	})
}

func runCertImport(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	return certCommand(ctx, "trust certificate import", args, stdout, stderr, func(fl *flag.FlagSet) func(*certs.Ring) (*certs.Certificate, string, error) {
		slot := fl.String("slot", "", "next or current; default current when empty, else next")
		file := fl.String("f", "", "PEM or PKCS#12 file (required)")
		pwFile := fl.String("password-file", "", "file holding the PKCS#12 password")
		return func(ring *certs.Ring) (*certs.Certificate, string, error) {
			if *file == "" {
				return nil, "", usageError{"-f FILE is required"}
			}
			data, err := os.ReadFile(*file)
			if err != nil {
				return nil, "", err
			}
			pw := ""
			if *pwFile != "" {
				b, err := os.ReadFile(*pwFile)
				if err != nil {
					return nil, "", err
				}
				pw = strings.TrimRight(string(b), "\r\n")
			}
			c, err := certs.Parse(data, pw)
			return c, *slot, err
		}
	})
}

func certCommand(ctx context.Context, name string, args []string, stdout, stderr io.Writer,
	setup func(*flag.FlagSet) func(*certs.Ring) (*certs.Certificate, string, error)) int {
	fl := flag.NewFlagSet(name, flag.ContinueOnError)
	fl.SetOutput(stderr)
	produce := setup(fl)
	cfg, db, _, err := localTrust(ctx, fl, args)
	if err != nil {
		return report(stderr, name, err)
	}
	defer db.Close()
	ring, err := certs.Load(ctx, cfg.Keys())
	if err != nil {
		return report(stderr, name, err)
	}
	c, slotName, err := produce(ring)
	if err != nil {
		return report(stderr, name, err)
	}
	slot, err := parseSlot(slotName, ring)
	if err != nil {
		return report(stderr, name, err)
	}
	if err := ring.Put(ctx, cfg.Keys(), slot, c); err != nil {
		return report(stderr, name, err)
	}
	if err := recordCurrent(ctx, db, ring); err != nil {
		return report(stderr, name, err)
	}
	fmt.Fprintf(stdout, "%s certificate %s (SKI %s), valid until %s\n", slot, c.Thumbprint(),
		base64.StdEncoding.EncodeToString(c.SKI()), c.Cert.NotAfter.Format("2006-01-02"))
	if slot == certs.Next {
		fmt.Fprintln(stdout, "Publish its domain proofs, register it with the token issuer, then: calfed trust certificate rollover")
	}
	return exitOK
}

func runCertRollover(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fl := flag.NewFlagSet("trust certificate rollover", flag.ContinueOnError)
	fl.SetOutput(stderr)
	cfg, db, _, err := localTrust(ctx, fl, args)
	if err != nil {
		return report(stderr, "trust certificate rollover", err)
	}
	defer db.Close()
	ring, err := certs.Load(ctx, cfg.Keys())
	if err == nil {
		err = ring.Rollover(ctx, cfg.Keys())
	}
	if err == nil {
		err = recordCurrent(ctx, db, ring)
	}
	if err != nil {
		return report(stderr, "trust certificate rollover", err)
	}
	fmt.Fprintf(stdout, "current certificate is now %s; the previous one still decrypts tokens issued for it\n", ring.Get(certs.Current).Thumbprint())
	return exitOK
}

func runCertShow(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fl := flag.NewFlagSet("trust certificate show", flag.ContinueOnError)
	fl.SetOutput(stderr)
	cfg, db, _, err := localTrust(ctx, fl, args)
	if err != nil {
		return report(stderr, "trust certificate show", err)
	}
	defer db.Close()
	ring, err := certs.Load(ctx, cfg.Keys())
	if err != nil {
		return report(stderr, "trust certificate show", err)
	}
	tw := table(stdout)
	fmt.Fprintln(tw, "SLOT\tTHUMBPRINT\tSUBJECT KEY IDENTIFIER\tSUBJECT\tNOT AFTER")
	for _, s := range certs.Slots {
		c := ring.Get(s)
		if c == nil {
			fmt.Fprintf(tw, "%s\t-\t-\t-\t-\n", s)
			continue
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", s, c.Thumbprint(), base64.StdEncoding.EncodeToString(c.SKI()), c.Cert.Subject.CommonName, c.Cert.NotAfter.Format("2006-01-02"))
	}
	return report0(tw.Flush())
}

func report0(err error) int {
	if err != nil {
		return exitError
	}
	return exitOK
}

func runTrustRefresh(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fl := flag.NewFlagSet("trust refresh", flag.ContinueOnError)
	fl.SetOutput(stderr)
	source := fl.String("metadata", "", "the token issuer's metadata: a file, or an https:// URL; default the URL recorded last time")
	_, db, _, err := localTrust(ctx, fl, args)
	if err != nil {
		return report(stderr, "trust refresh", err)
	}
	defer db.Close()
	t, err := db.Trust(ctx)
	if err != nil {
		return report(stderr, "trust refresh", err)
	}
	src := *source
	if src == "" {
		src = t.MetadataURL
	}
	if src == "" {
		return report(stderr, "trust refresh", usageError{"-metadata FILE|URL is required the first time"})
	}
	now := time.Now()
	t, m, err := refreshMetadata(ctx, db, t, src, actor(), now)
	if err != nil {
		return report(stderr, "trust refresh", err)
	}
	fmt.Fprintf(stdout, "token issuer %s at %s; signing certificates:\n", t.TokenIssuerURI, t.TokenIssuerEndpoint)
	for _, c := range m.Certificates() {
		fmt.Fprintf(stdout, "  %s valid until %s\n", c.Subject.CommonName, c.NotAfter.Format("2006-01-02"))
		if c.NotAfter.Before(now.AddDate(0, 0, 30)) {
			fmt.Fprintf(stderr, "warning: %s expires within 30 days; refresh again once the issuer publishes its next one\n", c.Subject.CommonName)
		}
	}
	return exitOK
}

// readMetadata reads a file, or fetches an https URL (http only on
// loopback, for labs).
func readMetadata(ctx context.Context, src string) ([]byte, error) {
	if !strings.Contains(src, "://") {
		return os.ReadFile(src)
	}
	u, err := url.Parse(src)
	if err != nil {
		return nil, err
	}
	if u.Scheme != "https" && !(u.Scheme == "http" && (u.Hostname() == "127.0.0.1" || u.Hostname() == "localhost" || u.Hostname() == "::1")) {
		return nil, usageError{"metadata URLs must be https:// (http:// only on loopback)"}
	}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, src, nil)
	if err != nil {
		return nil, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("%s: HTTP %d", src, resp.StatusCode)
	}
	return io.ReadAll(io.LimitReader(resp.Body, 1<<20))
}

// refreshMetadata reads the token issuer's metadata from src and records
// what it says in the trust (audited as actor), when anything changed.
func refreshMetadata(ctx context.Context, db *store.DB, t orgrel.Trust, src, actor string, now time.Time) (orgrel.Trust, *federation.Metadata, error) {
	data, err := readMetadata(ctx, src)
	if err != nil {
		return t, nil, err
	}
	m, err := federation.ParseMetadata(data, now)
	if err != nil {
		return t, nil, fmt.Errorf("%w: %v", store.ErrInvalid, err)
	}
	next := t
	next.TokenIssuerURI, next.TokenIssuerEndpoint = m.IssuerURI, m.Endpoint
	next.TokenIssuerCertificates = federation.EncodeCertificates(m.Certificates())
	if strings.HasPrefix(src, "https://") || strings.HasPrefix(src, "http://") {
		next.MetadataURL = src
	}
	next.MetadataRefreshed = &now
	next, err = db.SetTrust(ctx, actor, next)
	return next, m, err
}

// watchMetadata refreshes the issuer's metadata from its recorded URL
// every interval, and warns before its signing certificates expire.
// Several instances may race; a version conflict means another did it.
func watchMetadata(ctx context.Context, db *store.DB, interval time.Duration, log *slog.Logger) {
	tick := time.NewTicker(interval)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		t, err := db.Trust(ctx)
		if err != nil || t.MetadataURL == "" {
			continue
		}
		now := time.Now()
		_, m, err := refreshMetadata(ctx, db, t, t.MetadataURL, "calfed (scheduled metadata refresh)", now)
		switch {
		case errors.Is(err, store.ErrConflict):
			continue
		case err != nil:
			log.Error("token issuer metadata not refreshed", "url", t.MetadataURL, "err", err)
			continue
		}
		for _, c := range m.Certificates() {
			if c.NotAfter.Before(now.AddDate(0, 0, 30)) {
				log.Warn("a token issuer signing certificate expires soon", "subject", c.Subject.CommonName, "not_after", c.NotAfter)
			}
		}
	}
}
