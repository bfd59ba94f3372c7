package cli

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/calfed/calfed/orgrel"
)

// How commands print records: as JSON (-o json) or as text, fields as
// labelled rows and lists as aligned columns.

// PrintFields prints a record as its fields, or as JSON.
func PrintFields[T any](w io.Writer, output string, fields []orgrel.Field[T], v T) error {
	return ShowTable(w, output, v, func(tw io.Writer) { FieldRows(tw, fields, v) })
}

// FieldRows writes each field of v that has a value as a label and the
// value.
func FieldRows[T any](w io.Writer, fields []orgrel.Field[T], v T) {
	for _, f := range fields {
		if s := f.Get(v); s != "" {
			fmt.Fprintf(w, "%s:\t%s\n", f.Label, s)
		}
	}
}

// Show prints v as indented JSON when output is json, and otherwise as
// text writes it.
func Show(w io.Writer, output string, v any, text func(w io.Writer)) error {
	if output == "json" {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(v)
	}
	text(w)
	return nil
}

// ShowTable is Show for text in columns: rows separates them with tabs,
// and they are aligned.
func ShowTable(w io.Writer, output string, v any, rows func(tw io.Writer)) error {
	if output == "json" {
		return Show(w, output, v, nil)
	}
	return Tabulate(w, rows)
}

// Tabulate writes what rows writes with its tab-separated columns
// aligned.
func Tabulate(w io.Writer, rows func(tw io.Writer)) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	rows(tw)
	return tw.Flush()
}

// Columns writes records as rows of the fields' values under a header
// of their labels, separated by tabs.
func Columns[T any](w io.Writer, fields []orgrel.Field[T], records []T) {
	cells := make([]string, len(fields))
	for i, f := range fields {
		cells[i] = f.Label
	}
	fmt.Fprintln(w, strings.Join(cells, "\t"))
	for _, r := range records {
		for i, f := range fields {
			cells[i] = f.Get(r)
		}
		fmt.Fprintln(w, strings.Join(cells, "\t"))
	}
}

// List is s, or an empty list where s is nil, for JSON.
func List[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}
