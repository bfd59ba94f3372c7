// Command calfed federates free/busy with Microsoft Exchange organisations.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sort"
	"strings"
	"syscall"

	_ "time/tzdata" // the IANA database, for machines without one
)

// Exit codes, as every subcommand uses them.
const (
	exitOK     = 0
	exitError  = 1 // the command could not do its work
	exitFailed = 2 // a check ran and failed; or the command line was wrong
)

type command struct {
	usage string
	help  string
	run   func(ctx context.Context, args []string, stdout, stderr io.Writer) int
}

var commands = map[string]command{
	"serve":        {"serve [-config FILE] [-listen ADDR]", "run the server; without -config, the embedded demo", runServe},
	"config test":  {"config test -config FILE", "check a configuration file and print every problem in it", runConfigTest},
	"account hash": {"account hash", "read a service-account secret on standard input and print its hash for the config", runAccountHash},
	"version":      {"version", "print the version", runVersion},
}

// version is set at build time with -ldflags "-X main.version=…".
var version = "dev"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Stdout, os.Stderr))
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	for n := 3; n >= 1; n-- {
		if len(args) >= n {
			if c, ok := commands[strings.Join(args[:n], " ")]; ok {
				return c.run(ctx, args[n:], stdout, stderr)
			}
		}
	}
	if len(args) > 0 && args[0] != "help" && args[0] != "-h" && args[0] != "--help" {
		fmt.Fprintf(stderr, "calfed: unknown command %q\n\n", strings.Join(args, " "))
		usage(stderr)
		return exitFailed
	}
	usage(stdout)
	return exitOK
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "calfed federates free/busy with Microsoft Exchange organisations.\n\nCommands:")
	names := make([]string, 0, len(commands))
	for n := range commands {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(w, "  calfed %-40s %s\n", commands[n].usage, commands[n].help)
	}
	fmt.Fprintln(w, "\nExit codes: 0 success, 1 error, 2 failed check or bad usage.")
}

func runVersion(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fmt.Fprintln(stdout, "calfed", version)
	return exitOK
}
