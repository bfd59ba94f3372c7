package main

import (
	"bytes"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/calfed/calfed/internal/cli"
	"github.com/calfed/calfed/internal/shellquote"
	"github.com/calfed/calfed/internal/testenv"
)

// Every command of the table runs, and every function runs a command of
// the table.
func TestEveryCommandBound(t *testing.T) {
	for _, c := range cli.Calfed.Commands {
		if _, ok := commands[c.Name]; !ok {
			t.Errorf("%s is in the table but not bound to a function", c.Name)
		}
		if c.Summary == "" || c.Example == "" {
			t.Errorf("%s: want a summary and an example", c.Name)
		}
		if !strings.HasPrefix(c.Example, "calfed "+c.Name) && !strings.Contains(c.Example, "calfed "+c.Name) {
			t.Errorf("%s: example %q does not run it", c.Name, c.Example)
		}
	}
	// Every option an example or a synopsis uses is one the command has.
	option := regexp.MustCompile(`(?:^|\s|\[)(-[a-z][a-z-]*)`)
	for _, c := range cli.Calfed.Commands {
		flags := cli.Calfed.Flags(c, func(args []string, w io.Writer) int { return run(t.Context(), args, w, io.Discard) })
		uses := c.Synopsis
		for _, line := range strings.Split(c.Example, "\n") {
			if _, after, ok := strings.Cut(line, "calfed "+c.Name); ok {
				after, _, _ = strings.Cut(after, "#")
				uses += "\n" + after
			}
		}
		for _, m := range option.FindAllStringSubmatch(uses, -1) {
			if !slices.Contains(flags, m[1]) {
				t.Errorf("%s: %s in its example or synopsis is not one of its options %q", c.Name, m[1], flags)
			}
		}
	}
	for name := range commands {
		if _, ok := cli.Calfed.Command(name); !ok {
			t.Errorf("%s is bound but not in the table", name)
		}
	}
}

// -h, -help and --help print the command's help on stdout and exit 0,
// for every command, without doing its work; an unknown option exits 2
// for every command, saying where the help is.
func TestHelpAndUnknownOptionsEverywhere(t *testing.T) {
	t.Chdir(t.TempDir()) // no calfed.yaml here: nothing to open
	for _, c := range cli.Calfed.Commands {
		words := strings.Fields(c.Name)
		for _, h := range []string{"-h", "--help"} {
			var out, errb bytes.Buffer
			code := run(t.Context(), append(slices.Clone(words), h), &out, &errb)
			if code != exitOK || errb.Len() != 0 {
				t.Errorf("calfed %s %s: exit %d, stderr %q; want 0 and nothing", c.Name, h, code, errb.String())
			}
			if c.Name == "help" {
				continue
			}
			if s := out.String(); !strings.Contains(s, "Usage:\n  calfed "+c.Name) || !strings.Contains(s, c.Summary) || !strings.Contains(s, "Example:") {
				t.Errorf("calfed %s %s: help lacks usage, summary or example:\n%s", c.Name, h, s)
			}
		}
		if c.Name == "help" {
			continue
		}
		var out, errb bytes.Buffer
		code := run(t.Context(), append(slices.Clone(words), "-no-such-option"), &out, &errb)
		if code != exitFailed || !strings.Contains(errb.String(), "unknown option -no-such-option") || !strings.Contains(errb.String(), "calfed "+c.Name+" -h") {
			t.Errorf("calfed %s -no-such-option: exit %d, stderr %q; want 2 naming the option and the help", c.Name, code, errb.String())
		}
	}
}

