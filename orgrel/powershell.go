package orgrel

import (
	"fmt"
	"io"
	"strings"

	"github.com/calfed/calfed/internal/shellquote"
)

// WritePowerShell prints what the partner's Exchange administrator runs on
// their side, in the Exchange Management Shell: their organisation
// relationship with us (through the federation gateway) or, when we issued
// them a service account, the cross-forest availability address space.
func WritePowerShell(w io.Writer, rel Relationship, ours []string, accts []ServiceAccount) {
	level := rel.FreeBusyAccessLevel.String()
	if !rel.FreeBusyAccessEnabled || !rel.Enabled {
		level = "None"
	}
	mailTips := DecideMailTips(&rel)
	name := ours[0] + " (calfed)"
	fmt.Fprintf(w, "# For the Exchange administrator of %s (%s), in the Exchange Management Shell.\n", orDash(rel.Onboarding.PartnerOrganization), strings.Join(rel.Domains, ", "))
	fmt.Fprintf(w, "# Organisation relationships must exist on BOTH sides. Ours, %q, decides what\n", rel.Name)
	fmt.Fprintf(w, "# %s may see of %s (%s). Yours lets your users ask us,\n", strings.Join(rel.Domains, ", "), strings.Join(ours, ", "), level)
	fmt.Fprintln(w, "# and decides what we may see of yours; the same access level is shown below.")
	if mailTips != MailTipsNone {
		fmt.Fprintf(w, "# Your senders also get the MailTips of our recipients (%s), so the same is offered back.\n", mailTips)
	}
	if !rel.Enabled {
		fmt.Fprintf(w, "# Our relationship is DISABLED: %s sees nothing until `calfed orgrel enable %s`.\n", strings.Join(rel.Domains, ", "), shellquote.Word(rel.Name))
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "# Through the Microsoft Federation Gateway (both organisations federated):")
	if len(ours) > 0 {
		fmt.Fprintf(w, "Get-FederationInformation -DomainName %s | New-OrganizationRelationship -Name %q -Enabled $true -FreeBusyAccessEnabled $true -FreeBusyAccessLevel %s", ours[0], name, level)
		if mailTips != MailTipsNone {
			fmt.Fprintf(w, " -MailTipsAccessEnabled $true -MailTipsAccessLevel %s", mailTips)
		}
		fmt.Fprintln(w)
	}
	if len(ours) > 1 {
		fmt.Fprintf(w, "Set-OrganizationRelationship -Identity %q -DomainNames %s\n", name, strings.Join(ours, ","))
	}
	var mine []string
	for _, a := range accts {
		if strings.EqualFold(a.Relationship, rel.Name) && a.Revoked == nil {
			mine = append(mine, a.Name)
		}
	}
	if len(mine) > 0 {
		fmt.Fprintln(w)
		fmt.Fprintln(w, "# Or with the service account we issued you (cross-forest availability):")
		for _, d := range ours {
			fmt.Fprintf(w, "Add-AvailabilityAddressSpace -ForestName %s -AccessMethod OrgWideFB -UseServiceAccount $false -Credentials (Get-Credential %s)\n", d, mine[0])
		}
	}
	fmt.Fprintln(w)
	fmt.Fprintf(w, "# Then check from your side: Test-OrganizationRelationship -Identity %q -UserIdentity <a user of yours>\n", name)
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
