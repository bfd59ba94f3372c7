package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/user"
	"strings"
	"time"

	"github.com/calfed/calfed/admin"
	"github.com/calfed/calfed/config"
	"github.com/calfed/calfed/internal/cli"
	"github.com/calfed/calfed/internal/shellquote"
	"github.com/calfed/calfed/store"
)

// adminRun is an administrative command as it runs: where the records
// are (a configuration's store, or a server's admin API), how to print
// them, and its command line.
type adminRun struct {
	config, server, token, output string
	api                           admin.API
	local                         *config.Local // the configuration's store; nil with -server
	stdout, stderr                io.Writer
	fl                            *flag.FlagSet
	pos                           []string // the positional arguments
}

// adminCommand parses the flags every administrative command takes and
// those extra registers, and runs body with the API they select,
// reporting errors the same way for every administrative command.
func adminCommand(ctx context.Context, name string, args []string, stdout, stderr io.Writer, positional []string,
	extra func(fl *flag.FlagSet), body func(c *adminRun) error) int {
	c := &adminRun{stdout: stdout, stderr: stderr, fl: newFlags(name)}
	configFlag(c.fl, &c.config, "configuration file whose store to use")
	c.fl.StringVar(&c.server, "server", os.Getenv("CALFED_ADMIN_URL"), "a calfed admin API to use instead, e.g. http://127.0.0.1:8081 ($CALFED_ADMIN_URL)")
	c.fl.StringVar(&c.token, "token", os.Getenv("CALFED_ADMIN_TOKEN"), "bearer token for -server ($CALFED_ADMIN_TOKEN)")
	c.fl.StringVar(&c.output, "o", "table", "output: table or json")
	if extra != nil {
		extra(c.fl)
	}
	var err error
	if c.pos, err = parseArgs(c.fl, args, positional...); err != nil {
		return report(stdout, stderr, name, err)
	}
	if err := c.open(ctx); err != nil {
		return report(stdout, stderr, name, err)
	}
	if c.local != nil {
		defer c.local.Close()
	}
	if err := body(c); err != nil {
		return report(stdout, stderr, name, err)
	}
	return exitOK
}

// open opens the API the flags select.
func (c *adminRun) open(ctx context.Context) error {
	if c.output != "table" && c.output != "json" {
		return usageError{Msg: fmt.Sprintf("-o %q: want table or json", c.output)}
	}
	if c.server != "" {
		if c.token == "" {
			return usageError{Msg: "-server needs -token (or $CALFED_ADMIN_TOKEN)"}
		}
		c.api = admin.NewClient(c.server, c.token, actor())
		return nil
	}
	cfg, err := loadConfig(c.config)
	if errors.Is(err, config.ErrNoConfig) {
		return fmt.Errorf("%v; or -server URL for a remote calfed", err)
	}
	if err != nil {
		return err
	}
	if c.local, err = cfg.Open(ctx); err != nil {
		return err
	}
	c.api = admin.NewService(c.local.DB, c.local.Trust, c.local.Built.Mailboxes())
	return nil
}

// localCommand runs body on the configuration's store, parsing the flags
// extra registers and reporting errors the same way for every command
// that works on this machine's keys. body returns the exit code of a
// check that ran, or an error.
func localCommand(ctx context.Context, name string, args []string, stdout, stderr io.Writer, positional []string,
	extra func(fl *flag.FlagSet), body func(l *config.Local, pos []string) (int, error)) int {
	fl := newFlags(name)
	var configPath string
	configFlag(fl, &configPath, "configuration file")
	if extra != nil {
		extra(fl)
	}
	pos, err := parseArgs(fl, args, positional...)
	if err != nil {
		return report(stdout, stderr, name, err)
	}
	cfg, err := loadConfig(configPath)
	if err != nil {
		return report(stdout, stderr, name, err)
	}
	l, err := cfg.Open(ctx)
	if err != nil {
		return report(stdout, stderr, name, err)
	}
	defer l.Close()
	code, err := body(l, pos)
	if err != nil {
		return report(stdout, stderr, name, err)
	}
	return code
}

// actor names who runs the command, for the audit log.
func actor() string {
	name := "unknown"
	if u, err := user.Current(); err == nil {
		name = u.Username
	}
	host, _ := os.Hostname()
	return name + "@" + host
}

// usageError is a command line that cannot be run as written.
type usageError = cli.UsageError

// newFlags is a command's flag set; parseArgs and parseVariadic parse
// it, printing nothing (report prints help and errors).
func newFlags(name string) *flag.FlagSet { return flag.NewFlagSet(name, flag.ContinueOnError) }

