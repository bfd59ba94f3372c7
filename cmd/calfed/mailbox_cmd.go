package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/calfed/calfed/admin"
	"github.com/calfed/calfed/internal/cli"
	"github.com/calfed/calfed/orgrel"
)

func runMailboxShare(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	var apply func(*admin.MailboxSharing) error
	var wait applyWait
	return adminCommand(ctx, "mailbox share", args, stdout, stderr, []string{"ADDRESS"}, func(fl *flag.FlagSet) {
		apply = cli.FieldFlags(fl, admin.SharingFields)
		wait.register(fl)
	}, func(c *adminRun) error {
		if c.fl.Lookup("level").Value.String() == "" {
			return usageError{Msg: "-level is required"}
		}
		var choice admin.MailboxSharing
		if err := apply(&choice); err != nil {
			return err
		}
		m, err := admin.Share(ctx, c.api, actor(), c.pos[0], choice.Level)
		if err != nil {
			return err
		}
		if err := cli.PrintFields(stdout, c.output, admin.SharingFields, m); err != nil {
			return err
		}
		return wait.await(ctx, c)
	})
}

func runMailboxShow(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	return adminCommand(ctx, "mailbox show", args, stdout, stderr, []string{"ADDRESS"}, nil, func(c *adminRun) error {
		m, err := c.api.Mailbox(ctx, c.pos[0])
		if err != nil {
			return err
		}
		return cli.PrintFields(stdout, c.output, admin.SharingFields, m)
	})
}

func runAccountNew(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	var rel string
	return adminCommand(ctx, "account new", args, stdout, stderr, []string{"NAME"}, func(fl *flag.FlagSet) {
		fl.StringVar(&rel, "relationship", "", "the organisation relationship it acts for (required)")
	}, func(c *adminRun) error {
		if rel == "" {
			return usageError{Msg: "-relationship is required"}
		}
		acct, secret, err := c.api.NewAccount(ctx, actor(), c.pos[0], rel)
		if err != nil {
			return err
		}
		return printSecret(c, acct, secret)
	})
}

func runAccountRotate(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	var overlap time.Duration
	return adminCommand(ctx, "account rotate", args, stdout, stderr, []string{"NAME"}, func(fl *flag.FlagSet) {
		fl.DurationVar(&overlap, "overlap", orgrel.RotationOverlap, "how long the previous secret still works, so the partner can change over (at most 720h); 0 cuts it off now")
	}, func(c *adminRun) error {
		if overlap < 0 || overlap > orgrel.MaxRotationOverlap {
			return usageError{Msg: fmt.Sprintf("-overlap %v: want 0 to %v, such as 72h", overlap, orgrel.MaxRotationOverlap)}
		}
		acct, secret, err := admin.RotateAccount(ctx, c.api, actor(), c.pos[0], overlap)
		if err != nil {
			return err
		}
		return printSecret(c, acct, secret)
	})
}

func runAccountRevoke(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	return adminCommand(ctx, "account revoke", args, stdout, stderr, []string{"NAME"}, nil, func(c *adminRun) error {
		acct, err := admin.RevokeAccount(ctx, c.api, actor(), c.pos[0])
		if err != nil {
			return err
		}
		return cli.Show(stdout, c.output, acct, func(w io.Writer) {
			fmt.Fprintf(w, "revoked %s (%s); it can no longer sign in\n", acct.Name, acct.Relationship)
		})
	})
}

// printSecret prints a service account's new secret, which is shown once.
func printSecret(c *adminRun, a orgrel.ServiceAccount, secret string) error {
	return cli.Show(c.stdout, c.output, map[string]any{"account": a, "secret": secret}, func(w io.Writer) {
		fmt.Fprintf(w, "service account %s for %s\nsecret: %s\n", a.Name, a.Relationship, secret)
		fmt.Fprintln(w, "This secret is shown once and stored only as a hash: give it to the partner over a secure channel now.")
		if u := a.PreviousValidUntil; u != nil {
			fmt.Fprintf(w, "The previous secret keeps working until %s; after that only this one does.\n", u.Format(time.RFC3339))
		}
	})
}

func runAccountList(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	return adminCommand(ctx, "account list", args, stdout, stderr, nil, nil, func(c *adminRun) error {
		accts, err := c.api.Accounts(ctx)
		if err != nil {
			return err
		}
		return cli.ShowTable(stdout, c.output, cli.List(accts), func(tw io.Writer) { cli.Columns(tw, orgrel.AccountColumns, accts) })
	})
}

func runAudit(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	var since string
	var limit int
	return adminCommand(ctx, "audit", args, stdout, stderr, nil, func(fl *flag.FlagSet) {
		fl.StringVar(&since, "since", "", "a duration back from now (24h) or an RFC 3339 time; default everything")
		fl.IntVar(&limit, "limit", 0, "at most this many entries")
	}, func(c *adminRun) error {
		from, err := parseSince(since, time.Now())
		if err != nil {
			return err
		}
		entries, err := c.api.Audit(ctx, from, limit)
		if err != nil {
			return err
		}
		return cli.ShowTable(stdout, c.output, cli.List(entries), func(tw io.Writer) { cli.Columns(tw, admin.AuditColumns, entries) })
	})
}

func runAuditAccess(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	var q orgrel.AccessQuery
	var since, until string
	return adminCommand(ctx, "audit access", args, stdout, stderr, nil, func(fl *flag.FlagSet) {
		fl.StringVar(&q.Partner, "partner", "", "a relationship's name, or a caller's domain, service account or user")
		fl.StringVar(&q.Mailbox, "mailbox", "", "requests that asked about this mailbox of ours")
		fl.StringVar(&since, "since", "", "a duration back from now (24h) or a time (2026-11-23 or RFC 3339); default everything kept")
		fl.StringVar(&until, "until", "", "before this time, as -since")
		fl.IntVar(&q.Limit, "limit", 0, "the newest this many entries")
	}, func(c *adminRun) error {
		now := time.Now()
		var err error
		if q.Since, err = parseSince(since, now); err != nil {
			return err
		}
		if q.Until, err = parseSince(until, now); err != nil {
			return usageError{Msg: strings.Replace(err.Error(), "-since", "-until", 1)}
		}
		if q.Limit < 0 {
			return usageError{Msg: fmt.Sprintf("-limit %d: want a number of entries", q.Limit)}
		}
		entries, err := c.api.AccessLog(ctx, q)
		if err != nil {
			return err
		}
		return cli.ShowTable(stdout, c.output, cli.List(entries), func(tw io.Writer) { cli.Columns(tw, admin.AccessColumns, entries) })
	})
}

func runAuditPartners(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	since := "24h"
	return adminCommand(ctx, "audit partners", args, stdout, stderr, nil, func(fl *flag.FlagSet) {
		fl.StringVar(&since, "since", since, "count requests from this far back (24h) or this time (2026-11-23 or RFC 3339)")
	}, func(c *adminRun) error {
		from, err := parseSince(since, time.Now())
		if err != nil {
			return err
		}
		act, err := c.api.PartnerActivity(ctx, from)
		if err != nil {
			return err
		}
		return cli.ShowTable(stdout, c.output, cli.List(act), func(tw io.Writer) { cli.Columns(tw, admin.ActivityColumns, act) })
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
	return time.Time{}, usageError{Msg: fmt.Sprintf("-since %q: want a duration (24h) or a time (2026-11-23 or RFC 3339)", s)}
}
