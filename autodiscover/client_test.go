package autodiscover

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/calfed/calfed/orgrel"
)

// hosts maps host names to loopback test servers, so discovery runs its
// whole order without DNS; unmapped names refuse the connection.
func hostsClient(tlsSrv *httptest.Server, hosts map[string]string) *http.Client {
	tr := tlsSrv.Client().Transport.(*http.Transport).Clone()
	tr.TLSClientConfig.ServerName = "example.com" // the name in httptest's certificate
	tr.DialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
		host, port, _ := net.SplitHostPort(addr)
		target, ok := hosts[host+":"+port]
		if !ok {
			return nil, errors.New("connection refused (test)")
		}
		return (&net.Dialer{}).DialContext(ctx, network, target)
	}
	return &http.Client{Transport: tr}
}

func TestDiscoveryOrder(t *testing.T) {
	trust := &orgrel.Trust{AccountNamespace: "contoso.example", ApplicationURI: "FYDIBOHF25SPDLT.contoso.example",
		Domains:        []string{"contoso.example", "other.example"},
		TokenIssuerURI: "urn:federation:MicrosoftOnline", TokenIssuerEndpoint: "https://login.microsoftonline.com/extSTS.srf", DiscloseAllDomains: true}
	svc := httptest.NewTLSServer(fixture(trust).SOAP(false))
	defer svc.Close()
	probe := httptest.NewServer(Redirect("https://mail.contoso.example"))
	defer probe.Close()
	elsewhere := *trust
	elsewhere.ApplicationURI = "FYDIBOHF25SPDLT.someone-else.example"
	other := httptest.NewTLSServer(fixture(&elsewhere).SOAP(false))
	defer other.Close()
	a := func(s *httptest.Server) string { return strings.TrimPrefix(s.URL, "https://") }

	tests := []struct {
		name     string
		hosts    map[string]string
		epr      string
		domains  string
		warnings int
	}{
		{"step 1, autodiscover.<domain>", map[string]string{"autodiscover.contoso.example:443": a(svc)},
			"https://autodiscover.contoso.example/autodiscover/autodiscover.svc/WSSecurity", "contoso.example", 1},
		{"step 2, <domain>", map[string]string{"contoso.example:443": a(svc), "other.example:443": a(svc)},
			"https://contoso.example/autodiscover/autodiscover.svc/WSSecurity", "contoso.example,other.example", 0},
		{"step 3, the HTTP redirect probe", map[string]string{"autodiscover.contoso.example:80": strings.TrimPrefix(probe.URL, "http://"), "mail.contoso.example:443": a(svc),
			"other.example:443": a(other)},
			"https://mail.contoso.example/autodiscover/autodiscover.svc/WSSecurity", "contoso.example", 1},
	}
	for _, tt := range tests {
		d := &Discoverer{HTTP: hostsClient(svc, tt.hosts)}
		info, err := d.FederationInformation(context.Background(), "contoso.example")
		if err != nil {
			t.Errorf("%s: %v", tt.name, err)
			continue
		}
		if info.TargetAutodiscoverEPR != tt.epr || strings.Join(info.DomainNames, ",") != tt.domains || len(info.Warnings) != tt.warnings ||
			info.TargetApplicationURI != "FYDIBOHF25SPDLT.contoso.example" || info.TokenIssuerURIs[0] != "urn:federation:MicrosoftOnline" {
			t.Errorf("%s: %+v", tt.name, info)
		}
	}
	d := &Discoverer{HTTP: hostsClient(svc, nil)}
	if _, err := d.FederationInformation(context.Background(), "contoso.example"); !errors.Is(err, ErrNoEndpoint) {
		t.Errorf("nothing answers: %v", err)
	}
	d = &Discoverer{HTTP: hostsClient(svc, map[string]string{"autodiscover.fabrikam.example:443": a(svc)})}
	if _, err := d.FederationInformation(context.Background(), "fabrikam.example"); !errors.Is(err, ErrNotFederated) {
		t.Errorf("not ours: %v", err)
	}
}
