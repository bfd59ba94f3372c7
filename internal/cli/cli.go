// Package cli is calfed's command line apart from what each command does:
// the table of commands with their arguments, descriptions and examples,
// help for the whole program, a group of commands or one command, the
// exit-code rule, shell completion generated from the table, and the
// build's version.
package cli

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/calfed/calfed/internal/suggest"
)

// Exit codes, one rule for every command.
const (
	ExitOK     = 0
	ExitError  = 1 // the command could not do its work (not found, conflict, store or network unreachable)
	ExitFailed = 2 // a check ran and failed, or the command line or a value on it is wrong
)

// ExitRule is the exit-code rule as help prints it.
const ExitRule = "Exit codes: 0 done; 1 error (not found, a conflict, unreachable); 2 a check failed, or a bad command line or value."

// Command is one command: its words, what follows them, a line saying
// what it does, its positional arguments and an example.
type Command struct {
	Name     string // the words after the program's name: "orgrel new"
	Synopsis string // what follows the words: "NAME -domains D[,D…] [options]"
	Summary  string // one line
	Args     []Arg  // positional arguments
	Example  string // one or more complete command lines
}

// Arg is a positional argument and what it is.
type Arg struct{ Name, Help string }

// Group is the first word of the command's name when there are more.
func (c Command) Group() string {
	g, _, ok := strings.Cut(c.Name, " ")
	if !ok {
		return ""
	}
	return g
}

// Table is a program's commands in the order help lists them.
type Table struct {
	Program  string // the binary's name
	About    string // one line saying what the program is
	Commands []Command
}

// Lookup finds the command named by the first words of args, the longest
// name first, and returns it with the arguments after its name.
func (t *Table) Lookup(args []string) (Command, []string, bool) {
	for n := min(3, len(args)); n >= 1; n-- {
		if c, ok := t.Command(strings.Join(args[:n], " ")); ok {
			return c, args[n:], true
		}
	}
	return Command{}, nil, false
}

// Command is the command with this name.
func (t *Table) Command(name string) (Command, bool) {
	for _, c := range t.Commands {
		if c.Name == name {
			return c, true
		}
	}
	return Command{}, false
}

// Prefix is the commands whose names start with the words given, as
// "trust certificate" names five commands.
func (t *Table) Prefix(words []string) []Command {
	p := strings.Join(words, " ") + " "
	var out []Command
	for _, c := range t.Commands {
		if strings.HasPrefix(c.Name, p) {
			out = append(out, c)
		}
	}
	return out
}

// Suggest names the command nearest to the words given, for "did you
// mean"; "" when none is near.
func (t *Table) Suggest(words []string) string {
	names := make([]string, len(t.Commands))
	for i, c := range t.Commands {
		names[i] = c.Name
	}
	for n := min(3, len(words)); n >= 1; n-- {
		if s := suggest.Closest(strings.Join(words[:n], " "), names); s != "" {
			return s
		}
	}
	return ""
}

// WriteUsage lists cmds (every command when nil) with their synopses and
// summaries, then the exit-code rule and how to get more help.
func (t *Table) WriteUsage(w io.Writer, cmds []Command) {
	if cmds == nil {
		fmt.Fprintf(w, "%s\n\nUsage: %s COMMAND [arguments] [options]\n\nCommands:\n", t.About, t.Program)
		cmds = t.Commands
	} else {
		fmt.Fprintln(w, "Commands:")
	}
	group := ""
	for i, c := range cmds {
		if g := c.Group(); i > 0 && g != group {
			fmt.Fprintln(w)
		}
		group = c.Group()
		fmt.Fprintf(w, "  %s %s\n      %s\n", t.Program, strings.TrimSpace(c.Name+" "+c.Synopsis), c.Summary)
	}
	fmt.Fprintf(w, "\nRun '%s COMMAND -h' for a command's arguments, options and an example.\n%s\n", t.Program, ExitRule)
}