func TestHelpForms(t *testing.T) {
	t.Chdir(t.TempDir())
	for _, tc := range []struct {
		args     []string
		code     int
		out, err string
	}{
		{[]string{"help"}, exitOK, "calfed orgrel new NAME", ""},
		{[]string{"-h"}, exitOK, "calfed trust certificate rollover", ""},
		{[]string{"help", "orgrel", "new"}, exitOK, "Usage:\n  calfed orgrel new NAME", ""},
		{[]string{"orgrel", "-h"}, exitOK, "calfed orgrel powershell NAME", ""},
		{[]string{"trust", "certificate", "--help"}, exitOK, "calfed trust certificate export", ""},
		{[]string{"help", "orgrel"}, exitOK, "calfed orgrel verify", ""},
		{[]string{"orgrel"}, exitFailed, "", "calfed orgrel: which one?"},
		{[]string{"orgrel", "frob"}, exitFailed, "", "unknown command \"orgrel frob\""},
		{[]string{"orgrl", "new"}, exitFailed, "", "did you mean calfed orgrel new?"},
		{[]string{}, exitFailed, "", "Usage: calfed COMMAND"},
		{[]string{"--version"}, exitOK, "calfed ", ""},
		{[]string{"-version"}, exitOK, "go:", ""},
		{[]string{"-x", "orgrel"}, exitFailed, "", "calfed: unknown option -x before a command"},
		{[]string{"version", "extra"}, exitFailed, "", "want no arguments"},
		{[]string{"orgrel", "show"}, exitFailed, "", "calfed orgrel show: missing NAME"},
		{[]string{"orgrel", "show", "a", "b c"}, exitFailed, "", "want NAME, got a 'b c'"},
		{[]string{"orgrel", "list", "-o"}, exitFailed, "", "flag needs an argument: -o"},
		{[]string{"orgrel", "list", "-wiat", "1s"}, exitFailed, "", "unknown option -wiat"},
		{[]string{"orgrel", "set", "X", "-wiat", "1s"}, exitFailed, "", "did you mean -wait?"},
	} {
		var out, errb bytes.Buffer
		code := run(t.Context(), tc.args, &out, &errb)
		if code != tc.code || !strings.Contains(out.String(), tc.out) || !strings.Contains(errb.String(), tc.err) {
			t.Errorf("calfed %s: exit %d, want %d\nstdout (want %q):\n%s\nstderr (want %q):\n%s", strings.Join(tc.args, " "), code, tc.code, tc.out, out.String(), tc.err, errb.String())
		}
	}
}

// account hash -h prints help and never waits for a secret on stdin.
func TestAccountHashHelpDoesNotRead(t *testing.T) {
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	stdin := os.Stdin
	os.Stdin = r
	defer func() { os.Stdin = stdin }()
	var out, errb bytes.Buffer
	if code := run(t.Context(), []string{"account", "hash", "-h"}, &out, &errb); code != exitOK || !strings.Contains(out.String(), "standard input") {
		t.Errorf("account hash -h: exit %d\n%s%s", code, out.String(), errb.String())
	}
}

// The bash completion script, loaded into a real bash, completes command
// words, a group's commands and a command's options.
func TestCompletionBash(t *testing.T) {
	bash, err := exec.LookPath("bash")
	if err != nil {
		t.Skip("no bash")
	}
	var script, errb bytes.Buffer
	if code := run(t.Context(), []string{"completion", "bash"}, &script, &errb); code != exitOK {
		t.Fatalf("completion bash: exit %d: %s", code, errb.String())
	}
	file := filepath.Join(t.TempDir(), "calfed.bash")
	os.WriteFile(file, script.Bytes(), 0o644)
	for _, tc := range []struct {
		line string
		want []string
		not  []string
	}{
		{"calfed or", []string{"orgrel"}, []string{"serve"}},
		{"calfed orgrel ", []string{"new", "set", "powershell", "verify"}, []string{"orgrel"}},
		{"calfed trust certificate r", []string{"rollover"}, []string{"new"}},
		{"calfed orgrel new X -fr", []string{"-free-busy"}, []string{"-level"}},
		{"calfed account new svc -r", []string{"-relationship"}, []string{"-o"}},
		{"calfed account rotate svc -o", []string{"-o", "-overlap"}, nil},
		{"calfed completion ", nil, []string{"orgrel"}},
	} {
		words := strings.Fields(tc.line)
		if strings.HasSuffix(tc.line, " ") {
			words = append(words, "")
		}
		quoted := make([]string, len(words))
		for i, w := range words {
			quoted[i] = "'" + w + "'"
		}
		prog := "source " + file + "\nCOMP_WORDS=(" + strings.Join(quoted, " ") + ")\nCOMP_CWORD=" + strconv.Itoa(len(words)-1) + "\n_calfed\nprintf '%s\\n' \"${COMPREPLY[@]}\"\n"
		got, err := exec.Command(bash, "--norc", "-c", prog).CombinedOutput()
		if err != nil {
			t.Fatalf("%q: %v\n%s", tc.line, err, got)
		}
		offered := strings.Fields(string(got))
		for _, w := range tc.want {
			if !slices.Contains(offered, w) {
				t.Errorf("%q: offered %q, want %q among them", tc.line, offered, w)
			}
		}
		for _, w := range tc.not {
			if slices.Contains(offered, w) {
				t.Errorf("%q: offered %q, want no %q", tc.line, offered, w)
			}
		}
	}
}

