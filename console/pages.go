package console

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/calfed/calfed/admin"
	"github.com/calfed/calfed/doctor"
	"github.com/calfed/calfed/orgrel"
	"github.com/calfed/calfed/store"
	"github.com/calfed/calfed/trust"
)

// partnerPage is a partner's page.
type partnerPage struct {
	Rel        orgrel.Relationship
	Fields     []field // the relationship and its onboarding record
	Proofs     []trust.PartnerProof
	Audit      []orgrel.AuditEntry
	Summaries  map[int64]string // each audit entry's change, by ID
	Activity   *PartnerActivity
	Problem    string
	Levels     []string
	TestUser   string
	TestWith   string // the partner's mailbox the test asked about
	TestResult *doctor.Report
}

type field struct{ Label, Value string }

func (h *Handler) loadPartner(ctx context.Context, name string) (partnerPage, error) {
	rel, err := h.opt.API.Relationship(ctx, name)
	if err != nil {
		return partnerPage{}, err
	}
	p := partnerPage{Rel: rel, Summaries: map[int64]string{}}
	for _, f := range orgrel.RelationshipFields {
		if v := f.Get(rel); v != "" {
			p.Fields = append(p.Fields, field{f.Label, v})
		}
	}
	checks, err := h.opt.API.DomainChecks(ctx)
	if err != nil {
		return p, err
	}
	p.Proofs = trust.PartnerProofs(rel, checks)
	entries, err := h.opt.API.Audit(ctx, time.Time{}, 0)
	if err != nil {
		return p, err
	}
	for _, e := range entries {
		if e.Object == "orgrel/"+rel.Name || strings.HasPrefix(e.Object, "orgrel/"+rel.Name+"/") {
			p.Audit = append(p.Audit, e)
			p.Summaries[e.ID] = admin.Summarize(e)
		}
	}
	slices.Reverse(p.Audit) // newest first
	p.Activity, p.Problem = h.activity(ctx, rel.Name)
	for _, l := range []orgrel.Level{orgrel.AvailabilityOnly, orgrel.LimitedDetails, orgrel.None} {
		p.Levels = append(p.Levels, l.String())
	}
	return p, nil
}

func (h *Handler) partner(w http.ResponseWriter, r *http.Request, c caller) {
	p, err := h.loadPartner(r.Context(), r.PathValue("name"))
	if err != nil {
		h.failErr(w, c, err)
		return
	}
	h.render(w, http.StatusOK, "partner", page{Title: p.Rel.Name, CSRF: c.csrf, Actor: c.actor, Notice: h.takeFlash(c), Data: p})
}

// test runs orgrel test from the partner's page and shows its report on
// the page.
func (h *Handler) test(w http.ResponseWriter, r *http.Request, c caller) {
	name := r.PathValue("name")
	o := doctor.RelationshipOptions{Name: name, User: strings.TrimSpace(r.PostFormValue("user")), PartnerUser: strings.TrimSpace(r.PostFormValue("partner_user"))}
	ctx, cancel := context.WithTimeout(r.Context(), h.opt.CheckTimeout)
	defer cancel()
	report := h.opt.Checker.Relationship(ctx, o)
	h.log.Info("console orgrel test", "actor", c.actor, "relationship", name, "passed", report.Passed)
	p, err := h.loadPartner(r.Context(), name)
	if err != nil {
		h.failErr(w, c, err)
		return
	}
	p.TestUser, p.TestWith, p.TestResult = o.User, o.PartnerUser, report
	h.render(w, http.StatusOK, "partner", page{Title: p.Rel.Name, CSRF: c.csrf, Actor: c.actor, Data: p})
}

