package main

import (
	"context"
	"encoding/base64"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/calfed/calfed/certs"
	"github.com/calfed/calfed/config"
	"github.com/calfed/calfed/store"
	"github.com/calfed/calfed/trust"
)

// local is the configuration's store and the trust service over it and
// the key directory; keys are never handled through the admin API.
type local struct {
	cfg   *config.Config
	db    *store.DB
	trust *trust.Service
}

func (l *local) Close() { l.db.Close() }

// localTrust parses the flags and opens the configuration's store.
func localTrust(ctx context.Context, fl *flag.FlagSet, args []string, positional ...string) (*local, []string, error) {
	configPath := fl.String("config", envOr("CALFED_CONFIG", "calfed.yaml"), "configuration file ($CALFED_CONFIG)")
	pos, err := parseArgs(fl, args, positional...)
	if err != nil {
		return nil, nil, err
	}
	cfg, err := config.Load(*configPath)
	if err != nil {
		return nil, nil, err
	}
	if _, err := cfg.Build(); err != nil {
		return nil, nil, fmt.Errorf("%s: invalid configuration:\n%s", *configPath, indent(err.Error()))
	}
	db, err := cfg.OpenStore(ctx, slog.New(slog.DiscardHandler))
	if err != nil {
		return nil, nil, err
	}
	return &local{cfg, db, trustService(cfg, db, nil)}, pos, nil
}

// trustService is the federation trust over db, the configuration's keys
// and its resolver.
func trustService(cfg *config.Config, db *store.DB, log *slog.Logger) *trust.Service {
	return trust.NewService(trust.Config{Store: db, Keys: cfg.Keys(), Resolver: cfg.Resolver(), Logger: log})
}

func runCertNew(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	return certCommand(ctx, "trust certificate new", args, stdout, stderr, func(fl *flag.FlagSet) func() (*certs.Certificate, error) {
		cn := fl.String("subject", "", "the certificate's common name; default Federation <account namespace>")
		return func() (*certs.Certificate, error) {
			name := *cn
			if name == "" {
				name = "Federation"
			}
			return certs.Generate(name, time.Now())
		}
	})
}

func runCertImport(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	return certCommand(ctx, "trust certificate import", args, stdout, stderr, func(fl *flag.FlagSet) func() (*certs.Certificate, error) {
		file := fl.String("f", "", "PEM or PKCS#12 file (required)")
		pwFile := fl.String("password-file", "", "file holding the PKCS#12 password")
		return func() (*certs.Certificate, error) {
			if *file == "" {
				return nil, usageError{"-f FILE is required"}
			}
			data, err := os.ReadFile(*file)
			if err != nil {
				return nil, err
			}
			pw := ""
			if *pwFile != "" {
				b, err := os.ReadFile(*pwFile)
				if err != nil {
					return nil, err
				}
				pw = strings.TrimRight(string(b), "\r\n")
			}
			return certs.Parse(data, pw)
		}
	})
}

func certCommand(ctx context.Context, name string, args []string, stdout, stderr io.Writer,
	setup func(*flag.FlagSet) func() (*certs.Certificate, error)) int {
	fl := flag.NewFlagSet(name, flag.ContinueOnError)
	fl.SetOutput(stderr)
	slotName := fl.String("slot", "", "next or current; default current when empty, else next")
	produce := setup(fl)
	l, _, err := localTrust(ctx, fl, args)
	if err != nil {
		return report(stderr, name, err)
	}
	defer l.Close()
	c, err := produce()
	if err != nil {
		return report(stderr, name, err)
	}
	switch certs.Slot(*slotName) {
	case "", certs.Next, certs.Current:
	default:
		return report(stderr, name, usageError{fmt.Sprintf("-slot %q: want next or current (previous is filled by rollover)", *slotName)})
	}
	slot, err := l.trust.PutCertificate(ctx, actor(), c, certs.Slot(*slotName))
	if err != nil {
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
	l, _, err := localTrust(ctx, fl, args)
	if err != nil {
		return report(stderr, "trust certificate rollover", err)
	}
	defer l.Close()
	cur, err := l.trust.Rollover(ctx, actor())
	if err != nil {
		return report(stderr, "trust certificate rollover", err)
	}
	fmt.Fprintf(stdout, "current certificate is now %s; the previous one still decrypts tokens issued for it\n", cur.Thumbprint())
	return exitOK
}

func runCertShow(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fl := flag.NewFlagSet("trust certificate show", flag.ContinueOnError)
	fl.SetOutput(stderr)
	l, _, err := localTrust(ctx, fl, args)
	if err != nil {
		return report(stderr, "trust certificate show", err)
	}
	defer l.Close()
	ring, err := l.trust.Certificates(ctx)
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
	l, _, err := localTrust(ctx, fl, args)
	if err != nil {
		return report(stderr, "trust refresh", err)
	}
	defer l.Close()
	now := time.Now()
	t, m, err := l.trust.RefreshMetadata(ctx, actor(), *source)
	if errors.Is(err, trust.ErrNoMetadataURL) {
		err = usageError{"-metadata FILE|URL is required the first time"}
	}
	if err != nil {
		return report(stderr, "trust refresh", err)
	}
	fmt.Fprintf(stdout, "token issuer %s at %s; signing certificates:\n", t.TokenIssuerURI, t.TokenIssuerEndpoint)
	for _, c := range m.Certificates() {
		fmt.Fprintf(stdout, "  %s valid until %s\n", c.Subject.CommonName, c.NotAfter.Format("2006-01-02"))
		if c.NotAfter.Before(now.Add(trust.ExpiresSoon)) {
			fmt.Fprintf(stderr, "warning: %s expires within 30 days; refresh again once the issuer publishes its next one\n", c.Subject.CommonName)
		}
	}
	return exitOK
}