// The zsh and fish scripts, loaded into the real shells, complete a
// group's commands and a command's options.
func TestCompletionShells(t *testing.T) {
	script := func(shell string) string {
		var out, errb bytes.Buffer
		if code := run(t.Context(), []string{"completion", shell}, &out, &errb); code != exitOK {
			t.Fatalf("completion %s: exit %d: %s", shell, code, errb.String())
		}
		f := filepath.Join(t.TempDir(), "calfed."+shell)
		os.WriteFile(f, out.Bytes(), 0o644)
		return f
	}
	offered := func(t *testing.T, name string, args ...string) []string {
		t.Helper()
		path, err := exec.LookPath(name)
		if err != nil {
			testenv.Missing(t, name, "the completion script needs the shell to be tried", "apt-get install "+name)
		}
		out, err := exec.Command(path, args...).CombinedOutput()
		if err != nil {
			t.Fatalf("%s: %v\n%s", name, err, out)
		}
		return strings.Fields(string(out))
	}
	check := func(t *testing.T, line string, got, want, not []string) {
		t.Helper()
		for _, w := range want {
			if !slices.Contains(got, w) {
				t.Errorf("%q: offered %q, want %q among them", line, got, w)
			}
		}
		for _, w := range not {
			if slices.Contains(got, w) {
				t.Errorf("%q: offered %q, want no %q", line, got, w)
			}
		}
	}
	t.Run("zsh", func(t *testing.T) {
		f := script("zsh")
		offered(t, testenv.Zsh, "-n", f)
		// compadd and _files stand in for the completion system, printing
		// what they are given.
		const stubs = `compadd() { print -l -- "$@" }; _files() { print FILES }; `
		got := offered(t, testenv.Zsh, "-f", "-c", stubs+`source `+f+`; words=(calfed orgrel ""); CURRENT=3; _calfed`)
		check(t, "calfed orgrel ", got, []string{"new", "powershell", "verify"}, []string{"FILES", "serve"})
		got = offered(t, testenv.Zsh, "-f", "-c", stubs+`source `+f+`; words=(calfed orgrel new X -fr); CURRENT=5; _calfed`)
		check(t, "calfed orgrel new X -fr", got, []string{"-free-busy", "-level"}, []string{"FILES", "new"})
		got = offered(t, testenv.Zsh, "-f", "-c", stubs+`source `+f+`; words=(calfed domain proof ""); CURRENT=4; _calfed`)
		check(t, "calfed domain proof ", got, []string{"FILES"}, []string{"-o"})
	})
	t.Run("fish", func(t *testing.T) {
		f := script("fish")
		offered(t, testenv.Fish, "-n", f)
		for _, tc := range []struct {
			line      string
			want, not []string
		}{
			{"calfed orgrel ", []string{"new", "powershell", "verify"}, []string{"serve"}},
			{"calfed trust certificate ", []string{"rollover", "export"}, []string{"orgrel"}},
			{"calfed orgrel new X -fr", []string{"-free-busy"}, []string{"-level"}},
			{"calfed tr", []string{"trust"}, []string{"orgrel"}},
		} {
			got := offered(t, testenv.Fish, "--no-config", "-c", "source "+f+"; complete -C "+shellquote.Word(tc.line))
			check(t, tc.line, got, tc.want, tc.not)
		}
	})
	var out, errb bytes.Buffer
	if code := run(t.Context(), []string{"completion", "powershell"}, &out, &errb); code != exitFailed || !strings.Contains(errb.String(), "want bash, zsh or fish") {
		t.Errorf("completion powershell: exit %d %q", code, errb.String())
	}
}
