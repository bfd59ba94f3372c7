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
)

// Exit codes, as every subcommand uses them.
const (
	exitOK     = 0
	exitError  = 1 // the command could not do its work
	exitFailed = 2 // a check ran and failed; or the command line was wrong
)

// command is one entry of the command line: its words, usage, a line of
// help, and the function that runs it.
type command struct {
	name  string
	usage string
	help  string
	run   func(ctx context.Context, args []string, stdout, stderr io.Writer) int
}

// commands is every command calfed has, in the order help lists them.
var commands = []command{
	{"serve", "serve [-config FILE] [-listen ADDR]", "run the server; without -config, the embedded demo", runServe},
	{"config test", "config test -config FILE", "check a configuration file and print every problem in it", runConfigTest},
	{"version", "version", "print the version", runVersion},

	{"trust new", "trust new -account-namespace DOMAIN -metadata FILE|URL [-domains …] [-skip-proof]", "set up the federation trust in one step: a federation certificate if there is none, proofs checked, issuer metadata", runTrustNew},
	{"trust set", "trust set [options]", "set the federation trust Autodiscover announces: account namespace, domains, token issuer", runTrustSet},
	{"trust show", "trust show", "show the federation trust", runTrustShow},
	{"trust refresh", "trust refresh [-metadata FILE|URL]", "read the token issuer's metadata: its URI, endpoint and signing certificates", runTrustRefresh},
	{"trust register", "trust register [-gateway URL]", "register our certificate and domains with the federation gateway (ManageDelegation2), each with its proof", runTrustRegister},
	{"trust test", "trust test [-user ADDRESS]", "get a token for ourselves from the token issuer and validate it here, as Test-FederationTrust", runTrustTest},
	{"trust certificate new", "trust certificate new [-slot next|current]", "generate a federation certificate (into next, or current when empty)", runCertNew},
	{"trust certificate import", "trust certificate import -f FILE [-password-file F] [-slot …]", "import a federation certificate from PEM or PKCS#12 (.pfx)", runCertImport},
	{"trust certificate rollover", "trust certificate rollover", "make next current and current previous, as Set-FederationTrust -PublishFederationCertificate", runCertRollover},
	{"trust certificate show", "trust certificate show", "show the federation certificates in their slots", runCertShow},
	{"trust certificate export", "trust certificate export [-slot current]", "print a federation certificate (no key) as PEM, for the token issuer", runCertExport},

	{"domain proof", "domain proof DOMAIN [-o json]", "print the TXT records that prove DOMAIN is ours, for each federation certificate", runDomainProof},
	{"domain add", "domain add DOMAIN [-skip-proof]", "federate a domain once its proof is published", runDomainAdd},
	{"domain remove", "domain remove DOMAIN", "stop federating a domain: the gateway forgets it first, when we are registered", runDomainRemove},
	{"domain verify", "domain verify [-o json]", "check the proofs of all our federated domains now", runDomainVerify},
	{"domain status", "domain status [-o json]", "the last check of every domain proof, ours (the server re-checks them) and partners'", runDomainStatus},

	{"orgrel new", "orgrel new NAME -domains D[,D…] [options]", "create an organisation relationship (as New-OrganizationRelationship)", runOrgrelNew},
	{"orgrel set", "orgrel set NAME [options]", "change the options given, keep the others", runOrgrelSet},
	{"orgrel list", "orgrel list", "list the organisation relationships", runOrgrelList},
	{"orgrel show", "orgrel show NAME", "show one relationship with its onboarding record", runOrgrelShow},
	{"orgrel enable", "orgrel enable NAME", "enable a relationship", runOrgrelEnable},
	{"orgrel disable", "orgrel disable NAME", "disable a relationship: its partner sees nothing (de-federation)", runOrgrelDisable},
	{"orgrel remove", "orgrel remove NAME", "remove a relationship and revoke its service accounts", runOrgrelRemove},
	{"orgrel export", "orgrel export [-f FILE]", "write every relationship as YAML", runOrgrelExport},
	{"orgrel apply", "orgrel apply -f FILE [-dry-run] [-prune]", "make the relationships match a YAML file; -dry-run shows the difference", runOrgrelApply},
	{"orgrel powershell", "orgrel powershell NAME", "print what the partner's Exchange administrator runs on their side", runOrgrelPowerShell},
	{"orgrel verify", "orgrel verify NAME -cert FILE|-sts-config FILE [-signature DOMAIN=BASE64 …]", "check a partner's domain proofs against its certificate", runOrgrelVerify},

	{"mailbox share", "mailbox share ADDRESS -level LEVEL", "record a user's choice: LimitedDetails (opt in), AvailabilityOnly, or None (opt out)", runMailboxShare},
	{"mailbox show", "mailbox show ADDRESS", "show a mailbox's sharing and who set it", runMailboxShow},
	{"account new", "account new NAME -relationship REL", "issue a service account for a partner; prints its secret once", runAccountNew},
	{"account rotate", "account rotate NAME", "replace a service account's secret; prints the new one once", runAccountRotate},
	{"account revoke", "account revoke NAME", "revoke a service account for good", runAccountRevoke},
	{"account list", "account list", "list service accounts", runAccountList},
	{"account hash", "account hash", "read a service-account secret on standard input and print its hash for the config", runAccountHash},
	{"audit", "audit [-since 24h|RFC3339] [-limit N]", "show the audit log of changes", runAudit},

	{"calendar check", "calendar check FILE|DIR|ADDRESS [-o json]", "read a calendar as the server would: what was repaired or skipped, by line (a CalDAV mailbox is synced from its server now, and its calendars shown); exit 1 if anything, 2 if unreadable", runCalendarCheck},

	{"fedinfo", "fedinfo DOMAIN [-url URL]", "discover a domain's federation information as Get-FederationInformation does", runFedinfo},
	{"freebusy", "freebusy -as USER MAILBOX… [-start -end -view]", "free/busy as one of our users sees it, ours and partners' (asked as the server asks them)", runFreeBusy},
	{"user token new", "user token new ADDRESS [-label L] [-valid-for 2160h]", "issue an app password for one of our users' calendar clients (/freebusy/…); prints it once", runUserTokenNew},
	{"user token list", "user token list [ADDRESS]", "list our users' tokens, revoked ones included", runUserTokenList},
	{"user token revoke", "user token revoke ID", "revoke a user's token for good", runUserTokenRevoke},

	{"sts serve", "sts serve -config sts.yaml [-listen ADDR]", "run the development token issuer (labs and tests only, never production)", runSTSServe},
	{"sts rollover", "sts rollover -config sts.yaml", "give the development token issuer a new signing certificate, keeping the old as previous", runSTSRollover},

	{"conformance replay", "conformance replay -target URL [-user U] [-parallel N] [-o table|json] [-junit FILE] CORPUS…", "replay captured exchanges against a server and report where its answers differ in meaning; exit 2 when any does", runConformanceReplay},
	{"conformance import", "conformance import -dir DIR [-prefix P] [-fixture F] [-requester R -audience A] FILE…", "turn captures (HAR, raw HTTP request and response, XML request/response documents) into cases, secrets redacted", runConformanceImport},
	{"conformance record", "conformance record -upstream URL -dir DIR [-listen ADDR]", "a recording proxy: every exchange through it becomes a case in DIR, secrets redacted", runConformanceRecord},
}

// lookup finds the command named by the first words of args.
func lookup(args []string) (command, []string, bool) {
	for n := min(3, len(args)); n >= 1; n-- {
		name := strings.Join(args[:n], " ")
		for _, c := range commands {
			if c.name == name {
				return c, args[n:], true
			}
		}
	}
	return command{}, nil, false
}

// version is set at build time with -ldflags "-X main.version=…".
var version = "dev"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Stdout, os.Stderr))
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if c, rest, ok := lookup(args); ok {
		return c.run(ctx, rest, stdout, stderr)
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
	for _, c := range commands {
		fmt.Fprintf(w, "  calfed %-40s %s\n", c.usage, c.help)
	}
	fmt.Fprintln(w, "\nExit codes: 0 success, 1 error, 2 failed check or bad usage.")
}

func runVersion(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fmt.Fprintln(stdout, "calfed", version)
	return exitOK
}
