package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/calfed/calfed/config"
	"github.com/calfed/calfed/internal/cli"
	"github.com/calfed/calfed/orgrel"
)

func runConfigTest(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fl := newFlags("config test")
	var flagPath string
	configFlag(fl, &flagPath, "configuration file to check (or give it as the argument)")
	pos, err := parseVariadic(fl, args)
	if err == nil && len(pos) > 1 {
		err = usageError{Msg: "give one configuration file"}
	}
	if err == nil && len(pos) == 1 && flagPath == "" {
		flagPath = pos[0]
	}
	if err != nil {
		return report(stdout, stderr, "config test", err)
	}
	file, err := config.Find(flagPath)
	if err != nil {
		return report(stdout, stderr, "config test", err)
	}
	cfg, err := config.Load(file)
	if err != nil {
		fmt.Fprintf(stdout, "%v\n", err)
		return exitFailed
	}
	b, err := cfg.Validate()
	if err != nil {
		fmt.Fprintf(stdout, "%v\n", err)
		return exitFailed
	}
	for _, w := range append(b.Warnings, cfg.CheckCalendars(ctx, b)...) {
		fmt.Fprintf(stdout, "%s: warning: %s\n", file, w)
	}
	fmt.Fprintf(stdout, "%s: configuration is valid (%d mailboxes; store: %s %s)\n",
		file, len(cfg.Mailboxes), cfg.StoreConfig().Driver, cfg.StoreLocation())
	return exitOK
}

func runAccountHash(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if _, err := parseArgs(newFlags("account hash"), args); err != nil {
		return report(stdout, stderr, "account hash", err)
	}
	secret, err := bufio.NewReader(os.Stdin).ReadString('\n')
	if err != nil && err != io.EOF {
		fmt.Fprintf(stderr, "calfed account hash: %s\n", cli.Plain(err))
		return exitError
	}
	secret = strings.TrimRight(secret, "\r\n")
	if len(secret) < 12 {
		fmt.Fprintln(stderr, "calfed account hash: the secret must be at least 12 characters")
		return exitFailed
	}
	h, err := orgrel.HashSecret(secret)
	if err != nil {
		fmt.Fprintf(stderr, "calfed account hash: %s\n", cli.Plain(err))
		return exitError
	}
	fmt.Fprintln(stdout, h)
	return exitOK
}
