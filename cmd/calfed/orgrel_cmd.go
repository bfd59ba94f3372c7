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
	"github.com/calfed/calfed/store"
	"github.com/calfed/calfed/trust"
)

// relFlags are the relationship options, named as Exchange's parameters.
type relFlags struct {
	domains, level, scope, appURI, autodiscover, sharingEPR, contact     string
	enabled, freeBusy, mailTips                                          bool
	mailTipsLevel                                                        string
	partnerOrg, partnerCode, agreement, signatory, spoc, approved, notes string
}

func (r *relFlags) register(fl *flag.FlagSet) {
	fl.StringVar(&r.domains, "domains", "", "Domains: the partner's domains, comma-separated")
	fl.BoolVar(&r.enabled, "enabled", true, "Enabled")
	fl.BoolVar(&r.freeBusy, "free-busy", false, "FreeBusyAccessEnabled (off by default, as Exchange)")
	fl.StringVar(&r.level, "level", "", "FreeBusyAccessLevel: None, AvailabilityOnly (default once -free-busy) or LimitedDetails")
	fl.StringVar(&r.scope, "scope", "", "FreeBusyAccessScope: a group of our mailboxes; empty for all")
	fl.BoolVar(&r.mailTips, "mail-tips", false, "MailTipsAccessEnabled (off by default, as Exchange)")
	fl.StringVar(&r.mailTipsLevel, "mail-tips-level", "", "MailTipsAccessLevel: None, Limited (default once -mail-tips) or All")
	fl.StringVar(&r.appURI, "target-application-uri", "", "TargetApplicationUri")
	fl.StringVar(&r.autodiscover, "target-autodiscover-epr", "", "TargetAutodiscoverEpr")
	fl.StringVar(&r.sharingEPR, "target-sharing-epr", "", "TargetSharingEpr")
	fl.StringVar(&r.contact, "organization-contact", "", "OrganizationContact")
	fl.StringVar(&r.partnerOrg, "partner-organization", "", "onboarding: partner organisation name")
	fl.StringVar(&r.partnerCode, "partner-code", "", "onboarding: partner organisation code")
	fl.StringVar(&r.agreement, "agreement", "", "onboarding: agreement reference")
	fl.StringVar(&r.signatory, "signatory", "", "onboarding: authorised signatory")
	fl.StringVar(&r.spoc, "contact-point", "", "onboarding: single point of contact")
	fl.StringVar(&r.approved, "approved", "", "onboarding: approval date, YYYY-MM-DD or RFC 3339; \"none\" clears it")
	fl.StringVar(&r.notes, "notes", "", "onboarding: notes")
}

// apply copies the flags that were given onto rel.
func (r *relFlags) apply(fl *flag.FlagSet, rel *orgrel.Relationship) error {
	var err error
	set := map[string]bool{}
	fl.Visit(func(f *flag.Flag) { set[f.Name] = true })
	str := func(name string, dst *string, v string) {
		if set[name] {
			*dst = strings.TrimSpace(v)
		}
	}
	if set["domains"] {
		rel.Domains = nil
		for _, d := range strings.Split(r.domains, ",") {
			if d = strings.TrimSpace(d); d != "" {
				rel.Domains = append(rel.Domains, d)
			}
		}
	}
	if set["enabled"] {
		rel.Enabled = r.enabled
	}
	if set["free-busy"] {
		rel.FreeBusyAccessEnabled = r.freeBusy
		if r.freeBusy && !set["level"] && rel.FreeBusyAccessLevel == orgrel.None {
			rel.FreeBusyAccessLevel = orgrel.AvailabilityOnly
		}
	}
	if set["level"] {
		if rel.FreeBusyAccessLevel, err = orgrel.ParseLevel(r.level); err != nil {
			return fmt.Errorf("%w: -level: %v", store.ErrInvalid, err)
		}
	}
	str("scope", &rel.FreeBusyAccessScope, r.scope)
	if set["mail-tips"] {
		rel.MailTipsAccessEnabled = r.mailTips
		if r.mailTips && !set["mail-tips-level"] && rel.MailTipsAccessLevel == orgrel.MailTipsNone {
			rel.MailTipsAccessLevel = orgrel.MailTipsLimited
		}
	}
	if set["mail-tips-level"] {
		if rel.MailTipsAccessLevel, err = orgrel.ParseMailTipsLevel(r.mailTipsLevel); err != nil {
			return fmt.Errorf("%w: -mail-tips-level: %v", store.ErrInvalid, err)
		}
	}
	str("target-application-uri", &rel.TargetApplicationURI, r.appURI)
	str("target-autodiscover-epr", &rel.TargetAutodiscoverEPR, r.autodiscover)
	str("target-sharing-epr", &rel.TargetSharingEPR, r.sharingEPR)
	str("organization-contact", &rel.OrganizationContact, r.contact)
	str("partner-organization", &rel.Onboarding.PartnerOrganization, r.partnerOrg)
	str("partner-code", &rel.Onboarding.PartnerCode, r.partnerCode)
	str("agreement", &rel.Onboarding.AgreementReference, r.agreement)
	str("signatory", &rel.Onboarding.AuthorisedSignatory, r.signatory)
	str("contact-point", &rel.Onboarding.ContactPoint, r.spoc)
	str("notes", &rel.Onboarding.Notes, r.notes)
	if set["approved"] {
		switch v := strings.TrimSpace(r.approved); v {
		case "", "none":
			rel.Onboarding.Approved = nil
		default:
			t, err := time.Parse("2006-01-02", v)
			if err != nil {
				if t, err = time.Parse(time.RFC3339, v); err != nil {
					return fmt.Errorf("%w: -approved: %q is neither YYYY-MM-DD nor RFC 3339", store.ErrInvalid, v)
				}
			}
			t = t.UTC()
			rel.Onboarding.Approved = &t
		}
	}
	return nil
}

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

