package main

import (
	"context"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/calfed/calfed/certs"
	"github.com/calfed/calfed/config"
	"github.com/calfed/calfed/internal/cli"
	"github.com/calfed/calfed/trust"
)

func runCertNew(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	var cn string
	return certCommand(ctx, "trust certificate new", args, stdout, stderr, func(fl *flag.FlagSet) {
		fl.StringVar(&cn, "subject", "", "the certificate's common name; default Federation <account namespace>")
	}, func() (*certs.Certificate, error) {
		if cn == "" {
			cn = "Federation"
		}
		return certs.Generate(cn, time.Now())
	})
}

func runCertImport(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	var file, pwFile string
	return certCommand(ctx, "trust certificate import", args, stdout, stderr, func(fl *flag.FlagSet) {
		fl.StringVar(&file, "f", "", "PEM or PKCS#12 file (required)")
		fl.StringVar(&pwFile, "password-file", "", "file holding the PKCS#12 password")
	}, func() (*certs.Certificate, error) {
		if file == "" {
			return nil, usageError{Msg: "-f FILE is required"}
		}
		return certs.ParseFile(file, pwFile)
	})
}

// certCommand puts the certificate produce makes into a slot.
func certCommand(ctx context.Context, name string, args []string, stdout, stderr io.Writer,
	extra func(*flag.FlagSet), produce func() (*certs.Certificate, error)) int {
	var slotName string
	return localCommand(ctx, name, args, stdout, stderr, nil, func(fl *flag.FlagSet) {
		fl.StringVar(&slotName, "slot", "", "next (a rollover's, staged) or current (replaced at once); default current while there is none")
		extra(fl)
	}, func(l *config.Local, _ []string) (int, error) {
		c, err := produce()
		if err != nil {
			return 0, err
		}
		switch certs.Slot(slotName) {
		case "", certs.Next, certs.Current:
		default:
			return 0, usageError{Msg: fmt.Sprintf("-slot %q: want next or current (previous is filled by rollover)", slotName)}
		}
		slot, err := l.Trust.PutCertificate(ctx, actor(), "certificate."+name[strings.LastIndexByte(name, ' ')+1:], c, certs.Slot(slotName))
		if err != nil {
			return 0, err
		}
		fmt.Fprintf(stdout, "%s certificate %s (SKI %s), valid until %s\n", slot, c.Thumbprint(),
			base64.StdEncoding.EncodeToString(c.SKI()), c.Cert.NotAfter.Format("2006-01-02"))
		if slot == certs.Next {
			fmt.Fprintln(stdout, "Publish its domain proofs, register it with the token issuer, then: calfed trust certificate rollover")
		}
		return exitOK, nil
	})
}

func runCertRollover(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	return localCommand(ctx, "trust certificate rollover", args, stdout, stderr, nil, nil, func(l *config.Local, _ []string) (int, error) {
		cur, err := l.Trust.Rollover(ctx, actor())
		if err != nil {
			return 0, err
		}
		fmt.Fprintf(stdout, "current certificate is now %s; the previous one still decrypts tokens issued for it\n", cur.Thumbprint())
		return exitOK, nil
	})
}

func runCertShow(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	return localCommand(ctx, "trust certificate show", args, stdout, stderr, nil, nil, func(l *config.Local, _ []string) (int, error) {
		ring, err := l.Trust.Certificates(ctx)
		if err != nil {
			return 0, err
		}
		return exitOK, cli.Tabulate(stdout, func(tw io.Writer) {
			fmt.Fprintln(tw, "SLOT\tTHUMBPRINT\tSUBJECT KEY IDENTIFIER\tSUBJECT\tNOT AFTER")
			for _, s := range certs.Slots {
				c := ring.Get(s)
				if c == nil {
					fmt.Fprintf(tw, "%s\t-\t-\t-\t-\n", s)
					continue
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", s, c.Thumbprint(), base64.StdEncoding.EncodeToString(c.SKI()),
					c.Cert.Subject.CommonName, c.Cert.NotAfter.Format("2006-01-02"))
			}
		})
	})
}

func runCertExport(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	var slot string
	return localCommand(ctx, "trust certificate export", args, stdout, stderr, nil, func(fl *flag.FlagSet) {
		fl.StringVar(&slot, "slot", "current", "next, current or previous")
	}, func(l *config.Local, _ []string) (int, error) {
		ring, err := l.Trust.Certificates(ctx)
		if err != nil {
			return 0, err
		}
		c := ring.Get(certs.Slot(strings.ToLower(slot)))
		if c == nil {
			return 0, fmt.Errorf("no %s federation certificate", slot)
		}
		return exitOK, pem.Encode(stdout, &pem.Block{Type: "CERTIFICATE", Bytes: c.Cert.Raw})
	})
}

func runTrustRefresh(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	var source string
	return localCommand(ctx, "trust refresh", args, stdout, stderr, nil, func(fl *flag.FlagSet) {
		fl.StringVar(&source, "metadata", "", "the token issuer's metadata: a file, or an https:// URL; default the URL recorded last time")
	}, func(l *config.Local, _ []string) (int, error) {
		now := time.Now()
		t, m, err := l.Trust.RefreshMetadata(ctx, actor(), source)
		if errors.Is(err, trust.ErrNoMetadataURL) {
			err = usageError{Msg: "-metadata FILE|URL is required the first time"}
		}
		if err != nil {
			return 0, err
		}
		fmt.Fprintf(stdout, "token issuer %s at %s; signing certificates:\n", t.TokenIssuerURI, t.TokenIssuerEndpoint)
		for _, c := range m.Certificates() {
			fmt.Fprintf(stdout, "  %s valid until %s\n", c.Subject.CommonName, c.NotAfter.Format("2006-01-02"))
			if c.NotAfter.Before(now.Add(trust.ExpiresSoon)) {
				fmt.Fprintf(stderr, "warning: %s expires within 30 days; refresh again once the issuer publishes its next one\n", c.Subject.CommonName)
			}
		}
		return exitOK, nil
	})
}
