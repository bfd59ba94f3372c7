package admin

import (
	"context"
	"errors"
	"fmt"
	"io"
	"reflect"
	"slices"
	"strings"
	"time"

	"github.com/calfed/calfed/internal/shellquote"
	"github.com/calfed/calfed/internal/suggest"
	"github.com/calfed/calfed/orgrel"
	"github.com/calfed/calfed/store"
)

// The operations below read a record through an API and write it back at
// the version they read, so that a change made meanwhile makes them fail
// (store.ErrConflict) rather than be lost.

// Modify reads relationship name, lets change alter it and writes it back,
// audited as action; a change that alters nothing writes nothing.
func Modify(ctx context.Context, api API, actor, action, name string, change func(*orgrel.Relationship) error) (orgrel.Relationship, error) {
	rel, err := FindRelationship(ctx, api, name)
	if err != nil {
		return orgrel.Relationship{}, err
	}
	before := rel
	before.Domains = slices.Clone(rel.Domains)
	if err := change(&rel); err != nil {
		return orgrel.Relationship{}, err
	}
	if reflect.DeepEqual(before, rel) {
		return rel, nil // nothing to write, nor to audit
	}
	return api.SetRelationship(ctx, actor, action, rel)
}

// Remove removes relationship name, revoking its service accounts, and
// returns it as it was.
func Remove(ctx context.Context, api API, actor, name string) (orgrel.Relationship, error) {
	rel, err := FindRelationship(ctx, api, name)
	if err != nil {
		return orgrel.Relationship{}, err
	}
	return rel, api.RemoveRelationship(ctx, actor, rel.Name, rel.Version)
}

// Share records a mailbox's choice of external sharing.
func Share(ctx context.Context, api API, actor, address string, level orgrel.Level) (MailboxSharing, error) {
	cur, err := api.Mailbox(ctx, address)
	if err != nil {
		return MailboxSharing{}, err
	}
	return api.ShareMailbox(ctx, actor, address, level, cur.Version)
}

// RotateAccount gives service account name (FindAccount) a new secret,
// which it returns; the previous secret is still accepted for overlap.
func RotateAccount(ctx context.Context, api API, actor, name string, overlap time.Duration) (orgrel.ServiceAccount, string, error) {
	cur, err := FindAccount(ctx, api, name)
	if err != nil {
		return orgrel.ServiceAccount{}, "", err
	}
	return api.RotateAccount(ctx, actor, cur.Name, overlap, cur.Version)
}

// RevokeAccount revokes service account name (FindAccount) for good.
func RevokeAccount(ctx context.Context, api API, actor, name string) (orgrel.ServiceAccount, error) {
	cur, err := FindAccount(ctx, api, name)
	if err != nil {
		return orgrel.ServiceAccount{}, err
	}
	return api.RevokeAccount(ctx, actor, cur.Name, cur.Version)
}

// AwaitApplied waits up to wait for every running server to put the
// changes made so far in force (WaitApplied); a server that has not is
// ErrNotApplied, naming it.
func AwaitApplied(ctx context.Context, api API, wait time.Duration) (Applied, error) {
	a, err := api.WaitApplied(ctx, 0, wait)
	if err != nil {
		return a, fmt.Errorf("the change is saved; finding out whether the servers applied it: %w", err)
	}
	if !a.Done() {
		return a, fmt.Errorf("%w: %s", ErrNotApplied, a)
	}
	return a, nil
}

// FindAccount returns the service account called name, whose case does
// not matter; store.ErrNotFound when there is none.
func FindAccount(ctx context.Context, api API, name string) (orgrel.ServiceAccount, error) {
	accts, err := api.Accounts(ctx)
	if err != nil {
		return orgrel.ServiceAccount{}, err
	}
	for _, a := range accts {
		if strings.EqualFold(a.Name, name) {
			return a, nil
		}
	}
	names := make([]string, len(accts))
	for i, a := range accts {
		names[i] = a.Name
	}
	return orgrel.ServiceAccount{}, fmt.Errorf("%w: service account %q%s", store.ErrNotFound, name, didYouMean(name, names))
}

// FindRelationship is the relationship name names; one that is not there
// is store.ErrNotFound suggesting the name nearest to it, or the
// relationship whose domain it is.
func FindRelationship(ctx context.Context, api API, name string) (orgrel.Relationship, error) {
	rel, err := api.Relationship(ctx, name)
	if !errors.Is(err, store.ErrNotFound) {
		return rel, err
	}
	rels, lerr := api.Relationships(ctx)
	if lerr != nil {
		return rel, err
	}
	var names []string
	for _, r := range rels {
		if slices.ContainsFunc(r.Domains, func(d string) bool { return strings.EqualFold(d, strings.TrimSpace(name)) }) {
			return rel, fmt.Errorf("%w; %s is a domain of %s, name that", err, name, shellquote.Word(r.Name))
		}
		names = append(names, r.Name)
	}
	return rel, fmt.Errorf("%w%s", err, didYouMean(name, names))
}

// didYouMean is "; did you mean NAME?" for the name nearest to name, as
// the shell takes it, or "".
func didYouMean(name string, names []string) string {
	if s := suggest.Closest(name, names); s != "" {
		return "; did you mean " + shellquote.Word(s) + "?"
	}
	return ""
}

// PowerShell writes what the partner of relationship name runs on their
// side (orgrel.WritePowerShell), naming our domains and the service
// accounts issued to them. Without a mailbox there is no domain of ours
// to federate.
func PowerShell(ctx context.Context, api API, w io.Writer, name string) error {
	rel, err := FindRelationship(ctx, api, name)
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
	orgrel.WritePowerShell(w, rel, domains, accts)
	return nil
}

// WritePlan prints what Apply did, or with dryRun would do: a line per
// relationship, then each changed field with its old and new value.
func WritePlan(w io.Writer, p Plan, dryRun bool) {
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