// change is the confirmed change of a relationship: enable, disable, or
// its free/busy level. Without confirm=yes it shows what would change
// and asks; with it, it makes the change through the admin service, at
// the version the confirmation was asked at, audited as the command
// line's.
func (h *Handler) change(w http.ResponseWriter, r *http.Request, c caller) {
	ctx := r.Context()
	name, what := r.PathValue("name"), r.PostFormValue("change")
	rel, err := h.opt.API.Relationship(ctx, name)
	if err != nil {
		h.failErr(w, c, err)
		return
	}
	var action, question string
	var apply func(*orgrel.Relationship)
	switch what {
	case "enable":
		action, question = "orgrel.enable", fmt.Sprintf("Enable %s? Its partner's users will see our free/busy again, at %s.", rel.Name, rel.FreeBusyAccessLevel)
		apply = func(r *orgrel.Relationship) { r.Enabled = true }
	case "disable":
		action, question = "orgrel.disable", fmt.Sprintf("Disable %s? From now on its partner (%s) sees nothing of our calendars: every request is refused.", rel.Name, strings.Join(rel.Domains, ", "))
		apply = func(r *orgrel.Relationship) { r.Enabled = false }
	case "level":
		level, err := orgrel.ParseLevel(r.PostFormValue("level"))
		if err != nil {
			h.fail(w, c, http.StatusBadRequest, "Level: "+err.Error())
			return
		}
		action, question = "orgrel.set", fmt.Sprintf("Change the free/busy level of %s from %s to %s?", rel.Name, rel.FreeBusyAccessLevel, level)
		apply = func(r *orgrel.Relationship) { r.FreeBusyAccessLevel = level }
	default:
		h.fail(w, c, http.StatusBadRequest, fmt.Sprintf("No such change %q: enable, disable or level.", what))
		return
	}
	if r.PostFormValue("confirm") != "yes" {
		h.render(w, http.StatusOK, "confirm", page{Title: "Confirm", CSRF: c.csrf, Actor: c.actor, Data: struct {
			Rel           orgrel.Relationship
			Question      string
			Change, Level string
			Version       int64
		}{rel, question, what, r.PostFormValue("level"), rel.Version}})
		return
	}
	version, err := strconv.ParseInt(r.PostFormValue("version"), 10, 64)
	if err != nil {
		h.fail(w, c, http.StatusBadRequest, "The confirmation carries no version: go back to the partner's page and start again.")
		return
	}
	_, err = admin.Modify(ctx, h.opt.API, c.actor, action, name, func(cur *orgrel.Relationship) error {
		if cur.Version != version { // what was confirmed is not what is there now
			return fmt.Errorf("%w: %s changed after you were asked to confirm", store.ErrConflict, cur.Name)
		}
		apply(cur)
		return nil
	})
	if err != nil {
		h.failErr(w, c, err)
		return
	}
	h.log.Info("console change", "actor", c.actor, "action", action, "relationship", name)
	// As the command line does, wait for the running servers to put the
	// change in force, and say how far they got.
	msg := fmt.Sprintf("%s %s, audited under your name; ", name, map[string]string{"orgrel.enable": "enabled", "orgrel.disable": "disabled", "orgrel.set": "changed"}[action])
	if a, err := admin.AwaitApplied(ctx, h.opt.API, applyWait); err != nil {
		msg += err.Error()
	} else {
		msg += a.String()
	}
	h.setFlash(c, msg)
	http.Redirect(w, r, "/console/partners/"+url.PathEscape(name), http.StatusSeeOther)
}

// applyWait is how long a change waits for the running servers to apply
// it, as the command line's -wait default.
const applyWait = 10 * time.Second

// domainsPage is the readiness of our own domains.
type domainsPage struct {
	Checks  []orgrel.DomainCheck // the last proof check of each of ours
	Domains []string
	Reports []*doctor.Report
	URL     string
}

func (h *Handler) loadDomains(ctx context.Context) (domainsPage, error) {
	var p domainsPage
	t, err := h.opt.API.Trust(ctx)
	if err != nil && err != store.ErrNotFound {
		return p, err
	}
	p.Domains = t.Domains
	if t.AccountNamespace != "" && !slices.Contains(p.Domains, t.AccountNamespace) {
		p.Domains = append([]string{t.AccountNamespace}, p.Domains...)
	}
	checks, err := h.opt.API.DomainChecks(ctx)
	if err != nil {
		return p, err
	}
	for _, chk := range checks {
		if chk.Kind == orgrel.DomainOurs {
			p.Checks = append(p.Checks, chk)
		}
	}
	return p, nil
}

func (h *Handler) domains(w http.ResponseWriter, r *http.Request, c caller) {
	p, err := h.loadDomains(r.Context())
	if err != nil {
		h.failErr(w, c, err)
		return
	}
	h.render(w, http.StatusOK, "domains", page{Title: "Our domains", CSRF: c.csrf, Actor: c.actor, Data: p})
}

// checkDomain runs doctor on one of our domains, or all of them.
func (h *Handler) checkDomain(w http.ResponseWriter, r *http.Request, c caller) {
	p, err := h.loadDomains(r.Context())
	if err != nil {
		h.failErr(w, c, err)
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), h.opt.CheckTimeout)
	defer cancel()
	p.URL = strings.TrimSpace(r.PostFormValue("url"))
	domains := p.Domains
	if d := r.PostFormValue("domain"); d != "" {
		if !slices.Contains(p.Domains, d) {
			h.fail(w, c, http.StatusBadRequest, fmt.Sprintf("%s is not one of our federated domains.", d))
			return
		}
		domains = []string{d}
	}
	for _, d := range domains {
		p.Reports = append(p.Reports, h.opt.Checker.Domain(ctx, doctor.DomainOptions{Domain: d, AutodiscoverURL: p.URL}))
	}
	if p.Checks, err = h.refreshChecks(r.Context()); err != nil {
		h.failErr(w, c, err)
		return
	}
	h.render(w, http.StatusOK, "domains", page{Title: "Our domains", CSRF: c.csrf, Actor: c.actor, Data: p})
}

// refreshChecks reads our domains' proof checks again: doctor has just
// recorded new ones.
func (h *Handler) refreshChecks(ctx context.Context) ([]orgrel.DomainCheck, error) {
	p, err := h.loadDomains(ctx)
	return p.Checks, err
}
