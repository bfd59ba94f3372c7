package main

import (
	"bytes"
	"context"
	"encoding/pem"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/calfed/calfed/certs"
	"github.com/calfed/calfed/sts"
	"github.com/calfed/calfed/wsfed"
)

func init() {
	for name, c := range map[string]command{
		"sts serve":                {"sts serve -config sts.yaml [-listen ADDR]", "run the development token issuer (labs and tests only, never production)", runSTSServe},
		"sts rollover":             {"sts rollover -config sts.yaml", "give the development token issuer a new signing certificate, keeping the old as previous", runSTSRollover},
		"trust certificate export": {"trust certificate export [-slot current]", "print a federation certificate (no key) as PEM, for the token issuer", runCertExport},
	} {
		commands[name] = c
	}
}

// stsConfig is the development token issuer's configuration.
type stsConfig struct {
	Listen        string `yaml:"listen"`     // default 127.0.0.1:8090
	IssuerURI     string `yaml:"issuer_uri"` // default urn:federation:calfed-dev
	DataDir       string `yaml:"data_dir"`   // its signing certificates; default sts-data beside the file
	Organizations []struct {
		Name           string   `yaml:"name"`
		ApplicationURI string   `yaml:"application_uri"`
		Domains        []string `yaml:"domains"`
		Certificate    string   `yaml:"certificate"` // PEM file: the organisation's federation certificate
	} `yaml:"organizations"`
	dir string
}

func loadSTSConfig(path string) (*stsConfig, []sts.Organization, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, nil, err
	}
	var c stsConfig
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&c); err != nil {
		return nil, nil, fmt.Errorf("%s: %w", path, err)
	}
	c.dir = filepath.Dir(path)
	if c.Listen == "" {
		c.Listen = "127.0.0.1:8090"
	}
	if c.IssuerURI == "" {
		c.IssuerURI = "urn:federation:calfed-dev"
	}
	if c.DataDir == "" {
		c.DataDir = "sts-data"
	}
	if !filepath.IsAbs(c.DataDir) {
		c.DataDir = filepath.Join(c.dir, c.DataDir)
	}
	var orgs []sts.Organization
	var errs []error
	for i, o := range c.Organizations {
		p := o.Certificate
		if !filepath.IsAbs(p) {
			p = filepath.Join(c.dir, p)
		}
		pemData, err := os.ReadFile(p)
		if err != nil {
			errs = append(errs, fmt.Errorf("organizations[%d] (%s).certificate: %w", i, o.Name, err))
			continue
		}
		b, _ := pem.Decode(pemData)
		if b == nil || b.Type != "CERTIFICATE" {
			errs = append(errs, fmt.Errorf("organizations[%d] (%s).certificate: %s holds no PEM certificate", i, o.Name, p))
			continue
		}
		cs, err := wsfed.DecodeCertificates(string(pemData))
		if err != nil || len(cs) == 0 {
			errs = append(errs, fmt.Errorf("organizations[%d] (%s).certificate: %v", i, o.Name, err))
			continue
		}
		if o.ApplicationURI == "" || len(o.Domains) == 0 {
			errs = append(errs, fmt.Errorf("organizations[%d] (%s): application_uri and domains are required", i, o.Name))
			continue
		}
		orgs = append(orgs, sts.Organization{Name: o.Name, ApplicationURI: o.ApplicationURI, Domains: o.Domains, Certificate: cs[0]})
	}
	if len(errs) > 0 {
		return nil, nil, errors.Join(errs...)
	}
	return &c, orgs, nil
}

// stsSigners loads the issuer's signing certificates, making the first.
func stsSigners(ctx context.Context, dir certs.Dir) (*certs.Certificate, *certs.Certificate, error) {
	ring, err := certs.Load(ctx, dir)
	if err != nil {
		return nil, nil, err
	}
	if ring.Get(certs.Current) == nil {
		c, err := certs.Generate("calfed development token issuer", time.Now())
		if err != nil {
			return nil, nil, err
		}
		if err := ring.Put(ctx, dir, certs.Current, c); err != nil {
			return nil, nil, err
		}
	}
	return ring.Get(certs.Current), ring.Get(certs.Previous), nil
}

