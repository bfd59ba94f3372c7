package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/calfed/calfed/admin"
	"github.com/calfed/calfed/internal/cli"
	"github.com/calfed/calfed/orgrel"
	"github.com/calfed/calfed/trust"
)

// The relationship options are named as Exchange's parameters
// (orgrel.RelationshipFields).

func runOrgrelNew(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	var apply func(*orgrel.Relationship) error
	return adminCommand(ctx, "orgrel new", args, stdout, stderr, []string{"NAME"}, func(fl *flag.FlagSet) {
		apply = cli.FieldFlags(fl, orgrel.RelationshipFields)
	}, func(c *adminRun) error {
		rel := orgrel.Relationship{Name: c.pos[0], Enabled: true}
		if err := apply(&rel); err != nil {
			return err
		}
		if len(rel.Domains) == 0 {
			return usageError{Msg: "-domains is required"}
		}
		created, err := c.api.NewRelationship(ctx, actor(), rel)
		if err != nil {
			return err
		}
		return printRelationship(ctx, c, created)
	})
}

func runOrgrelSet(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	var apply func(*orgrel.Relationship) error
	var wait applyWait
	var account, secretFile *string
	return adminCommand(ctx, "orgrel set", args, stdout, stderr, []string{"NAME"}, func(fl *flag.FlagSet) {
		apply = cli.FieldFlags(fl, orgrel.RelationshipFields)
		account = fl.String("outbound-account", "", "the account the partner gave us for asking its free/busy cross-forest (Add-AvailabilityAddressSpace -AccessMethod OrgWideFB -Credentials); \"-\" removes it")
		secretFile = fl.String("outbound-secret-file", "", "a file holding that account's secret (one line)")
		wait.register(fl)
	}, func(c *adminRun) error {
		outbound := cli.Given(c.fl, "outbound-account") || cli.Given(c.fl, "outbound-secret-file")
		if outbound {
			if err := admin.SetOutbound(ctx, c.api, actor(), c.pos[0], *account, *secretFile); err != nil {
				return err
			}
		}
		if c.fl.NFlag() == 0 || !outbound && c.fl.NFlag() == 1 && cli.Given(c.fl, "wait") {
			return usageError{Msg: "nothing to change: give at least one option"}
		}
		return modify(ctx, c, &wait, "orgrel.set", apply)
	})
}

func runOrgrelEnable(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	return setEnabled(ctx, "orgrel enable", args, stdout, stderr, true)
}

func runOrgrelDisable(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	return setEnabled(ctx, "orgrel disable", args, stdout, stderr, false)
}

func setEnabled(ctx context.Context, name string, args []string, stdout, stderr io.Writer, enabled bool) int {
	var wait applyWait
	return adminCommand(ctx, name, args, stdout, stderr, []string{"NAME"}, wait.register, func(c *adminRun) error {
		action := "orgrel.disable"
		if enabled {
			action = "orgrel.enable"
		}
		return modify(ctx, c, &wait, action, func(rel *orgrel.Relationship) error {
			rel.Enabled = enabled
			return nil
		})
	})
}

// modify changes the relationship the command names (admin.Modify),
// prints it and waits for the servers to apply it.
func modify(ctx context.Context, c *adminRun, wait *applyWait, action string, change func(*orgrel.Relationship) error) error {
	rel, err := admin.Modify(ctx, c.api, actor(), action, c.pos[0], change)
	if err != nil {
		return err
	}
	if err := printRelationship(ctx, c, rel); err != nil {
		return err
	}
	return wait.await(ctx, c)
}

func runOrgrelRemove(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	var wait applyWait
	return adminCommand(ctx, "orgrel remove", args, stdout, stderr, []string{"NAME"}, wait.register, func(c *adminRun) error {
		rel, err := admin.Remove(ctx, c.api, actor(), c.pos[0])
		if err != nil {
			return err
		}
		err = cli.Show(stdout, c.output, map[string]string{"removed": rel.Name}, func(w io.Writer) {
			fmt.Fprintf(w, "removed %s (%s) and revoked its service accounts\n", rel.Name, strings.Join(rel.Domains, ", "))
		})
		if err != nil {
			return err
		}
		return wait.await(ctx, c)
	})
}

func runOrgrelList(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	return adminCommand(ctx, "orgrel list", args, stdout, stderr, nil, nil, func(c *adminRun) error {
		rels, err := c.api.Relationships(ctx)
		if err != nil {
			return err
		}
		return cli.ShowTable(stdout, c.output, cli.List(rels), func(tw io.Writer) { cli.Columns(tw, orgrel.RelationshipColumns, rels) })
	})
}

func runOrgrelShow(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	return adminCommand(ctx, "orgrel show", args, stdout, stderr, []string{"NAME"}, nil, func(c *adminRun) error {
		rel, err := admin.FindRelationship(ctx, c.api, c.pos[0])
		if err != nil {
			return err
		}
		return printRelationship(ctx, c, rel)
	})
}

// printRelationship prints a relationship's fields and its partner's
// domain proofs.
func printRelationship(ctx context.Context, c *adminRun, r orgrel.Relationship) error {
	checks, err := c.api.DomainChecks(ctx)
	if err != nil {
		return err
	}
	proofs := trust.PartnerProofs(r, checks)
	v := struct {
		orgrel.Relationship
		DomainProofs []trust.PartnerProof `json:"domain_proofs"`
	}{r, proofs}
	return cli.ShowTable(c.stdout, c.output, v, func(tw io.Writer) {
		cli.FieldRows(tw, orgrel.RelationshipFields, r)
		for _, p := range proofs {
			fmt.Fprintf(tw, "Domain proof %s:\t%s\n", p.Domain, p)
		}
	})
}

func runOrgrelExport(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	var file string
	return adminCommand(ctx, "orgrel export", args, stdout, stderr, nil, func(fl *flag.FlagSet) {
		fl.StringVar(&file, "f", "", "write to FILE instead of standard output")
	}, func(c *adminRun) error {
		rels, err := c.api.Relationships(ctx)
		if err != nil {
			return err
		}
		return admin.WriteFile(file, stdout, admin.File{Relationships: rels})
	})
}

func runOrgrelApply(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	var file string
	var dryRun, prune bool
	return adminCommand(ctx, "orgrel apply", args, stdout, stderr, nil, func(fl *flag.FlagSet) {
		fl.StringVar(&file, "f", "", "YAML file, as orgrel export writes (required; - for standard input)")
		fl.BoolVar(&dryRun, "dry-run", false, "show what would change and change nothing")
		fl.BoolVar(&prune, "prune", false, "also remove relationships the file does not name")
	}, func(c *adminRun) error {
		if file == "" {
			return usageError{Msg: "-f FILE is required"}
		}
		f, err := admin.ReadFile(file, os.Stdin)
		if err != nil {
			return err
		}
		plan, err := c.api.Apply(ctx, actor(), f.Relationships, admin.ApplyOptions{DryRun: dryRun, Prune: prune})
		// The plan shows how far applying it got, also when it failed.
		if perr := cli.Show(stdout, c.output, plan, func(w io.Writer) { admin.WritePlan(w, plan, dryRun) }); err == nil {
			err = perr
		}
		return err
	})
}

func runOrgrelPowerShell(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	return adminCommand(ctx, "orgrel powershell", args, stdout, stderr, []string{"NAME"}, nil, func(c *adminRun) error {
		return admin.PowerShell(ctx, c.api, stdout, c.pos[0])
	})
}
