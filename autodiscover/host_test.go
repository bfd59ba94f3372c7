package autodiscover

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/calfed/calfed/internal/identity"
)

func TestPublicHost(t *testing.T) {
	loop := &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 54321}
	tls443 := &net.TCPAddr{IP: net.ParseIP("203.0.113.5"), Port: 443}
	tls8443 := &net.TCPAddr{IP: net.ParseIP("203.0.113.5"), Port: 8443}
	v6 := &net.TCPAddr{IP: net.ParseIP("::1"), Port: 8080}
	mail := []string{"mail.contoso.example", "autodiscover.contoso.example", "*.eu.contoso.example"}
	for _, tt := range []struct {
		name   string
		hosts  []string
		host   string
		local  net.Addr
		scheme string
		want   string
	}{
		// The demo and the interop suite: loopback, a random port, no names.
		{"the address it arrived at", nil, "127.0.0.1:54321", loop, "http", "127.0.0.1:54321"},
		{"a forged host, no names", nil, "evil.example", loop, "http", "127.0.0.1:54321"},
		{"a forged port on our address", nil, "127.0.0.1:1", loop, "http", "127.0.0.1:54321"},
		{"localhost is no name of ours", nil, "localhost:54321", loop, "http", "127.0.0.1:54321"},
		{"IPv6", nil, "[::1]:8080", v6, "http", "[::1]:8080"},
		{"IPv6, forged", nil, "evil.example:8080", v6, "http", "[::1]:8080"},
		// Names of ours, from public_hosts or the certificate.
		{"one of our names", mail, "mail.contoso.example", tls443, "https", "mail.contoso.example"},
		{"another, in another case, with a dot", mail, "AutoDiscover.Contoso.Example.", tls443, "https", "autodiscover.contoso.example"},
		{"a wildcard's name", mail, "mail.eu.contoso.example", tls443, "https", "mail.eu.contoso.example"},
		{"two labels under a wildcard", mail, "a.mail.eu.contoso.example", tls443, "https", "mail.contoso.example"},
		{"our name with the port it came to", mail, "mail.contoso.example:8443", tls8443, "https", "mail.contoso.example:8443"},
		{"our name with another port", mail, "mail.contoso.example:1234", tls8443, "https", "mail.contoso.example:8443"},
		{"our name without a port, behind a port forward", mail, "mail.contoso.example", tls8443, "https", "mail.contoso.example"},
		{"a forged host", mail, "evil.example", tls443, "https", "mail.contoso.example"},
		{"a forged host with a port", mail, "evil.example:443", tls443, "https", "mail.contoso.example"},
		{"a forged host, a non-default port", mail, "evil.example", tls8443, "https", "mail.contoso.example:8443"},
		{"a look-alike of our name", mail, "mail.\u212Aontoso.example", tls443, "https", "mail.contoso.example"},
		{"our address by IP", mail, "203.0.113.5", tls443, "https", "203.0.113.5"},
		{"another IP", mail, "198.51.100.7", tls443, "https", "mail.contoso.example"},
		{"junk", mail, "mail.contoso.example/evil?", tls443, "https", "mail.contoso.example"},
		{"empty", mail, "", tls443, "https", "mail.contoso.example"},
		{"only a wildcard", []string{"*.contoso.example"}, "evil.example", tls443, "https", "203.0.113.5"},
		{"no address known, no names", nil, "evil.example", nil, "http", "localhost"},
	} {
		if got := publicHost(tt.hosts, tt.host, tt.local, tt.scheme); got != tt.want {
			t.Errorf("%s: publicHost(%q, %v) = %q, want %q", tt.name, tt.host, tt.local, got, tt.want)
		}
	}
}

// A forged Host header appears in no answer: not in POX, JSON or SOAP
// Autodiscover's URLs.
func TestForgedHostNeverEchoed(t *testing.T) {
	h := fixture(docsTrust)
	h.opt.PublicURL = ""
	local := &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 54321}
	serve := func(handler http.Handler, method, path, body, host string) string {
		req := httptest.NewRequest(method, path, strings.NewReader(body))
		req.Host = host
		req = req.WithContext(context.WithValue(req.Context(), http.LocalAddrContextKey, local))
		if strings.HasPrefix(body, "<s:") {
			req.Header.Set("Content-Type", "text/xml; charset=utf-8")
		}
		req = req.WithContext(identity.NewContext(req.Context(), partner))
		rec := httptest.NewRecorder()
		handler.ServeHTTP(rec, req)
		return rec.Body.String()
	}
	gus := `<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body><GetUserSettingsRequestMessage xmlns="http://schemas.microsoft.com/exchange/2010/Autodiscover"><Request><Users><User><Mailbox>bob@fabrikam.example</Mailbox></User></Users><RequestedSettings><Setting>ExternalEwsUrl</Setting><Setting>InternalEwsUrl</Setting></RequestedSettings></Request></GetUserSettingsRequestMessage></s:Body></s:Envelope>`
	gds := `<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body><GetDomainSettingsRequestMessage xmlns="http://schemas.microsoft.com/exchange/2010/Autodiscover"><Request><Domains><Domain>fabrikam.example</Domain></Domains><RequestedSettings><Setting>ExternalEwsUrl</Setting></RequestedSettings></Request></GetDomainSettingsRequestMessage></s:Body></s:Envelope>`
	for _, hosts := range [][]string{nil, {"mail.fabrikam.example"}} {
		h := New(Options{Directory: h.opt.Directory, Access: h.opt.Access, Trust: h.opt.Trust, Relationship: h.opt.Relationship, PublicHosts: hosts})
		want := "http://127.0.0.1:54321/EWS/Exchange.asmx"
		if hosts != nil {
			want = "http://mail.fabrikam.example:54321/EWS/Exchange.asmx"
		}
		for name, body := range map[string]string{
			"POX":               serve(h.POX(), "POST", "/autodiscover/autodiscover.xml", pox("bob@fabrikam.example", nsPOXOutlook), "evil.example"),
			"JSON":              serve(h.JSON(func(*http.Request) string { return "bob@fabrikam.example" }), "GET", "/autodiscover/autodiscover.json/v1.0/bob@fabrikam.example?Protocol=EWS", "", "evil.example:8080"),
			"GetUserSettings":   serve(h.SOAP(false), "POST", "/autodiscover/autodiscover.svc", gus, "evil.example"),
			"GetDomainSettings": serve(h.SOAP(false), "POST", "/autodiscover/autodiscover.svc", gds, "127.0.0.1:54321@evil.example"),
		} {
			if strings.Contains(body, "evil") || !strings.Contains(body, want) {
				t.Errorf("%v %s: the answer does not say %s, or echoes the forged host:\n%s", hosts, name, want, body)
			}
		}
		// Our own address, or name, is used as it was asked for.
		if body := serve(h.POX(), "POST", "/autodiscover/autodiscover.xml", pox("bob@fabrikam.example", nsPOXOutlook), "127.0.0.1:54321"); !strings.Contains(body, "http://127.0.0.1:54321/EWS/Exchange.asmx") {
			t.Errorf("%v: our address:\n%s", hosts, body)
		}
	}
}