func runSTSServe(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fl := flag.NewFlagSet("sts serve", flag.ContinueOnError)
	fl.SetOutput(stderr)
	config := fl.String("config", "sts.yaml", "the issuer's configuration")
	listen := fl.String("listen", "", "listen address, overriding the configuration")
	if _, err := parseArgs(fl, args); err != nil {
		return report(stderr, "sts serve", err)
	}
	cfg, orgs, err := loadSTSConfig(*config)
	if err != nil {
		return report(stderr, "sts serve", err)
	}
	if *listen != "" {
		cfg.Listen = *listen
	}
	log := slog.New(slog.NewTextHandler(stderr, nil))
	keys := certs.Dir(filepath.Join(cfg.DataDir, "keys"))
	cur, prev, err := stsSigners(ctx, keys)
	if err != nil {
		return report(stderr, "sts serve", err)
	}
	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		return report(stderr, "sts serve", err)
	}
	base := "http://" + ln.Addr().String()
	issuer := &sts.STS{IssuerURI: cfg.IssuerURI, Endpoint: base + "/extSTS.srf", Orgs: orgs, Logger: log}
	issuer.SetSigners(cur, prev)
	// Re-read the signing certificates on each request, so that
	// calfed sts rollover takes effect at once.
	reload := func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if c, p, err := stsSigners(r.Context(), keys); err == nil {
				issuer.SetSigners(c, p)
			}
			next.ServeHTTP(w, r)
		})
	}
	mux := http.NewServeMux()
	mux.Handle("GET /FederationMetadata/2006-12/FederationMetadata.xml", reload(issuer.Metadata()))
	mux.Handle("POST /extSTS.srf", reload(issuer))
	srv := newHTTPServer(mux, log)
	log.Warn("DEVELOPMENT token issuer: for labs and tests only, never production")
	fmt.Fprintf(stdout, "calfed development token issuer %s\n  metadata %s/FederationMetadata/2006-12/FederationMetadata.xml\n  endpoint %s/extSTS.srf\n  %d organisations\n",
		cfg.IssuerURI, base, base, len(orgs))
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return report(stderr, "sts serve", err)
	case <-ctx.Done():
	}
	shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	srv.Shutdown(shutdown)
	return exitOK
}

func runSTSRollover(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fl := flag.NewFlagSet("sts rollover", flag.ContinueOnError)
	fl.SetOutput(stderr)
	config := fl.String("config", "sts.yaml", "the issuer's configuration")
	if _, err := parseArgs(fl, args); err != nil {
		return report(stderr, "sts rollover", err)
	}
	cfg, _, err := loadSTSConfig(*config)
	if err != nil {
		return report(stderr, "sts rollover", err)
	}
	keys := certs.Dir(filepath.Join(cfg.DataDir, "keys"))
	ring, err := certs.Load(ctx, keys)
	if err == nil {
		var c *certs.Certificate
		if c, err = certs.Generate("calfed development token issuer", time.Now()); err == nil {
			if err = ring.Put(ctx, keys, certs.Next, c); err == nil {
				err = ring.Rollover(ctx, keys)
			}
		}
	}
	if err != nil {
		return report(stderr, "sts rollover", err)
	}
	fmt.Fprintf(stdout, "signing with %s now; the previous certificate stays in the metadata\n", ring.Get(certs.Current).Thumbprint())
	return exitOK
}

func runCertExport(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fl := flag.NewFlagSet("trust certificate export", flag.ContinueOnError)
	fl.SetOutput(stderr)
	slot := fl.String("slot", "current", "next, current or previous")
	l, _, err := localTrust(ctx, fl, args)
	if err != nil {
		return report(stderr, "trust certificate export", err)
	}
	l.Close()
	ring, err := l.trust.Certificates(ctx)
	if err != nil {
		return report(stderr, "trust certificate export", err)
	}
	c := ring.Get(certs.Slot(strings.ToLower(*slot)))
	if c == nil {
		return report(stderr, "trust certificate export", fmt.Errorf("no %s federation certificate", *slot))
	}
	pem.Encode(stdout, &pem.Block{Type: "CERTIFICATE", Bytes: c.Cert.Raw})
	return exitOK
}
