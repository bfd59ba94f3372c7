package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/calfed/calfed/config"
	"github.com/calfed/calfed/internal/cli"
	"github.com/calfed/calfed/orgrel"
	"github.com/calfed/calfed/userauth"
)

func runUserTokenNew(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	var label, output *string
	var validFor *time.Duration
	return localCommand(ctx, "user token new", args, stdout, stderr, []string{"ADDRESS"}, func(fl *flag.FlagSet) {
		label = fl.String("label", "", "what the token is for, e.g. Thunderbird on my laptop")
		validFor = fl.Duration("valid-for", 0, "how long the token works, e.g. 2160h; 0: until revoked")
		output = fl.String("o", "table", "table or json")
	}, func(l *config.Local, pos []string) (int, error) {
		secret, tok, err := userauth.Issue(ctx, l.DB, l.Built.Directory(), actor(), pos[0], *label, *validFor, time.Now())
		if errors.Is(err, userauth.ErrNotMailbox) {
			return exitFailed, usageError{Msg: err.Error()}
		} else if err != nil {
			return exitError, err
		}
		return exitOK, cli.Show(stdout, *output, map[string]any{"token": secret, "info": tok}, func(w io.Writer) {
			fmt.Fprintf(w, "token %s for %s (shown once; calfed keeps only its hash):\n%s\n", tok.ID, tok.Address, secret)
		})
	})
}

func runUserTokenList(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	var output *string
	return localCommand(ctx, "user token list", args, stdout, stderr, []string{"ADDRESS…"}, func(fl *flag.FlagSet) {
		output = fl.String("o", "table", "table or json")
	}, func(l *config.Local, pos []string) (int, error) {
		if len(pos) > 1 {
			return exitFailed, usageError{Msg: "give at most one address"}
		}
		toks, err := l.DB.UserTokens(ctx, strings.ToLower(strings.Join(pos, "")))
		if err != nil {
			return exitError, err
		}
		return exitOK, cli.ShowTable(stdout, *output, cli.List(toks), func(tw io.Writer) { cli.Columns(tw, orgrel.UserTokenColumns, toks) })
	})
}

func runUserTokenRevoke(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	return localCommand(ctx, "user token revoke", args, stdout, stderr, []string{"ID"}, nil, func(l *config.Local, pos []string) (int, error) {
		t, err := l.DB.RevokeUserToken(ctx, actor(), pos[0])
		if err == nil {
			fmt.Fprintf(stdout, "token %s of %s revoked\n", t.ID, t.Address)
		}
		return exitOK, err
	})
}
