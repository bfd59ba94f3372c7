package config

import "github.com/calfed/calfed/internal/yamlcheck"

// Problem is one thing wrong in a configuration file: the field, as
// written in the file (mailboxes[0].calendar), the line it is on (0 when
// the file does not have it), and what is wrong with it and how to put it
// right.
type Problem = yamlcheck.Problem

// lines maps each field the file sets to its line.
type lines = yamlcheck.Lines

// fieldOf is the field a message from Build starts with.
func fieldOf(msg string) string { return yamlcheck.FieldOf(msg) }

// invalid is the problems of a file under one heading, each on its own
// indented line, in the file's order.
func invalid(errs ...error) error { return yamlcheck.Under("invalid configuration", errs...) }
