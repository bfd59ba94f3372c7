package main

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/calfed/calfed/config"
	"github.com/calfed/calfed/orgrel"
)

func runConfigTest(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fl := flag.NewFlagSet("config test", flag.ContinueOnError)
	fl.SetOutput(stderr)
	path := fl.String("config", "", "configuration file (required)")
	if err := fl.Parse(args); err != nil {
		return exitFailed
	}
	if *path == "" && fl.NArg() == 1 {
		*path = fl.Arg(0)
	}
	if *path == "" {
		fmt.Fprintln(stderr, "calfed config test: -config FILE is required")
		return exitFailed
	}
	cfg, err := config.Load(*path)
	if err != nil {
		fmt.Fprintf(stdout, "%v\n", err)
		return exitFailed
	}
	b, err := cfg.Validate()
	if err != nil {
		fmt.Fprintf(stdout, "%v\n", err)
		return exitFailed
	}
	for _, w := range b.Warnings {
		fmt.Fprintf(stdout, "%s: warning: %s\n", *path, w)
	}
	fmt.Fprintf(stdout, "%s: configuration is valid (%d mailboxes; store: %s %s)\n",
		*path, len(cfg.Mailboxes), cfg.StoreConfig().Driver, cfg.StoreLocation())
	return exitOK
}

func runAccountHash(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	secret, err := bufio.NewReader(os.Stdin).ReadString('\n')
	if err != nil && err != io.EOF {
		fmt.Fprintf(stderr, "calfed account hash: %v\n", err)
		return exitError
	}
	secret = strings.TrimRight(secret, "\r\n")
	if len(secret) < 12 {
		fmt.Fprintln(stderr, "calfed account hash: the secret must be at least 12 characters")
		return exitFailed
	}
	h, err := orgrel.HashSecret(secret)
	if err != nil {
		fmt.Fprintf(stderr, "calfed account hash: %v\n", err)
		return exitError
	}
	fmt.Fprintln(stdout, h)
	return exitOK
}
