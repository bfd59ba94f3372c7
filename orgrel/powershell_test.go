package orgrel

import (
	"strings"
	"testing"
)

func TestWritePowerShell(t *testing.T) {
	rel := Relationship{Name: "Trust", Domains: []string{"trust.example"}, Enabled: true,
		FreeBusyAccessEnabled: true, FreeBusyAccessLevel: LimitedDetails}
	accts := []ServiceAccount{{Name: "svc-trust", Relationship: "trust"}, {Name: "svc-other", Relationship: "Other"}}
	var b strings.Builder
	WritePowerShell(&b, rel, []string{"contoso.example", "fabrikam.example"}, accts)
	out := b.String()
	for _, want := range []string{
		`Get-FederationInformation -DomainName contoso.example | New-OrganizationRelationship -Name "contoso.example (calfed)" -Enabled $true -FreeBusyAccessEnabled $true -FreeBusyAccessLevel LimitedDetails`,
		`Set-OrganizationRelationship -Identity "contoso.example (calfed)" -DomainNames contoso.example,fabrikam.example`,
		`Add-AvailabilityAddressSpace -ForestName fabrikam.example -AccessMethod OrgWideFB -UseServiceAccount $false -Credentials (Get-Credential svc-trust)`,
	} {
		if !strings.Contains(out, want+"\n") {
			t.Errorf("missing line %q in:\n%s", want, out)
		}
	}
	if strings.Contains(out, "svc-other") || strings.Contains(out, "DISABLED") {
		t.Errorf("another relationship's account or a false warning:\n%s", out)
	}

	rel.Enabled = false
	b.Reset()
	WritePowerShell(&b, rel, []string{"contoso.example"}, nil)
	out = b.String()
	if !strings.Contains(out, "-FreeBusyAccessLevel None\n") || !strings.Contains(out, "DISABLED") || strings.Contains(out, "Add-AvailabilityAddressSpace") {
		t.Errorf("disabled relationship:\n%s", out)
	}
}