// configFlag registers -config: the configuration file, found as
// config.Find finds it.
func configFlag(fl *flag.FlagSet, p *string, usage string) {
	fl.StringVar(p, "config", "", usage+"; default $CALFED_CONFIG, else ./calfed.yaml")
}

// loadConfig loads the configuration file the command line names, or
// $CALFED_CONFIG, or ./calfed.yaml (config.Find).
func loadConfig(path string) (*config.Config, error) {
	p, err := config.Find(path)
	if err != nil {
		return nil, err
	}
	return config.Load(p)
}

// parseArgs parses flags wherever they stand among the positional
// arguments (calfed orgrel show NAME -o json), and checks how many
// positional arguments there are; one named NAME… takes any number.
func parseArgs(fl *flag.FlagSet, args []string, positional ...string) ([]string, error) {
	pos, err := parseVariadic(fl, args)
	if err != nil || len(positional) == 1 && strings.HasSuffix(positional[0], "…") {
		return pos, err
	}
	switch {
	case len(pos) == len(positional):
	case len(pos) == 0:
		return nil, usageError{Msg: "missing " + strings.Join(positional, " ")}
	case len(positional) == 0:
		return nil, usageError{Msg: "want no arguments, got " + shellquote.Join(pos...)}
	default:
		return nil, usageError{Msg: fmt.Sprintf("want %s, got %s", strings.Join(positional, " "), shellquote.Join(pos...))}
	}
	return pos, nil
}

// parseVariadic parses flags wherever they stand among any number of
// positional arguments, which it returns.
func parseVariadic(fl *flag.FlagSet, args []string) ([]string, error) { return cli.Parse(fl, args) }

// report prints err and returns the exit code (cli.ExitRule): 0 and the
// command's help on stdout when it was asked for, 2 for a bad command
// line or invalid input, 1 for everything else.
func report(stdout, stderr io.Writer, cmd string, err error) int {
	var u usageError
	var h cli.HelpRequest
	msg := ""
	if err != nil {
		msg = cli.Plain(err)
	}
	switch {
	case err == nil:
		return exitOK
	case errors.As(err, &h):
		c, _ := cli.Calfed.Command(cmd)
		cli.Calfed.WriteHelp(stdout, c, h.Flags)
		return exitOK
	case errors.As(err, &u):
		fmt.Fprintf(stderr, "calfed %s: %s\nRun 'calfed %s -h' for its arguments and options.\n", cmd, msg, cmd)
		return exitFailed
	case errors.Is(err, store.ErrInvalid):
		fmt.Fprintf(stderr, "calfed %s: %s\n", cmd, msg)
		return exitFailed
	case errors.Is(err, store.ErrConflict):
		look := strings.Fields(cmd)[0] + " show"
		if _, ok := cli.Calfed.Command(look); !ok {
			look = strings.Fields(cmd)[0] + " list"
		}
		fmt.Fprintf(stderr, "calfed %s: %s\nsomeone changed it meanwhile; look again (calfed %s) and repeat the command\n", cmd, msg, look)
		return exitError
	}
	fmt.Fprintf(stderr, "calfed %s: %s\n", cmd, msg)
	return exitError
}

// applyWait is the -wait flag of the commands that change what partners
// may see, and what it asks for.
type applyWait struct{ d time.Duration }

func (w *applyWait) register(fl *flag.FlagSet) {
	w.d = 10 * time.Second
	fl.Var(w, "wait", "wait up to `DURATION` for every running server to apply the change, and exit 1 naming any that has not; 0 does not wait")
}

func (w *applyWait) String() string { return w.d.String() }

func (w *applyWait) Set(s string) error {
	d, err := time.ParseDuration(s)
	if err != nil || d < 0 || d > admin.MaxWait {
		return fmt.Errorf("want a duration from 0 to %v, such as 10s", admin.MaxWait)
	}
	w.d = d
	return nil
}

// await waits for every running server to put the change just made in
// force and says so on stdout (on stderr under -o json, which keeps
// stdout one JSON value). A server that has not is an error naming it.
func (w *applyWait) await(ctx context.Context, c *adminRun) error {
	if w.d == 0 {
		return nil
	}
	a, err := admin.AwaitApplied(ctx, c.api, w.d)
	if err != nil {
		return err
	}
	out := c.stdout
	if c.output == "json" {
		out = c.stderr
	}
	fmt.Fprintln(out, a)
	return nil
}
