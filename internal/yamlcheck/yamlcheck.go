// Package yamlcheck reads a YAML document against the Go type it will be
// decoded into, as a strict decoder would, but reports every problem at
// once with its field and line, suggests the key meant for an unknown
// one, and names values (a duration, a whole number) rather than Go
// types, so that people editing the file can put it right.
package yamlcheck

import (
	"encoding"
	"errors"
	"fmt"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/calfed/calfed/internal/suggest"
)

// Problem is one thing wrong in a configuration file: the field, as
// written in the file (mailboxes[0].calendar), the line it is on (0 when
// the file does not have it: a required field left out and nothing
// around it), and what is wrong with it and how to put it right.
type Problem struct {
	Line  int
	Field string
	Msg   string
	Err   error // the error behind it, if any
}

func (p Problem) Unwrap() error { return p.Err }

func (p Problem) Error() string {
	var b strings.Builder
	if p.Line > 0 {
		fmt.Fprintf(&b, "line %d: ", p.Line)
	}
	if p.Field != "" {
		b.WriteString(p.Field + ": ")
	}
	return b.String() + p.Msg
}

// Lines maps each field the file sets (listen, tls.cert_file,
// mailboxes[0], mailboxes[0].calendar) to its line.
type Lines map[string]int

// Of is the line of field, or of the nearest enclosing field the file
// has; 0 when it has none. Annotations after an index, as in
// "mailboxes[1] (bob@example.org).calendar", are ignored.
func (l Lines) Of(field string) int {
	field = annotation.ReplaceAllString(field, "")
	for field != "" {
		if n, ok := l[field]; ok {
			return n
		}
		i := strings.LastIndexAny(field, ".[")
		if i < 0 {
			return 0
		}
		field = field[:i]
	}
	return 0
}

var annotation = regexp.MustCompile(` \([^)]*\)`)

// FieldOf is the field a message starts with, up to its first ": ", or
// "" when what comes before it is not a field name.
func FieldOf(msg string) string {
	f, _, ok := strings.Cut(msg, ": ")
	if !ok || strings.ContainsAny(annotation.ReplaceAllString(f, ""), " \t") {
		return ""
	}
	return f
}

// Check reads data against t, the type it will be decoded into, and
// returns the line of each field the document sets and its problems: a
// YAML syntax error, unknown keys (with the one meant, when one is
// near), values of the wrong shape or kind, and values a field's
// UnmarshalText refuses. With no problems, a strict decoder (KnownFields)
// decodes the document into t.
func Check(data []byte, t reflect.Type) (Lines, []error) {
	_, lines, errs := check(data, t)
	return lines, errs
}

// Decode is Check, then, with no problems, decodes the document into v
// (a pointer to the type checked) from the tree Check read: the file is
// parsed once, which counts in a directory of ten thousand mailboxes.
// An empty document leaves v as it is.
func Decode(data []byte, v any) (Lines, []error) {
	doc, lines, errs := check(data, reflect.TypeOf(v).Elem())
	if len(errs) > 0 || doc.Kind != yaml.DocumentNode {
		return lines, errs
	}
	if err := doc.Decode(v); err != nil {
		// Check has read everything the decoder reads; what is left is
		// the decoder's own word.
		return lines, []error{Problem{Msg: strings.TrimPrefix(err.Error(), "yaml: "), Err: err}}
	}
	return lines, nil
}

func check(data []byte, t reflect.Type) (*yaml.Node, Lines, []error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, Lines{}, []error{syntaxProblem(err)}
	}
	c := checker{lines: Lines{}, keys: map[reflect.Type]structKeys{}}
	if doc.Kind == yaml.DocumentNode && len(doc.Content) > 0 {
		c.walk(doc.Content[0], t, "")
	}
	return &doc, c.lines, c.problems
}

type checker struct {
	lines    Lines
	problems []error
	keys     map[reflect.Type]structKeys // each struct type's, read once
}

// structKeys are the keys a struct type takes, and their types.
type structKeys struct {
	types map[string]reflect.Type
	names []string
}

func (c *checker) keysOf(t reflect.Type) structKeys {
	if k, ok := c.keys[t]; ok {
		return k
	}
	k := structKeys{types: map[string]reflect.Type{}}
	fieldsOf(t, func(name string, ft reflect.Type) {
		k.types[name] = ft
		k.names = append(k.names, name)
	})
	c.keys[t] = k
	return k
}

func (c *checker) bad(n *yaml.Node, field, format string, args ...any) {
	c.problems = append(c.problems, Problem{Line: n.Line, Field: field, Msg: fmt.Sprintf(format, args...)})
}

var textUnmarshaler = reflect.TypeFor[encoding.TextUnmarshaler]()

