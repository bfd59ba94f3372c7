package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/calfed/calfed/admin"
	"github.com/calfed/calfed/orgrel"
	"github.com/calfed/calfed/trust"
)

// adminCommand runs body with the API the flags select, reporting errors
// the same way for every administrative command.
func adminCommand(ctx context.Context, name string, args []string, stderr io.Writer, positional []string,
	extra func(fl *flag.FlagSet), body func(api admin.API, a *adminFlags, fl *flag.FlagSet, pos []string) error) int {
	fl := flag.NewFlagSet(name, flag.ContinueOnError)
	fl.SetOutput(stderr)
	var a adminFlags
	a.register(fl)
	if extra != nil {
		extra(fl)
	}
	pos, err := parseArgs(fl, args, positional...)
	if err != nil {
		return report(stderr, name, err)
	}
	api, done, err := a.open(ctx)
	if err != nil {
		return report(stderr, name, err)
	}
	defer done()
	if err := body(api, &a, fl, pos); err != nil {
		return report(stderr, name, err)
	}
	return exitOK
}

// The relationship options are named as Exchange's parameters
// (orgrel.RelationshipFields).

func runOrgrelNew(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	var apply func(*orgrel.Relationship) error
	return adminCommand(ctx, "orgrel new", args, stderr, []string{"NAME"}, func(fl *flag.FlagSet) {
		apply = fieldFlags(fl, orgrel.RelationshipFields)
	}, func(api admin.API, a *adminFlags, fl *flag.FlagSet, pos []string) error {
		rel := orgrel.Relationship{Name: pos[0], Enabled: true}
		if err := apply(&rel); err != nil {
			return err
		}
		if len(rel.Domains) == 0 {
			return usageError{"-domains is required"}
		}
		created, err := api.NewRelationship(ctx, actor(), rel)
		if err != nil {
			return err
		}
		return printRelationship(ctx, stdout, api, a.output, created)
	})
}

func runOrgrelSet(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	var apply func(*orgrel.Relationship) error
	var wait applyWait
	return adminCommand(ctx, "orgrel set", args, stderr, []string{"NAME"}, func(fl *flag.FlagSet) {
		apply = fieldFlags(fl, orgrel.RelationshipFields)
		wait.register(fl)
	}, func(api admin.API, a *adminFlags, fl *flag.FlagSet, pos []string) error {
		if fl.NFlag() == 0 || fl.NFlag() == 1 && given(fl, "wait") {
			return usageError{"nothing to change: give at least one option"}
		}
		if err := modify(ctx, api, a, stdout, pos[0], "orgrel.set", apply); err != nil {
			return err
		}
		return wait.await(ctx, api, a.output, stdout, stderr)
	})
}

// modify reads a relationship, changes it and writes it back at the
// version read: a concurrent change makes it fail, never vanish.
func modify(ctx context.Context, api admin.API, a *adminFlags, stdout io.Writer, name, action string, change func(*orgrel.Relationship) error) error {
	rel, err := api.Relationship(ctx, name)
	if err != nil {
		return err
	}
	if err := change(&rel); err != nil {
		return err
	}
	updated, err := api.SetRelationship(ctx, actor(), action, rel)
	if err != nil {
		return err
	}
	return printRelationship(ctx, stdout, api, a.output, updated)
}

func runOrgrelEnable(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	return setEnabled(ctx, "orgrel enable", args, stdout, stderr, true)
}

func runOrgrelDisable(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	return setEnabled(ctx, "orgrel disable", args, stdout, stderr, false)
}

func setEnabled(ctx context.Context, name string, args []string, stdout, stderr io.Writer, enabled bool) int {
	var wait applyWait
	return adminCommand(ctx, name, args, stderr, []string{"NAME"}, wait.register, func(api admin.API, a *adminFlags, fl *flag.FlagSet, pos []string) error {
		action := "orgrel.disable"
		if enabled {
			action = "orgrel.enable"
		}
		if err := modify(ctx, api, a, stdout, pos[0], action, func(rel *orgrel.Relationship) error {
			rel.Enabled = enabled
			return nil
		}); err != nil {
			return err
		}
		return wait.await(ctx, api, a.output, stdout, stderr)
	})
}

func runOrgrelRemove(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	var wait applyWait
	return adminCommand(ctx, "orgrel remove", args, stderr, []string{"NAME"}, wait.register, func(api admin.API, a *adminFlags, fl *flag.FlagSet, pos []string) error {
		rel, err := api.Relationship(ctx, pos[0])
		if err != nil {
			return err
		}
		if err := api.RemoveRelationship(ctx, actor(), rel.Name, rel.Version); err != nil {
			return err
		}
		if a.output == "json" {
			printJSON(stdout, map[string]string{"removed": rel.Name})
		} else {
			fmt.Fprintf(stdout, "removed %s (%s) and revoked its service accounts\n", rel.Name, strings.Join(rel.Domains, ", "))
		}
		return wait.await(ctx, api, a.output, stdout, stderr)
	})
}

