package config

import (
	"errors"
	"fmt"
	"os"
)

// Env names the environment variable that names the configuration file.
const Env = "CALFED_CONFIG"

// DefaultFile is the configuration file looked for in the working
// directory when neither -config nor $CALFED_CONFIG names one.
const DefaultFile = "calfed.yaml"

// ErrNoConfig is Find's answer when no configuration file is named and
// there is none in the working directory.
var ErrNoConfig = errors.New("config: no configuration file")

// Find says which configuration file every command uses, by one rule:
// flag (the -config given on the command line) when set, else
// $CALFED_CONFIG when set, else ./calfed.yaml when it exists. A file named
// by the flag or the variable must exist; with neither and no
// ./calfed.yaml the error is ErrNoConfig, which calfed serve answers by
// running the demo.
func Find(flag string) (string, error) {
	from, path := "-config", flag
	if path == "" {
		from, path = "$"+Env, os.Getenv(Env)
	}
	if path != "" {
		if _, err := os.Stat(path); err != nil {
			return "", fmt.Errorf("%s names %s: %w", from, path, noFile(err))
		}
		return path, nil
	}
	if _, err := os.Stat(DefaultFile); err == nil {
		return DefaultFile, nil
	} else if !errors.Is(err, os.ErrNotExist) {
		return "", fmt.Errorf("./%s: %w", DefaultFile, err)
	}
	return "", fmt.Errorf("%w: give -config FILE, set $%s, or run in a directory with %s", ErrNoConfig, Env, DefaultFile)
}

// noFile is a file-system error without the operation and path that
// the message names already.
func noFile(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		if errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("no such file")
		}
		return pe.Err
	}
	return err
}
