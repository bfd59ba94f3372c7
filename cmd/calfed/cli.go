package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/user"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/calfed/calfed/admin"
	"github.com/calfed/calfed/config"
	"github.com/calfed/calfed/orgrel"
	"github.com/calfed/calfed/store"
)

// adminFlags are the flags every administrative command takes: where the
// objects are (a local configuration's store, or a server's admin API)
// and how to print.
type adminFlags struct {
	config, server, token, output string
	local                         *config.Local // the configuration's store, without -server
}

func (a *adminFlags) register(fl *flag.FlagSet) {
	fl.StringVar(&a.config, "config", envOr("CALFED_CONFIG", "calfed.yaml"), "configuration file whose store to use ($CALFED_CONFIG)")
	fl.StringVar(&a.server, "server", os.Getenv("CALFED_ADMIN_URL"), "a calfed admin API to use instead, e.g. http://127.0.0.1:8081 ($CALFED_ADMIN_URL)")
	fl.StringVar(&a.token, "token", os.Getenv("CALFED_ADMIN_TOKEN"), "bearer token for -server ($CALFED_ADMIN_TOKEN)")
	fl.StringVar(&a.output, "o", "table", "output: table or json")
}

func envOr(env, def string) string {
	if v := os.Getenv(env); v != "" {
		return v
	}
	return def
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

// open returns the API the flags point at, and a function to release it.
func (a *adminFlags) open(ctx context.Context) (admin.API, func(), error) {
	if a.output != "table" && a.output != "json" {
		return nil, nil, usageError{fmt.Sprintf("-o %q: want table or json", a.output)}
	}
	if a.server != "" {
		if a.token == "" {
			return nil, nil, usageError{"-server needs -token (or $CALFED_ADMIN_TOKEN)"}
		}
		return admin.NewClient(a.server, a.token, actor()), func() {}, nil
	}
	cfg, err := config.Load(a.config)
	if err != nil {
		return nil, nil, fmt.Errorf("%v (use -config FILE, or -server URL for a remote calfed)", err)
	}
	if a.local, err = cfg.Open(ctx); err != nil {
		return nil, nil, err
	}
	return admin.NewService(a.local.DB, a.local.Trust, a.local.Built.Mailboxes()), func() { a.local.Close() }, nil
}

type usageError struct{ msg string }

func (u usageError) Error() string { return u.msg }

// parseArgs parses flags wherever they stand among the positional
// arguments (calfed orgrel show NAME -o json), and checks how many
// positional arguments there are.
func parseArgs(fl *flag.FlagSet, args []string, positional ...string) ([]string, error) {
	var pos []string
	for {
		if err := fl.Parse(args); err != nil {
			return nil, err
		}
		args = fl.Args()
		if len(args) == 0 {
			break
		}
		pos = append(pos, args[0])
		args = args[1:]
	}
	if len(pos) != len(positional) {
		want := "no arguments"
		if len(positional) > 0 {
			want = strings.Join(positional, " ")
		}
		return nil, usageError{fmt.Sprintf("%s: want %s, got %q", fl.Name(), want, strings.Join(pos, " "))}
	}
	return pos, nil
}

// parseVariadic parses flags wherever they stand among any number of
// positional arguments, which it returns.
func parseVariadic(fl *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fl.Parse(args); err != nil {
			return nil, err
		}
		if fl.NArg() == 0 {
			return pos, nil
		}
		pos, args = append(pos, fl.Arg(0)), fl.Args()[1:]
	}
}

// report prints err and returns the exit code: 2 for a bad command line
// or invalid input, 1 for everything else.
func report(stderr io.Writer, cmd string, err error) int {
	var u usageError
	switch {
	case errors.As(err, &u), errors.Is(err, flag.ErrHelp):
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintf(stderr, "calfed %s: %v\n", cmd, err)
		}
		return exitFailed
	case errors.Is(err, store.ErrInvalid):
		fmt.Fprintf(stderr, "calfed %s: %v\n", cmd, err)
		return exitFailed
	case errors.Is(err, store.ErrConflict):
		fmt.Fprintf(stderr, "calfed %s: %v\nsomeone changed it meanwhile; look again (calfed %s show) and repeat the command\n", cmd, err, strings.Fields(cmd)[0])
		return exitError
	}
	fmt.Fprintf(stderr, "calfed %s: %v\n", cmd, err)
	return exitError
}

// fieldFlags registers an option for each field that has one. The
// function it returns sets the options given on a record, in the table's
// order; a value the field refuses is invalid input.
func fieldFlags[T any](fl *flag.FlagSet, fields []orgrel.Field[T]) func(v *T) error {
	for _, f := range fields {
		switch {
		case f.Flag == "":
		case f.Switch:
			fl.Bool(f.Flag, f.On, f.Help)
		default:
			fl.String(f.Flag, "", f.Help)
		}
	}
	return func(v *T) error {
		for _, f := range fields {
			if f.Flag == "" || !given(fl, f.Flag) {
				continue
			}
			if err := f.Set(v, fl.Lookup(f.Flag).Value.String()); err != nil {
				return fmt.Errorf("%w: -%s: %v", store.ErrInvalid, f.Flag, err)
			}
		}
		return nil
	}
}

// given reports whether the command line set the option name.
func given(fl *flag.FlagSet, name string) bool {
	set := false
	fl.Visit(func(f *flag.Flag) { set = set || f.Name == name })
	return set
}

// printFields prints a record as its fields, or as JSON.
func printFields[T any](w io.Writer, output string, fields []orgrel.Field[T], v T) error {
	return show(w, output, v, func(tw io.Writer) { fieldRows(tw, fields, v) })
}

// fieldRows writes each field of v that has a value as a label and the
// value.
func fieldRows[T any](w io.Writer, fields []orgrel.Field[T], v T) {
	for _, f := range fields {
		if s := f.Get(v); s != "" {
			fmt.Fprintf(w, "%s:\t%s\n", f.Label, s)
		}
	}
}

// show prints v as indented JSON when output is json, and otherwise what
// text writes, its tab-separated columns aligned.
func show(w io.Writer, output string, v any, text func(tw io.Writer)) error {
	if output == "json" {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(v)
	}
	tw := table(w)
	text(tw)
	return tw.Flush()
}

func printJSON(w io.Writer, v any) {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.Encode(v)
}

func table(w io.Writer) *tabwriter.Writer {
	return tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
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
func (w *applyWait) await(ctx context.Context, api admin.API, output string, stdout, stderr io.Writer) error {
	if w.d == 0 {
		return nil
	}
	a, err := api.WaitApplied(ctx, 0, w.d)
	if err != nil {
		return fmt.Errorf("the change is saved; finding out whether the servers applied it: %w", err)
	}
	if !a.Done() {
		return fmt.Errorf("%w: %s", admin.ErrNotApplied, a)
	}
	if output == "json" {
		stdout = stderr
	}
	fmt.Fprintln(stdout, a)
	return nil
}