func (c *checker) walk(n *yaml.Node, t reflect.Type, field string) {
	if n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	if n.Kind == yaml.ScalarNode && n.Tag == "!!null" {
		return // left empty: the default
	}
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t == reflect.TypeFor[time.Duration]() {
		if d, err := time.ParseDuration(n.Value); n.Kind != yaml.ScalarNode || err != nil || d < 0 {
			c.bad(n, field, "%s is not a duration: write a positive number with a unit, such as 30s, 5m or 24h", shown(n))
		}
		return
	}
	if reflect.PointerTo(t).Implements(textUnmarshaler) {
		if n.Kind != yaml.ScalarNode {
			c.bad(n, field, "want a single value, not a %s", kindName(n))
			return
		}
		// Decoded as the decoder will (which reads timestamps its own way).
		if err := n.Decode(reflect.New(t).Interface()); err != nil {
			if t.Name() == "Duration" || t == reflect.TypeFor[time.Duration]() {
				c.bad(n, field, "%q is not a duration: write a positive number with a unit, such as 30s, 5m or 24h", n.Value)
			} else {
				c.bad(n, field, "%q: %s", n.Value, strings.TrimPrefix(err.Error(), "yaml: "))
			}
		}
		return
	}
	switch t.Kind() {
	case reflect.Struct:
		if n.Kind != yaml.MappingNode {
			c.bad(n, field, "want keys and values (a mapping), not a %s", kindName(n))
			return
		}
		sk := c.keysOf(t)
		keys := sk.types
		seen := map[string]bool{}
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			sub := k.Value
			if field != "" {
				sub = field + "." + k.Value
			}
			ft, ok := keys[k.Value]
			if !ok {
				hint := "remove it"
				if s := suggest.Closest(k.Value, sk.names); s != "" {
					hint = "did you mean " + s + "?"
				} else {
					hint = "the keys here are " + strings.Join(slices.Sorted(slices.Values(sk.names)), ", ")
				}
				c.bad(k, sub, "unknown key; %s", hint)
				continue
			}
			if seen[k.Value] {
				c.bad(k, sub, "given twice; keep one")
			}
			seen[k.Value] = true
			c.lines[sub] = k.Line
			c.walk(v, ft, sub)
		}
	case reflect.Slice:
		if n.Kind != yaml.SequenceNode {
			c.bad(n, field, "want a list, not a %s", kindName(n))
			return
		}
		for i, item := range n.Content {
			sub := fmt.Sprintf("%s[%d]", field, i)
			c.lines[sub] = item.Line
			c.walk(item, t.Elem(), sub)
		}
	case reflect.Map:
		if n.Kind != yaml.MappingNode {
			c.bad(n, field, "want keys and values (a mapping), not a %s", kindName(n))
			return
		}
		for i := 0; i+1 < len(n.Content); i += 2 {
			sub := fmt.Sprintf("%s[%s]", field, n.Content[i].Value)
			c.lines[sub] = n.Content[i].Line
			c.walk(n.Content[i+1], t.Elem(), sub)
		}
	case reflect.String:
		if n.Kind != yaml.ScalarNode {
			c.bad(n, field, "want a single value, not a %s", kindName(n))
		}
	case reflect.Bool:
		var b bool
		if n.Kind != yaml.ScalarNode || n.Decode(&b) != nil {
			c.bad(n, field, "%s is not true or false", shown(n))
		}
	case reflect.Int, reflect.Int64:
		if _, err := strconv.ParseInt(strings.ReplaceAll(n.Value, "_", ""), 0, 64); n.Kind != yaml.ScalarNode || err != nil {
			c.bad(n, field, "%s is not a whole number", shown(n))
		}
	}
}

// fieldsOf calls add with each key a struct of type t takes, as yaml.v3
// names them: the yaml tag's name, else the field's name in lower case;
// an inline struct's keys are its own.
func fieldsOf(t reflect.Type, add func(name string, ft reflect.Type)) {
	for i := range t.NumField() {
		f := t.Field(i)
		name, opts, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		if name == "-" || !f.IsExported() {
			continue
		}
		if strings.Contains(opts, "inline") && f.Type.Kind() == reflect.Struct {
			fieldsOf(f.Type, add)
			continue
		}
		if name == "" {
			name = strings.ToLower(f.Name)
		}
		add(name, f.Type)
	}
}

func kindName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "mapping"
	case yaml.SequenceNode:
		return "list"
	}
	return "single value"
}

func shown(n *yaml.Node) string {
	if n.Kind == yaml.ScalarNode {
		return strconv.Quote(n.Value)
	}
	return "a " + kindName(n)
}

func lineOf(err error) int {
	var p Problem
	if errors.As(err, &p) {
		return p.Line
	}
	return 0
}

// yamlLine finds the line in a YAML syntax error: "yaml: line 3: …".
var yamlLine = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

// syntaxProblem is a YAML syntax error as a Problem.
func syntaxProblem(err error) error {
	msg := err.Error()
	if m := yamlLine.FindStringSubmatch(msg); m != nil {
		n, _ := strconv.Atoi(m[1])
		return Problem{Line: n, Msg: "not valid YAML: " + m[2]}
	}
	return Problem{Msg: "not valid YAML: " + strings.TrimPrefix(msg, "yaml: ")}
}

// Sorted is errs in the file's order, problems with no line last; a
// single joined error is taken apart first.
func Sorted(errs []error) []error {
	if len(errs) == 1 {
		if j, ok := errs[0].(interface{ Unwrap() []error }); ok {
			errs = j.Unwrap()
		}
	}
	errs = slices.Clone(errs)
	slices.SortStableFunc(errs, func(a, b error) int {
		la, lb := lineOf(a), lineOf(b)
		switch {
		case la == lb:
			return 0
		case la == 0:
			return 1
		case lb == 0:
			return -1
		}
		return la - lb
	})
	return errs
}

// Under is the problems of a file under a heading, each on its own
// indented line, in the file's order.
func Under(heading string, errs ...error) error {
	return fmt.Errorf("%s:\n  %s", heading, strings.ReplaceAll(errors.Join(Sorted(errs)...).Error(), "\n", "\n  "))
}
