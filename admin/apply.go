package admin

import (
	"context"
	"fmt"
	"reflect"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/calfed/calfed/internal/domainname"
	"github.com/calfed/calfed/orgrel"
	"github.com/calfed/calfed/store"
)

// ApplyOptions steer Apply.
type ApplyOptions struct {
	DryRun bool // compute the plan, change nothing
	Prune  bool // remove relationships the file does not name
}

// Plan is what Apply did, or would do.
type Plan struct {
	Steps []Step `json:"steps"`
}

// Step is one relationship's fate.
type Step struct {
	Action  string   `json:"action"` // create, update, remove, unchanged
	Name    string   `json:"name"`
	Changes []Change `json:"changes,omitempty"`
}

// Change is one field's old and new value.
type Change struct {
	Field string `json:"field"`
	Old   string `json:"old"`
	New   string `json:"new"`
}

// Changed reports whether the plan changes anything.
func (p Plan) Changed() bool {
	for _, s := range p.Steps {
		if s.Action != "unchanged" {
			return true
		}
	}
	return false
}

// Apply makes the relationships match want: creates the missing, updates
// the different, leaves the equal alone (so applying a file twice changes
// nothing the second time), and with Prune removes the others. Each
// change is its own audited transaction.
func (s *Service) Apply(ctx context.Context, actor string, want []orgrel.Relationship, opt ApplyOptions) (Plan, error) {
	have, err := s.db.Relationships(ctx)
	if err != nil {
		return Plan{}, err
	}
	byKey := map[string]orgrel.Relationship{}
	for _, r := range have {
		byKey[strings.ToLower(r.Name)] = r
	}
	seen := map[string]bool{}
	var plan Plan
	want = slices.Clone(want)
	for i, w := range want {
		k := strings.ToLower(strings.TrimSpace(w.Name))
		if k == "" {
			return Plan{}, fmt.Errorf("%w: relationships[%d].name: required", store.ErrInvalid, i)
		}
		// Domains in the form the store keeps them, so that the plan
		// compares like with like and names a bad domain before any change.
		doms := make([]string, len(w.Domains))
		for j, d := range w.Domains {
			c, err := domainname.Canonical(strings.TrimSpace(d))
			if err != nil {
				return Plan{}, fmt.Errorf("%w: relationships[%d] (%s).domain_names[%d]: %v", store.ErrInvalid, i, w.Name, j, err)
			}
			doms[j] = c
		}
		w.Domains = doms
		want[i] = w
		if seen[k] {
			return Plan{}, fmt.Errorf("%w: relationships[%d]: %q appears twice", store.ErrInvalid, i, w.Name)
		}
		seen[k] = true
		cur, exists := byKey[k]
		var old *orgrel.Relationship
		if exists {
			old = &cur
		}
		if err := s.check(ctx, w, old); err != nil {
			return Plan{}, fmt.Errorf("relationships[%d] (%s): %w", i, w.Name, err)
		}
		if !exists {
			plan.Steps = append(plan.Steps, Step{Action: "create", Name: w.Name, Changes: diff(orgrel.Relationship{}, w)})
			continue
		}
		w.Name = cur.Name
		ch := diff(cur, w)
		if len(ch) == 0 {
			plan.Steps = append(plan.Steps, Step{Action: "unchanged", Name: cur.Name})
			continue
		}
		plan.Steps = append(plan.Steps, Step{Action: "update", Name: cur.Name, Changes: ch})
	}
	if opt.Prune {
		for _, r := range have {
			if !seen[strings.ToLower(r.Name)] {
				plan.Steps = append(plan.Steps, Step{Action: "remove", Name: r.Name})
			}
		}
	}
	if opt.DryRun {
		return plan, nil
	}
	wantByKey := map[string]orgrel.Relationship{}
	for _, w := range want {
		wantByKey[strings.ToLower(strings.TrimSpace(w.Name))] = w
	}
	for _, st := range plan.Steps {
		k := strings.ToLower(st.Name)
		var err error
		switch st.Action {
		case "create":
			_, err = s.NewRelationship(ctx, actor, wantByKey[k])
		case "update":
			w := wantByKey[k]
			w.Name, w.Version = byKey[k].Name, byKey[k].Version
			_, err = s.db.UpdateRelationship(ctx, actor, "orgrel.apply", w)
		case "remove":
			err = s.db.DeleteRelationship(ctx, actor, st.Name, byKey[k].Version)
		}
		if err != nil {
			return plan, fmt.Errorf("%s %s: %w", st.Action, st.Name, err)
		}
	}
	return plan, nil
}

// diff lists the fields a user sets that differ between a and b.
func diff(a, b orgrel.Relationship) []Change {
	norm := func(r orgrel.Relationship) map[string]string {
		doms := slices.Clone(r.Domains) // canonical: stored, or put so by Apply
		sort.Strings(doms)
		doms = slices.Compact(doms)
		approved := ""
		if r.Onboarding.Approved != nil {
			approved = r.Onboarding.Approved.UTC().Format(time.RFC3339)
		}
		return map[string]string{
			"domain_names":                    strings.Join(doms, ","),
			"enabled":                         fmt.Sprint(r.Enabled),
			"free_busy_access_enabled":        fmt.Sprint(r.FreeBusyAccessEnabled),
			"free_busy_access_level":          r.FreeBusyAccessLevel.String(),
			"free_busy_access_scope":          r.FreeBusyAccessScope,
			"mail_tips_access_enabled":        fmt.Sprint(r.MailTipsAccessEnabled),
			"mail_tips_access_level":          r.MailTipsAccessLevel.String(),
			"target_application_uri":          r.TargetApplicationURI,
			"target_autodiscover_epr":         r.TargetAutodiscoverEPR,
			"target_sharing_epr":              r.TargetSharingEPR,
			"organization_contact":            r.OrganizationContact,
			"onboarding.partner_organization": r.Onboarding.PartnerOrganization,
			"onboarding.partner_code":         r.Onboarding.PartnerCode,
			"onboarding.agreement_reference":  r.Onboarding.AgreementReference,
			"onboarding.authorised_signatory": r.Onboarding.AuthorisedSignatory,
			"onboarding.contact_point":        r.Onboarding.ContactPoint,
			"onboarding.approved":             approved,
			"onboarding.notes":                r.Onboarding.Notes,
		}
	}
	na, nb := norm(a), norm(b)
	if reflect.DeepEqual(na, nb) {
		return nil
	}
	var out []Change
	for k, v := range nb {
		if na[k] != v {
			out = append(out, Change{Field: k, Old: na[k], New: v})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Field < out[j].Field })
	return out
}