func runOrgrelList(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	return adminCommand(ctx, "orgrel list", args, stderr, nil, nil, func(api admin.API, a *adminFlags, fl *flag.FlagSet, pos []string) error {
		rels, err := api.Relationships(ctx)
		if err != nil {
			return err
		}
		if a.output == "json" {
			if rels == nil {
				rels = []orgrel.Relationship{}
			}
			printJSON(stdout, rels)
			return nil
		}
		tw := table(stdout)
		fmt.Fprintln(tw, "NAME\tDOMAINS\tENABLED\tFREE/BUSY\tSCOPE\tMAILTIPS\tPARTNER")
		for _, r := range rels {
			fb, mt := "off", "off"
			if r.FreeBusyAccessEnabled {
				fb = r.FreeBusyAccessLevel.String()
			}
			if r.MailTipsAccessEnabled {
				mt = r.MailTipsAccessLevel.String()
			}
			fmt.Fprintf(tw, "%s\t%s\t%v\t%s\t%s\t%s\t%s\n", r.Name, strings.Join(r.Domains, ","), r.Enabled, fb, dash(r.FreeBusyAccessScope), mt, dash(r.Onboarding.PartnerOrganization))
		}
		return tw.Flush()
	})
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func runOrgrelShow(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	return adminCommand(ctx, "orgrel show", args, stderr, []string{"NAME"}, nil, func(api admin.API, a *adminFlags, fl *flag.FlagSet, pos []string) error {
		rel, err := api.Relationship(ctx, pos[0])
		if err != nil {
			return err
		}
		return printRelationship(ctx, stdout, api, a.output, rel)
	})
}

func printRelationship(ctx context.Context, w io.Writer, api admin.API, output string, r orgrel.Relationship) error {
	checks, err := api.DomainChecks(ctx)
	if err != nil {
		return err
	}
	proofs := trust.PartnerProofs(r, checks)
	v := struct {
		orgrel.Relationship
		DomainProofs []trust.PartnerProof `json:"domain_proofs"`
	}{r, proofs}
	return show(w, output, v, func(tw io.Writer) {
		fieldRows(tw, orgrel.RelationshipFields, r)
		for _, p := range proofs {
			line := p.Status
			if p.Checked != nil {
				line += " (checked " + p.Checked.UTC().Format(time.RFC3339) + ")"
			}
			if p.Detail != "" && p.Detail != "-" && p.Status != "pass" {
				line += ": " + p.Detail
			}
			fmt.Fprintf(tw, "Domain proof %s:\t%s\n", p.Domain, line)
		}
	})
}

func runOrgrelExport(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	var file string
	return adminCommand(ctx, "orgrel export", args, stderr, nil, func(fl *flag.FlagSet) {
		fl.StringVar(&file, "f", "", "write to FILE instead of standard output")
	}, func(api admin.API, a *adminFlags, fl *flag.FlagSet, pos []string) error {
		rels, err := api.Relationships(ctx)
		if err != nil {
			return err
		}
		data, err := admin.File{Relationships: rels}.Marshal()
		if err != nil {
			return err
		}
		if file == "" {
			_, err = stdout.Write(data)
			return err
		}
		return os.WriteFile(file, data, 0o600)
	})
}

func runOrgrelApply(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	var file string
	var dryRun, prune bool
	return adminCommand(ctx, "orgrel apply", args, stderr, nil, func(fl *flag.FlagSet) {
		fl.StringVar(&file, "f", "", "YAML file, as orgrel export writes (required; - for standard input)")
		fl.BoolVar(&dryRun, "dry-run", false, "show what would change and change nothing")
		fl.BoolVar(&prune, "prune", false, "also remove relationships the file does not name")
	}, func(api admin.API, a *adminFlags, fl *flag.FlagSet, pos []string) error {
		if file == "" {
			return usageError{"-f FILE is required"}
		}
		var data []byte
		var err error
		if file == "-" {
			data, err = io.ReadAll(os.Stdin)
		} else {
			data, err = os.ReadFile(file)
		}
		if err != nil {
			return err
		}
		f, err := admin.ParseFile(data)
		if err != nil {
			return fmt.Errorf("%s: %w", file, err)
		}
		plan, err := api.Apply(ctx, actor(), f.Relationships, admin.ApplyOptions{DryRun: dryRun, Prune: prune})
		if a.output == "json" {
			printJSON(stdout, plan)
		} else {
			printPlan(stdout, plan, dryRun)
		}
		return err
	})
}

func printPlan(w io.Writer, p admin.Plan, dryRun bool) {
	verb := map[string]string{"create": "created", "update": "updated", "remove": "removed", "unchanged": "unchanged"}
	if dryRun {
		verb = map[string]string{"create": "would create", "update": "would update", "remove": "would remove", "unchanged": "unchanged"}
	}
	sign := map[string]string{"create": "+", "update": "~", "remove": "-", "unchanged": "="}
	for _, s := range p.Steps {
		fmt.Fprintf(w, "%s %s: %s\n", sign[s.Action], s.Name, verb[s.Action])
		for _, c := range s.Changes {
			fmt.Fprintf(w, "    %s: %q -> %q\n", c.Field, c.Old, c.New)
		}
	}
	if !p.Changed() {
		fmt.Fprintln(w, "nothing to change")
	}
}

func runOrgrelPowerShell(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	return adminCommand(ctx, "orgrel powershell", args, stderr, []string{"NAME"}, nil, func(api admin.API, a *adminFlags, fl *flag.FlagSet, pos []string) error {
		rel, err := api.Relationship(ctx, pos[0])
		if err != nil {
			return err
		}
		domains, err := api.Domains(ctx)
		if err != nil {
			return err
		}
		if len(domains) == 0 {
			return errors.New("the directory has no mailboxes, so there is no domain to federate")
		}
		accts, err := api.Accounts(ctx)
		if err != nil {
			return err
		}
		orgrel.WritePowerShell(stdout, rel, domains, accts)
		return nil
	})
}
