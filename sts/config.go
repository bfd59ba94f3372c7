package sts

import (
	"bytes"
	"context"
	"encoding/pem"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/calfed/calfed/certs"
	"github.com/calfed/calfed/dnsproof"
	"github.com/calfed/calfed/internal/domainname"
	"github.com/calfed/calfed/internal/fedtoken"
	"github.com/calfed/calfed/internal/yamlcheck"
	"github.com/calfed/calfed/wsfed"
)

// Config is the development token issuer's configuration file (YAML).
type Config struct {
	Listen    string `yaml:"listen"`     // default 127.0.0.1:8090
	IssuerURI string `yaml:"issuer_uri"` // default urn:federation:calfed-dev
	DataDir   string `yaml:"data_dir"`   // its signing certificates; default sts-data beside the file
	// DataEncryption is the tokens' data encryption: tripledes-cbc
	// (default, as the gateway), aes128-cbc, aes192-cbc or aes256-cbc,
	// written as the short name or the full XML Encryption URI.
	DataEncryption string `yaml:"data_encryption"`
	// Organizations are registered from the start; others register
	// through ManageDelegation2 (calfed trust register).
	Organizations []OrgConfig `yaml:"organizations"`
	// DNS is where registration looks up domain proofs.
	DNS struct {
		Resolvers []string `yaml:"resolvers"` // host:port; default the system's
	} `yaml:"dns"`
}

// OrgConfig is one organisation the issuer issues tokens for.
type OrgConfig struct {
	Name           string   `yaml:"name"`
	ApplicationURI string   `yaml:"application_uri"`
	Domains        []string `yaml:"domains"`
	Certificate    string   `yaml:"certificate"` // PEM file: the organisation's federation certificate
}

// LoadConfig reads a configuration strictly, applies its defaults and
// reads every organisation's certificate, reporting every problem found.
func LoadConfig(path string) (*Config, []Organization, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, nil, err
	}
	var c Config
	// Every problem at once, each with its field and line.
	if _, errs := yamlcheck.Check(data, reflect.TypeFor[Config]()); len(errs) > 0 {
		return nil, nil, fmt.Errorf("%s: %w", path, yamlcheck.Under("invalid configuration", errs...))
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&c); err != nil {
		return nil, nil, fmt.Errorf("%s: %w", path, err)
	}
	dir := filepath.Dir(path)
	if c.Listen == "" {
		c.Listen = "127.0.0.1:8090"
	}
	if c.IssuerURI == "" {
		c.IssuerURI = "urn:federation:calfed-dev"
	}
	if c.DataDir == "" {
		c.DataDir = "sts-data"
	}
	if c.DataEncryption != "" && !strings.Contains(c.DataEncryption, "#") {
		c.DataEncryption = fedtoken.NSXEnc + c.DataEncryption
	}
	if _, ok := fedtoken.DataKeyLength(c.DataEncryption); c.DataEncryption != "" && !ok {
		return nil, nil, fmt.Errorf("%s: data_encryption: %q is not tripledes-cbc, aes128-cbc, aes192-cbc or aes256-cbc", path, c.DataEncryption)
	}
	if !filepath.IsAbs(c.DataDir) {
		c.DataDir = filepath.Join(dir, c.DataDir)
	}
	var orgs []Organization
	var errs []error
	for i, o := range c.Organizations {
		p := o.Certificate
		if !filepath.IsAbs(p) {
			p = filepath.Join(dir, p)
		}
		pemData, err := os.ReadFile(p)
		if err != nil {
			errs = append(errs, fmt.Errorf("organizations[%d] (%s).certificate: %w", i, o.Name, err))
			continue
		}
		if b, _ := pem.Decode(pemData); b == nil || b.Type != "CERTIFICATE" {
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
		doms := make([]string, len(o.Domains))
		for j, d := range o.Domains {
			if doms[j], err = domainname.Canonical(strings.TrimSpace(d)); err != nil {
				errs = append(errs, fmt.Errorf("organizations[%d] (%s).domains[%d]: %w", i, o.Name, j, err))
			}
		}
		orgs = append(orgs, Organization{Name: o.Name, ApplicationURI: o.ApplicationURI, Domains: doms, Certificate: cs[0]})
	}
	if len(errs) > 0 {
		return nil, nil, errors.Join(errs...)
	}
	return &c, orgs, nil
}

// Registrations is the file that keeps the applications registered
// through ManageDelegation2.
func (c *Config) Registrations() string { return filepath.Join(c.DataDir, "registrations.json") }

// Resolver looks up domain proofs for registration.
func (c *Config) Resolver() dnsproof.Resolver { return &dnsproof.DNS{Servers: c.DNS.Resolvers} }

// Keys is where the issuer's signing certificates live.
func (c *Config) Keys() certs.Dir { return certs.Dir(filepath.Join(c.DataDir, "keys")) }

const signerName = "calfed development token issuer"

// Signers loads the issuer's signing certificates, making the first when
// there is none.
func Signers(ctx context.Context, keys certs.Storage) (current, previous *certs.Certificate, err error) {
	ring, err := certs.Load(ctx, keys)
	if err != nil {
		return nil, nil, err
	}
	if ring.Get(certs.Current) == nil {
		c, err := certs.Generate(signerName, time.Now())
		if err != nil {
			return nil, nil, err
		}
		if err := ring.Put(ctx, keys, certs.Current, c); err != nil {
			return nil, nil, err
		}
	}
	return ring.Get(certs.Current), ring.Get(certs.Previous), nil
}

// Rollover signs with a new certificate from now on, keeping the old one
// as previous in the metadata; it returns the new one.
func Rollover(ctx context.Context, keys certs.Storage) (*certs.Certificate, error) {
	ring, err := certs.Load(ctx, keys)
	if err != nil {
		return nil, err
	}
	c, err := certs.Generate(signerName, time.Now())
	if err != nil {
		return nil, err
	}
	if err := ring.Put(ctx, keys, certs.Next, c); err != nil {
		return nil, err
	}
	if err := ring.Rollover(ctx, keys); err != nil {
		return nil, err
	}
	return ring.Get(certs.Current), nil
}

// Paths of the issuer's endpoints. The registration service's is matched
// without regard to case, as IIS does.
const (
	MetadataPath     = "/FederationMetadata/2006-12/FederationMetadata.xml"
	TokenPath        = "/extSTS.srf"
	RegistrationPath = "/service/managedelegation2.asmx"
)

// Handler serves the metadata and the token endpoint, reading the signing
// certificates from keys again on each request so that a rollover takes
// effect at once.
func (s *STS) Handler(keys certs.Storage) http.Handler {
	reload := func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if c, p, err := Signers(r.Context(), keys); err == nil {
				s.SetSigners(c, p)
			}
			next.ServeHTTP(w, r)
		})
	}
	mux := http.NewServeMux()
	mux.Handle("GET "+MetadataPath, reload(s.Metadata()))
	mux.Handle("POST "+TokenPath, reload(s))
	if s.Registration == nil {
		return mux
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost && strings.EqualFold(r.URL.Path, RegistrationPath) {
			s.Registration.ServeHTTP(w, r)
			return
		}
		mux.ServeHTTP(w, r)
	})
}
