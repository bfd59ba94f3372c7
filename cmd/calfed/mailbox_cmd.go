package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/calfed/calfed/admin"
	"github.com/calfed/calfed/orgrel"
	"github.com/calfed/calfed/store"
)

func runMailboxShare(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	var apply func(*admin.MailboxSharing) error
	var wait applyWait
	return adminCommand(ctx, "mailbox share", args, stderr, []string{"ADDRESS"}, func(fl *flag.FlagSet) {
		apply = fieldFlags(fl, admin.SharingFields)
		wait.register(fl)
	}, func(api admin.API, a *adminFlags, fl *flag.FlagSet, pos []string) error {
		if fl.Lookup("level").Value.String() == "" {
			return usageError{"-level is required"}
		}
		var choice admin.MailboxSharing
		if err := apply(&choice); err != nil {
			return err
		}
		cur, err := api.Mailbox(ctx, pos[0])
		if err != nil {
			return err
		}
		m, err := api.ShareMailbox(ctx, actor(), pos[0], choice.Level, cur.Version)
		if err != nil {
			return err
		}
		if err := printSharing(stdout, a.output, m); err != nil {
			return err
		}
		return wait.await(ctx, api, a.output, stdout, stderr)
	})
}

func runMailboxShow(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	return adminCommand(ctx, "mailbox show", args, stderr, []string{"ADDRESS"}, nil, func(api admin.API, a *adminFlags, fl *flag.FlagSet, pos []string) error {
		m, err := api.Mailbox(ctx, pos[0])
		if err != nil {
			return err
		}
		return printSharing(stdout, a.output, m)
	})
}

func printSharing(w io.Writer, output string, m admin.MailboxSharing) error {
	return printFields(w, output, admin.SharingFields, m)
}

func runAccountNew(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	var rel string
	return adminCommand(ctx, "account new", args, stderr, []string{"NAME"}, func(fl *flag.FlagSet) {
		fl.StringVar(&rel, "relationship", "", "the organisation relationship it acts for (required)")
	}, func(api admin.API, a *adminFlags, fl *flag.FlagSet, pos []string) error {
		if rel == "" {
			return usageError{"-relationship is required"}
		}
		acct, secret, err := api.NewAccount(ctx, actor(), pos[0], rel)
		if err != nil {
			return err
		}
		return printSecret(stdout, a.output, acct, secret)
	})
}

func runAccountRotate(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	return adminCommand(ctx, "account rotate", args, stderr, []string{"NAME"}, nil, func(api admin.API, a *adminFlags, fl *flag.FlagSet, pos []string) error {
		cur, err := findAccount(ctx, api, pos[0])
		if err != nil {
			return err
		}
		acct, secret, err := api.RotateAccount(ctx, actor(), cur.Name, cur.Version)
		if err != nil {
			return err
		}
		return printSecret(stdout, a.output, acct, secret)
	})
}

func runAccountRevoke(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	return adminCommand(ctx, "account revoke", args, stderr, []string{"NAME"}, nil, func(api admin.API, a *adminFlags, fl *flag.FlagSet, pos []string) error {
		cur, err := findAccount(ctx, api, pos[0])
		if err != nil {
			return err
		}
		acct, err := api.RevokeAccount(ctx, actor(), cur.Name, cur.Version)
		if err != nil {
			return err
		}
		if a.output == "json" {
			printJSON(stdout, acct)
			return nil
		}
		fmt.Fprintf(stdout, "revoked %s (%s); it can no longer sign in\n", acct.Name, acct.Relationship)
		return nil
	})
}

func findAccount(ctx context.Context, api admin.API, name string) (orgrel.ServiceAccount, error) {
	accts, err := api.Accounts(ctx)
	if err != nil {
		return orgrel.ServiceAccount{}, err
	}
	for _, a := range accts {
		if strings.EqualFold(a.Name, name) {
			return a, nil
		}
	}
	return orgrel.ServiceAccount{}, fmt.Errorf("%w: service account %q", store.ErrNotFound, name)
}

func printSecret(w io.Writer, output string, a orgrel.ServiceAccount, secret string) error {
	if output == "json" {
		printJSON(w, map[string]any{"account": a, "secret": secret})
		return nil
	}
	fmt.Fprintf(w, "service account %s for %s\nsecret: %s\n", a.Name, a.Relationship, secret)
	fmt.Fprintln(w, "This secret is shown once and stored only as a hash: give it to the partner over a secure channel now.")
	return nil
}

func runAccountList(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	return adminCommand(ctx, "account list", args, stderr, nil, nil, func(api admin.API, a *adminFlags, fl *flag.FlagSet, pos []string) error {
		accts, err := api.Accounts(ctx)
		if err != nil {
			return err
		}
		if a.output == "json" {
			if accts == nil {
				accts = []orgrel.ServiceAccount{}
			}
			printJSON(stdout, accts)
			return nil
		}
		tw := table(stdout)
		fmt.Fprintln(tw, "NAME\tRELATIONSHIP\tSTATE\tCREATED\tROTATED")
		for _, acct := range accts {
			state, rotated := "active", "-"
			if acct.Revoked != nil {
				state = "revoked " + acct.Revoked.Format("2006-01-02")
			}
			if acct.Rotated != nil {
				rotated = acct.Rotated.Format("2006-01-02")
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", acct.Name, acct.Relationship, state, acct.Created.Format("2006-01-02"), rotated)
		}
		return tw.Flush()
	})
}

func runAudit(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	var since string
	var limit int
	return adminCommand(ctx, "audit", args, stderr, nil, func(fl *flag.FlagSet) {
		fl.StringVar(&since, "since", "", "a duration back from now (24h) or an RFC 3339 time; default everything")
		fl.IntVar(&limit, "limit", 0, "at most this many entries")
	}, func(api admin.API, a *adminFlags, fl *flag.FlagSet, pos []string) error {
		from, err := parseSince(since, time.Now())
		if err != nil {
			return err
		}
		entries, err := api.Audit(ctx, from, limit)
		if err != nil {
			return err
		}
		if a.output == "json" {
			if entries == nil {
				entries = []orgrel.AuditEntry{}
			}
			printJSON(stdout, entries)
			return nil
		}
		tw := table(stdout)
		fmt.Fprintln(tw, "WHEN\tWHO\tACTION\tOBJECT\tCHANGE")
		for _, e := range entries {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", e.At.Format(time.RFC3339), e.Actor, e.Action, e.Object, admin.Summarize(e))
		}
		return tw.Flush()
	})
}

func parseSince(s string, now time.Time) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	if d, err := time.ParseDuration(s); err == nil {
		return now.Add(-d), nil
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	if t, err := time.Parse("2006-01-02", s); err == nil {
		return t, nil
	}
	return time.Time{}, usageError{fmt.Sprintf("-since %q: want a duration (24h) or a time (2026-11-23 or RFC 3339)", s)}
}
