package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"time"

	"github.com/calfed/calfed/managedelegation"
	"github.com/calfed/calfed/server"
	"github.com/calfed/calfed/sts"
)

func runSTSServe(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fl := newFlags("sts serve")
	config := fl.String("config", "sts.yaml", "the issuer's configuration")
	listen := fl.String("listen", "", "listen address, overriding the configuration")
	if _, err := parseArgs(fl, args); err != nil {
		return report(stdout, stderr, "sts serve", err)
	}
	cfg, orgs, err := sts.LoadConfig(*config)
	if err != nil {
		return report(stdout, stderr, "sts serve", err)
	}
	if *listen != "" {
		cfg.Listen = *listen
	}
	log := slog.New(slog.NewTextHandler(stderr, nil))
	cur, prev, err := sts.Signers(ctx, cfg.Keys())
	if err != nil {
		return report(stdout, stderr, "sts serve", err)
	}
	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		return report(stdout, stderr, "sts serve", err)
	}
	base := "http://" + ln.Addr().String()
	reg, err := managedelegation.OpenRegistry(cfg.Registrations())
	if err != nil {
		return report(stdout, stderr, "sts serve", err)
	}
	issuer := &sts.STS{IssuerURI: cfg.IssuerURI, DataAlg: cfg.DataEncryption, Endpoint: base + sts.TokenPath, Orgs: orgs, Logger: log,
		Registration: &managedelegation.Server{Registry: reg, Resolver: cfg.Resolver(), Logger: log}}
	issuer.SetSigners(cur, prev)
	srv := server.NewHTTPServer(issuer.Handler(cfg.Keys()), log)
	log.Warn("DEVELOPMENT token issuer: for labs and tests only, never production")
	fmt.Fprintf(stdout, "calfed development token issuer %s\n  metadata %s%s\n  endpoint %s%s\n  registration %s%s\n  %d organisations configured, %d registered\n",
		cfg.IssuerURI, base, sts.MetadataPath, base, sts.TokenPath, base, sts.RegistrationPath, len(orgs), len(reg.Apps()))
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return report(stdout, stderr, "sts serve", err)
	case <-ctx.Done():
	}
	shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	srv.Shutdown(shutdown)
	return exitOK
}

func runSTSRollover(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fl := newFlags("sts rollover")
	config := fl.String("config", "sts.yaml", "the issuer's configuration")
	if _, err := parseArgs(fl, args); err != nil {
		return report(stdout, stderr, "sts rollover", err)
	}
	cfg, _, err := sts.LoadConfig(*config)
	if err != nil {
		return report(stdout, stderr, "sts rollover", err)
	}
	c, err := sts.Rollover(ctx, cfg.Keys())
	if err != nil {
		return report(stdout, stderr, "sts rollover", err)
	}
	fmt.Fprintf(stdout, "signing with %s now; the previous certificate stays in the metadata\n", c.Thumbprint())
	return exitOK
}
