package cli

import (
	"fmt"
	"io"
	"slices"
	"strings"
)

// Shells are the shells Completion writes for.
var Shells = []string{"bash", "zsh", "fish"}

// node is a point in the tree of command words: the words that may come
// next, and, at a command, its options.
type node struct {
	path  string   // the words so far, space-separated
	next  []string // words that may follow
	flags []string // at a command: its options
	cmd   bool
}

// tree lays the table out as the words typed so far and what may follow
// each, in the table's order.
func (t *Table) tree(flags func(Command) []string) []node {
	index := map[string]int{}
	var nodes []node
	at := func(path string) *node {
		i, ok := index[path]
		if !ok {
			i = len(nodes)
			index[path] = i
			nodes = append(nodes, node{path: path})
		}
		return &nodes[i]
	}
	at("")
	for _, c := range t.Commands {
		words := strings.Fields(c.Name)
		for i := range words {
			parent := at(strings.Join(words[:i], " "))
			if !slices.Contains(parent.next, words[i]) {
				parent.next = append(parent.next, words[i])
			}
		}
		n := at(c.Name)
		n.cmd = true
		n.flags = flags(c)
	}
	return nodes
}

// Completion writes the completion script for shell, generated from the
// table: command words after the program's name, each command's options
// (flags gives them) after its words, files elsewhere.
func (t *Table) Completion(w io.Writer, shell string, flags func(Command) []string) error {
	nodes := t.tree(flags)
	switch shell {
	case "bash":
		return t.bash(w, nodes)
	case "zsh":
		return t.zsh(w, nodes)
	case "fish":
		return t.fish(w, nodes)
	}
	return UsageError{fmt.Sprintf("shell %q: want bash, zsh or fish", shell)}
}

// caseArms writes one arm of a shell case statement per node: the words
// typed so far (exactly, or a command's words and anything after them)
// and what to offer.
func caseArms(w io.Writer, nodes []node, offer func(words, flags []string) string) {
	for _, n := range nodes {
		pattern := fmt.Sprintf("%q", n.path)
		if n.cmd {
			pattern += fmt.Sprintf("|%q*", n.path+" ")
		}
		fmt.Fprintf(w, "    %s) %s ;;\n", pattern, offer(n.next, n.flags))
	}
}

func (t *Table) bash(w io.Writer, nodes []node) error {
	fn := "_" + t.Program
	fmt.Fprintf(w, "# bash completion for %[1]s; load it with: source <(%[1]s completion bash)\n", t.Program)
	fmt.Fprintf(w, "%s() {\n", fn)
	fmt.Fprintf(w, "  local cur=${COMP_WORDS[COMP_CWORD]} words=() i\n")
	fmt.Fprintf(w, "  for ((i = 1; i < COMP_CWORD; i++)); do\n    [[ ${COMP_WORDS[i]} == -* ]] && break\n    words+=(\"${COMP_WORDS[i]}\")\n  done\n")
	fmt.Fprintf(w, "  local offer=\n  case \"${words[*]}\" in\n")
	caseArms(w, nodes, func(next, flags []string) string {
		if len(next) > 0 {
			return fmt.Sprintf("offer=%q", strings.Join(next, " "))
		}
		return fmt.Sprintf("[[ $cur == -* ]] && offer=%q", strings.Join(flags, " "))
	})
	fmt.Fprintf(w, "  esac\n")
	fmt.Fprintf(w, "  if [[ -n $offer ]]; then\n    COMPREPLY=($(compgen -W \"$offer\" -- \"$cur\"))\n  else\n    COMPREPLY=($(compgen -f -- \"$cur\"))\n  fi\n}\n")
	fmt.Fprintf(w, "complete -o filenames -F %s %s\n", fn, t.Program)
	return nil
}

func (t *Table) zsh(w io.Writer, nodes []node) error {
	fn := "_" + t.Program
	fmt.Fprintf(w, "#compdef %[1]s\n# zsh completion for %[1]s; load it with: source <(%[1]s completion zsh)\n", t.Program)
	fmt.Fprintf(w, "%s() {\n", fn)
	fmt.Fprintf(w, "  local cur=${words[CURRENT]} i\n  local -a typed offer\n")
	fmt.Fprintf(w, "  for ((i = 2; i < CURRENT; i++)); do\n    [[ ${words[i]} == -* ]] && break\n    typed+=(\"${words[i]}\")\n  done\n")
	fmt.Fprintf(w, "  case \"${typed[*]}\" in\n")
	caseArms(w, nodes, func(next, flags []string) string {
		if len(next) > 0 {
			return fmt.Sprintf("offer=(%s)", strings.Join(next, " "))
		}
		return fmt.Sprintf("[[ $cur == -* ]] && offer=(%s)", strings.Join(flags, " "))
	})
	fmt.Fprintf(w, "  esac\n")
	fmt.Fprintf(w, "  if (( ${#offer} )); then\n    compadd -- \"${offer[@]}\"\n  else\n    _files\n  fi\n}\n")
	fmt.Fprintf(w, "if (( $+functions[compdef] )); then compdef %s %s; fi\n", fn, t.Program)
	return nil
}

func (t *Table) fish(w io.Writer, nodes []node) error {
	p := t.Program
	fmt.Fprintf(w, "# fish completion for %[1]s; load it with: %[1]s completion fish | source\n", p)
	fmt.Fprintf(w, "function __%s_typed --description 'the %s command words typed so far'\n", p, p)
	fmt.Fprintf(w, "    set -l words\n    for w in (commandline -opc)[2..-1]\n        string match -q -- '-*' $w; and break\n        set -a words $w\n    end\n    string join ' ' -- $words\nend\n")
	fmt.Fprintf(w, "function __%[1]s_at --description 'whether exactly these words were typed'\n    set -l t (__%[1]s_typed)\n    test \"$t\" = \"$argv\"\nend\n", p)
	fmt.Fprintf(w, "function __%[1]s_in --description 'whether these command words were typed, and maybe more'\n    set -l t (__%[1]s_typed)\n    string match -q -- \"$argv*\" \"$t\"\nend\n", p)
	fmt.Fprintf(w, "complete -c %s -f\n", p)
	for _, n := range nodes {
		for _, word := range n.next {
			fmt.Fprintf(w, "complete -c %s -n %s -a %s\n", p, fishQuote(strings.TrimSpace("__"+p+"_at "+n.path)), word)
		}
		if n.cmd {
			for _, f := range n.flags {
				fmt.Fprintf(w, "complete -c %s -n %s -o %s -F\n", p, fishQuote("__"+p+"_in "+n.path), strings.TrimPrefix(f, "-"))
			}
		}
	}
	return nil
}

// fishQuote is s in single quotes for fish, where only \ and ' are
// special inside them.
func fishQuote(s string) string {
	return "'" + strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(s) + "'"
}