func runOrgrelNew(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	var rf relFlags
	return adminCommand(ctx, "orgrel new", args, stderr, []string{"NAME"}, rf.register, func(api admin.API, a *adminFlags, fl *flag.FlagSet, pos []string) error {
		rel := orgrel.Relationship{Name: pos[0], Enabled: true}
		if err := rf.apply(fl, &rel); err != nil {
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
	var rf relFlags
	var wait applyWait
	return adminCommand(ctx, "orgrel set", args, stderr, []string{"NAME"}, func(fl *flag.FlagSet) { rf.register(fl); wait.register(fl) }, func(api admin.API, a *adminFlags, fl *flag.FlagSet, pos []string) error {
		given := 0
		fl.Visit(func(f *flag.Flag) {
			if f.Name != "wait" {
				given++
			}
		})
		if given == 0 {
			return usageError{"nothing to change: give at least one option"}
		}
		if err := modify(ctx, api, a, stdout, pos[0], "orgrel.set", func(rel *orgrel.Relationship) error { return rf.apply(fl, rel) }); err != nil {
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
	if output == "json" {
		printJSON(w, struct {
			orgrel.Relationship
			DomainProofs []trust.PartnerProof `json:"domain_proofs"`
		}{r, proofs})
		return nil
	}
	approved := "-"
	if r.Onboarding.Approved != nil {
		approved = r.Onboarding.Approved.Format("2006-01-02")
	}
	tw := table(w)
	for _, row := range [][2]string{
		{"Name", r.Name},
		{"DomainNames", strings.Join(r.Domains, ", ")},
		{"Enabled", fmt.Sprint(r.Enabled)},
		{"FreeBusyAccessEnabled", fmt.Sprint(r.FreeBusyAccessEnabled)},
		{"FreeBusyAccessLevel", r.FreeBusyAccessLevel.String()},
		{"FreeBusyAccessScope", dash(r.FreeBusyAccessScope)},
		{"MailTipsAccessEnabled", fmt.Sprint(r.MailTipsAccessEnabled)},
		{"MailTipsAccessLevel", r.MailTipsAccessLevel.String()},
		{"TargetApplicationUri", dash(r.TargetApplicationURI)},
		{"TargetAutodiscoverEpr", dash(r.TargetAutodiscoverEPR)},
		{"TargetSharingEpr", dash(r.TargetSharingEPR)},
		{"OrganizationContact", dash(r.OrganizationContact)},
		{"Partner organisation", dash(r.Onboarding.PartnerOrganization)},
		{"Partner code", dash(r.Onboarding.PartnerCode)},
		{"Agreement", dash(r.Onboarding.AgreementReference)},
		{"Authorised signatory", dash(r.Onboarding.AuthorisedSignatory)},
		{"Contact point", dash(r.Onboarding.ContactPoint)},
		{"Approved", approved},
		{"Notes", dash(r.Onboarding.Notes)},
		{"Created", r.Created.Format(time.RFC3339)},
		{"Updated", r.Updated.Format(time.RFC3339)},
		{"Version", fmt.Sprint(r.Version)},
	} {
		fmt.Fprintf(tw, "%s:\t%s\n", row[0], row[1])
	}
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
	return tw.Flush()
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
