package interop

import (
	"encoding/json"
	"strings"
	"testing"
)

// discovered is what the autodiscover scripts print.
type discovered struct {
	EWSURL      string `json:"ews_url"`
	DisplayName string `json:"display_name"`
	AuthType    string `json:"auth_type"`
	Build       string `json:"build"`
	Version     string `json:"version"`
	EWSVersion  string `json:"ews_version"`
	DomainURL   string `json:"domain_ews_url"`
	DomainVer   string `json:"domain_ews_version"`
	Merged      string `json:"merged"`
}

// Both clients find calfed's EWS URL through Autodiscover — exchangelib
// through POX and through SOAP, ews-javascript-api through SOAP
// GetUserSettings and GetDomainSettings — and then read free/busy there.
func TestClientsDiscoverThenQuery(t *testing.T) {
	requireClients(t)
	s := startDemo(t)
	base := strings.TrimSuffix(s.URL, "/EWS/Exchange.asmx")
	// Alice on Wednesday of the demo week, hourly: the moved stand-up.
	const wantMerged = "000000000020000000000000"
	start, end := "2026-03-25T00:00:00", "2026-03-26T00:00:00"
	parse := func(name string, out []byte) discovered {
		var d discovered
		if err := json.Unmarshal(out, &d); err != nil {
			t.Fatalf("%s output: %v\n%s", name, err, out)
		}
		return d
	}
	for _, mode := range []string{"pox", "soap"} {
		d := parse("exchangelib "+mode, runClient(t, "exchangelib "+mode, []string{debianPy, "python/autodiscover.py", mode, base,
			"svc-partner", demoSecret, "alice@contoso.example", start, end}))
		if d.EWSURL != s.URL || d.DisplayName != "Alice Walker" || d.Merged != wantMerged {
			t.Errorf("exchangelib %s: %+v", mode, d)
		}
		if mode == "pox" && (d.AuthType != "basic" || !strings.HasPrefix(d.Build, "15.1.2507")) {
			t.Errorf("exchangelib pox: auth %q build %q", d.AuthType, d.Build)
		}
		if mode == "soap" && d.Version != "Exchange2016" {
			t.Errorf("exchangelib soap: version %q", d.Version)
		}
	}
	d := parse("ews-javascript-api", runClient(t, "ews-javascript-api", []string{"node", "js/autodiscover.js", base,
		"svc-partner", demoSecret, "alice@contoso.example", start, end}))
	if d.EWSURL != s.URL || d.DomainURL != s.URL || d.DisplayName != "Alice Walker" || d.EWSVersion != "15.01.2507.006" ||
		d.DomainVer != "15.01.2507.006" || d.Merged != wantMerged {
		t.Errorf("ews-javascript-api: %+v", d)
	}
}