// WriteHelp prints one command's help: what it does, its synopsis,
// arguments, options (fl's flags), an example and the exit-code rule.
func (t *Table) WriteHelp(w io.Writer, c Command, fl *flag.FlagSet) {
	if p, ok := w.(*probe); ok {
		p.flags = fl
		return
	}
	fmt.Fprintf(w, "%s %s: %s\n\nUsage:\n  %s %s\n", t.Program, c.Name, c.Summary, t.Program, strings.TrimSpace(c.Name+" "+c.Synopsis))
	if len(c.Args) > 0 {
		fmt.Fprintln(w, "\nArguments:")
		width := 0
		for _, a := range c.Args {
			width = max(width, len(a.Name))
		}
		for _, a := range c.Args {
			fmt.Fprintf(w, "  %-*s  %s\n", width, a.Name, a.Help)
		}
	}
	if fl != nil && hasFlags(fl) {
		fmt.Fprintln(w, "\nOptions:")
		fl.VisitAll(func(f *flag.Flag) {
			name, usage := flag.UnquoteUsage(f)
			fmt.Fprintf(w, "  -%s", f.Name)
			if name != "" {
				fmt.Fprintf(w, " %s", name)
			}
			fmt.Fprintf(w, "\n      %s", usage)
			if def := defaultOf(f); def != "" && def != "false" && def != "0" && def != "[]" {
				fmt.Fprintf(w, " (default %s)", def)
			}
			fmt.Fprintln(w)
		})
	}
	if c.Example != "" {
		fmt.Fprintln(w, "\nExample:")
		for _, l := range strings.Split(strings.TrimSpace(c.Example), "\n") {
			fmt.Fprintf(w, "  %s\n", l)
		}
	}
	fmt.Fprintf(w, "\n%s\n", ExitRule)
}

// defaultOf is a flag's default as help shows it: durations as they are
// written (168h, 5m, not 168h0m0s, 5m0s).
func defaultOf(f *flag.Flag) string {
	g, ok := f.Value.(flag.Getter)
	if !ok {
		return f.DefValue
	}
	d, ok := g.Get().(time.Duration)
	if !ok {
		return f.DefValue
	}
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}

func hasFlags(fl *flag.FlagSet) bool {
	n := 0
	fl.VisitAll(func(*flag.Flag) { n++ })
	return n > 0
}

// HelpRequest is Parse's answer to -h, -help or --help: the command's
// flags, for its help. It is flag.ErrHelp to errors.Is.
type HelpRequest struct{ Flags *flag.FlagSet }

func (HelpRequest) Error() string        { return "help requested" }
func (HelpRequest) Is(target error) bool { return target == flag.ErrHelp }

// UsageError is a command line that cannot be run as written; its
// message says what is wrong and how to write it.
type UsageError struct{ Msg string }

func (u UsageError) Error() string { return u.Msg }

// Parse parses fl's flags wherever they stand among the positional
// arguments (calfed orgrel show NAME -o json), which it returns. It
// prints nothing: asking for help is a HelpRequest, and an unknown or invalid
// flag a UsageError, so that every command reports them alike.
func Parse(fl *flag.FlagSet, args []string) ([]string, error) {
	fl.SetOutput(io.Discard)
	fl.Usage = func() {}
	var pos []string
	for {
		if err := fl.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return nil, HelpRequest{fl}
			}
			msg := err.Error()
			if name, ok := strings.CutPrefix(msg, "flag provided but not defined: -"); ok {
				msg = fmt.Sprintf("unknown option -%s", name)
				var names []string
				fl.VisitAll(func(f *flag.Flag) { names = append(names, f.Name) })
				if s := suggest.Closest(name, names); s != "" {
					msg += fmt.Sprintf("; did you mean -%s?", s)
				}
			}
			return nil, UsageError{msg}
		}
		if fl.NArg() == 0 {
			return pos, nil
		}
		pos, args = append(pos, fl.Arg(0)), fl.Args()[1:]
	}
}

// probe is a writer that WriteHelp hands its flags to instead of
// printing: how completion learns each command's options.
type probe struct {
	io.Writer
	flags *flag.FlagSet
}

// Flags asks a command for its options by running it with -h and a probe
// for its help; run is the program's dispatcher.
func (t *Table) Flags(c Command, run func(args []string, stdout io.Writer) int) []string {
	p := &probe{Writer: io.Discard}
	run(append(strings.Fields(c.Name), "-h"), p)
	if p.flags == nil {
		return nil
	}
	var out []string
	p.flags.VisitAll(func(f *flag.Flag) { out = append(out, "-"+f.Name) })
	slices.Sort(out)
	return out
}
