// Command calfed federates free/busy with Microsoft Exchange organisations.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"

	_ "time/tzdata" // the IANA database, for machines without one

	"github.com/calfed/calfed/internal/cli"
)

// Exit codes, as every subcommand uses them (cli.ExitRule).
const (
	exitOK     = cli.ExitOK
	exitError  = cli.ExitError
	exitFailed = cli.ExitFailed
)

type runFunc = func(ctx context.Context, args []string, stdout, stderr io.Writer) int

// commands binds each command of cli.Calfed, which holds their help, to
// the function that runs it.
var commands = map[string]runFunc{
	"serve": runServe, "config test": runConfigTest, "version": runVersion, "help": nil, "completion": nil, // run answers help; init binds completion, which runs commands

	"trust new": runTrustNew, "trust set": runTrustSet, "trust show": runTrustShow, "trust refresh": runTrustRefresh,
	"trust register": runTrustRegister, "trust test": runTrustTest,
	"trust certificate new": runCertNew, "trust certificate import": runCertImport, "trust certificate rollover": runCertRollover,
	"trust certificate show": runCertShow, "trust certificate export": runCertExport,

	"domain proof": runDomainProof, "domain add": runDomainAdd, "domain remove": runDomainRemove,
	"domain verify": runDomainVerify, "domain status": runDomainStatus,

	"orgrel new": runOrgrelNew, "orgrel set": runOrgrelSet, "orgrel list": runOrgrelList, "orgrel show": runOrgrelShow,
	"orgrel enable": runOrgrelEnable, "orgrel disable": runOrgrelDisable, "orgrel remove": runOrgrelRemove,
	"orgrel export": runOrgrelExport, "orgrel apply": runOrgrelApply, "orgrel powershell": runOrgrelPowerShell,
	"orgrel verify": runOrgrelVerify, "orgrel test": runOrgrelTest, "doctor": runDoctor,

	"mailbox share": runMailboxShare, "mailbox show": runMailboxShow,
	"account new": runAccountNew, "account rotate": runAccountRotate, "account revoke": runAccountRevoke,
	"account list": runAccountList, "account hash": runAccountHash, "audit": runAudit,
	"audit access": runAuditAccess, "audit partners": runAuditPartners,
	"calendar check": runCalendarCheck, "fedinfo": runFedinfo, "freebusy": runFreeBusy,
	"user token new": runUserTokenNew, "user token list": runUserTokenList, "user token revoke": runUserTokenRevoke,
	"sts serve": runSTSServe, "sts rollover": runSTSRollover,
	"conformance replay": runConformanceReplay, "conformance import": runConformanceImport, "conformance record": runConformanceRecord,
}

func init() { commands["completion"] = runCompletion }

// version is set at build time with -ldflags "-X main.version=…"; the
// build information Go records is printed beside it.
var version = "dev"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Stdout, os.Stderr))
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	t := &cli.Calfed
	switch {
	case len(args) == 0:
		t.WriteUsage(stderr, nil)
		return exitFailed
	case isHelp(args[0]):
		t.WriteUsage(stdout, nil)
		return exitOK
	case args[0] == "--version" || args[0] == "-version":
		return runVersion(ctx, args[1:], stdout, stderr)
	case strings.HasPrefix(args[0], "-"):
		fmt.Fprintf(stderr, "calfed: unknown option %s before a command\nRun 'calfed help' for the list of commands.\n", args[0])
		return exitFailed
	case args[0] == "help":
		if len(args) == 1 {
			t.WriteUsage(stdout, nil)
			return exitOK
		}
		return run(ctx, append(args[1:], "-h"), stdout, stderr)
	}
	if c, rest, ok := t.Lookup(args); ok {
		return commands[c.Name](ctx, rest, stdout, stderr)
	}
	// The first words of a group: calfed orgrel, calfed trust certificate -h.
	words := args
	for i, a := range args {
		if strings.HasPrefix(a, "-") {
			words = args[:i]
			break
		}
	}
	if group := t.Prefix(words); len(group) > 0 {
		if len(words) < len(args) && isHelp(args[len(words)]) {
			t.WriteUsage(stdout, group)
			return exitOK
		}
		fmt.Fprintf(stderr, "calfed %s: which one?\n\n", strings.Join(words, " "))
		t.WriteUsage(stderr, group)
		return exitFailed
	}
	fmt.Fprintf(stderr, "calfed: unknown command %q", strings.Join(words, " "))
	if s := t.Suggest(words); s != "" {
		fmt.Fprintf(stderr, "; did you mean calfed %s?", s)
	}
	fmt.Fprintln(stderr, "\nRun 'calfed help' for the list of commands.")
	return exitFailed
}

func isHelp(a string) bool { return a == "-h" || a == "-help" || a == "--help" }

func runVersion(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if _, err := parseArgs(newFlags("version"), args); err != nil {
		return report(stdout, stderr, "version", err)
	}
	fmt.Fprintln(stdout, cli.Version("calfed", version))
	return exitOK
}

func runCompletion(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	pos, err := parseArgs(newFlags("completion"), args, "bash|zsh|fish")
	if err == nil {
		t := &cli.Calfed
		err = t.Completion(stdout, pos[0], func(c cli.Command) []string {
			return t.Flags(c, func(args []string, w io.Writer) int { return run(ctx, args, w, io.Discard) })
		})
	}
	return report(stdout, stderr, "completion", err)
}
