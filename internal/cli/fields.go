package cli

import (
	"flag"
	"fmt"

	"github.com/calfed/calfed/orgrel"
	"github.com/calfed/calfed/store"
)

// FieldFlags registers an option for each field that has one. The
// function it returns sets the options given on a record, in the table's
// order; a value the field refuses is invalid input.
func FieldFlags[T any](fl *flag.FlagSet, fields []orgrel.Field[T]) func(v *T) error {
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
			if f.Flag == "" || !Given(fl, f.Flag) {
				continue
			}
			if err := f.Set(v, fl.Lookup(f.Flag).Value.String()); err != nil {
				return fmt.Errorf("%w: -%s: %v", store.ErrInvalid, f.Flag, err)
			}
		}
		return nil
	}
}

// Given reports whether the command line set the option name.
func Given(fl *flag.FlagSet, name string) bool {
	set := false
	fl.Visit(func(f *flag.Flag) { set = set || f.Name == name })
	return set
}
