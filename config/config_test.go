package config

import (
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"net/netip"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/calfed/calfed/certs"
	"github.com/calfed/calfed/internal/httpauth"
)

func TestParseIsStrict(t *testing.T) {
	if _, err := Parse([]byte("listn: 127.0.0.1:1\n")); err == nil {
		t.Error("Parse accepted an unknown field")
	}
	c, err := Parse([]byte("listen: 127.0.0.1:1\ncalendars:\n  reload_interval: 5s\n"))
	if err != nil || c.Listen != "127.0.0.1:1" || c.Calendars.ReloadInterval != Duration(5e9) {
		t.Errorf("Parse = %+v, %v", c, err)
	}
	if _, err := Parse([]byte("calendars:\n  reload_interval: -5s\n")); err == nil {
		t.Error("Parse accepted a negative duration")
	}
}

// Build reports every problem at once, each with the field it is in.
func TestBuildReportsEveryProblem(t *testing.T) {
	c, err := Parse([]byte(`
mailboxes:
  - address: not-an-address
    calendar: a.ics
  - address: bob@example.org
    kind: castle
    time_zone: Mars/Olympus
    external_sharing: Everything
    working_hours: {start: "17:00", end: "09:00"}
store: {driver: oracle}
public_url: ftp://x
tls: {cert_file: only-cert.pem}
auth: {trusted_proxies: [10.0.0.0/8, the-load-balancer]}
outbound: {proxy: "proxy.internal:3128", no_proxy: ["10.0.0.0/33"]}
`))
	if err != nil {
		t.Fatal(err)
	}
	c.Dir = t.TempDir()
	_, err = c.Build()
	if err == nil {
		t.Fatal("Build accepted an invalid configuration")
	}
	for _, field := range []string{"mailboxes[0].address", "mailboxes[1] (bob@example.org).calendar", ".kind", ".time_zone",
		".external_sharing", ".working_hours", "store.driver", "public_url", "tls: cert_file and key_file", "auth.trusted_proxies", "outbound.proxy", "outbound.no_proxy[0]"} {
		if !strings.Contains(err.Error(), field) {
			t.Errorf("Build error does not name %s:\n%v", field, err)
		}
	}
}

func TestPaths(t *testing.T) {
	c := &Config{Dir: "/etc/calfed"}
	if got := c.StoreConfig(); got.Driver != "sqlite" || got.DSN != filepath.Join("/etc/calfed", "data", "calfed.db") {
		t.Errorf("StoreConfig() = %+v", got)
	}
	if got := string(c.Keys()); got != "/etc/calfed/data/keys" {
		t.Errorf("Keys() = %s", got)
	}
	if got := c.StoreLocation(); got != "/etc/calfed/data/calfed.db" {
		t.Errorf("StoreLocation() = %s", got)
	}
	pg := &Config{}
	pg.Store.Driver, pg.Store.DSN = "postgres", "postgres://calfed:s3cret@db.internal/calfed"
	if got := pg.StoreLocation(); got != "(postgres://calfed:***@db.internal/calfed)" {
		t.Errorf("StoreLocation() = %s, want the password hidden", got)
	}
	c.DataDir = "/var/lib/calfed"
	if got := c.Path("x.ics"); got != "/etc/calfed/x.ics" {
		t.Errorf("Path(x.ics) = %s", got)
	}
	if got := string(c.Keys()); got != "/var/lib/calfed/keys" {
		t.Errorf("Keys() with data_dir = %s", got)
	}
}

func TestHardening(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "a.ics"), []byte("BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "admin.token"), []byte(strings.Repeat("t", 40)), 0o600)
	c0, _ := certs.Generate("mail.contoso.example", time.Now())
	other, _ := certs.Generate("other", time.Now())
	key, _ := x509.MarshalPKCS8PrivateKey(c0.Key)
	os.WriteFile(filepath.Join(dir, "tls.crt"), pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c0.Cert.Raw}), 0o644)
	os.WriteFile(filepath.Join(dir, "other.crt"), pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: other.Cert.Raw}), 0o644)
	os.WriteFile(filepath.Join(dir, "tls.key"), pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: key}), 0o600)
	os.WriteFile(filepath.Join(dir, "open.key"), pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: key}), 0o644)
	base := "mailboxes: [{address: a@example.org, calendar: a.ics}]\n"
	tests := []struct {
		name, yaml, wantErr, wantWarn string
	}{
		{"loopback admin", base + "admin: {token_file: admin.token}\n", "", ""},
		{"remote admin over plain HTTP", base + "admin: {token_file: admin.token, listen: '0.0.0.0:8081'}\n", "admin.listen: 0.0.0.0:8081 is not a loopback address", ""},
		{"remote admin, risk accepted", base + "admin: {token_file: admin.token, listen: '10.0.0.5:8081', insecure_listen: true}\n", "", ""},
		{"admin on the public listener", base + "listen: '127.0.0.1:8443'\nadmin: {token_file: admin.token, listen: '127.0.0.1:8443'}\n", "is the public listener's address", ""},
		{"both on a free port of their own", base + "listen: '127.0.0.1:0'\nadmin: {token_file: admin.token, listen: '127.0.0.1:0'}\n", "", ""},
		{"public listener everywhere, admin loopback same port", base + "listen: ':9000'\npublic_url: https://mail.example.org\nadmin: {token_file: admin.token, listen: '127.0.0.1:9000'}\n", "is the public listener's address", ""},
		{"key readable by others", base + "tls: {cert_file: tls.crt, key_file: open.key}\n", "tls.key_file: " + filepath.Join(dir, "open.key") + " is readable or writable by others (mode -rw-r--r--); chmod 600 it", ""},
		{"key of another certificate", base + "tls: {cert_file: other.crt, key_file: tls.key}\n", "is not the key of the certificate in tls.cert_file", ""},
		{"key file holding a certificate", base + "tls: {cert_file: tls.crt, key_file: tls.crt}\n", "tls.crt holds a certificate, not a private key", ""},
		{"missing certificate", base + "tls: {cert_file: nope.crt, key_file: tls.key}\n", "line 2: tls.cert_file: " + filepath.Join(dir, "nope.crt") + " does not exist", ""},
		{"missing key", base + "tls: {cert_file: tls.crt, key_file: nope.key}\n", "tls.key_file: " + filepath.Join(dir, "nope.key") + " does not exist", ""},
		{"certificate file holding a key", base + "tls: {cert_file: tls.key, key_file: tls.key}\n", "tls.cert_file: " + filepath.Join(dir, "tls.key") + " holds no PEM certificate", ""},
		{"listen without a port", base + "listen: '8080'\n", `line 2: listen: "8080" is not an address to listen on`, ""},
		{"resolver without a port", base + "dns: {resolvers: [10.0.0.53]}\n", `dns.resolvers[0]: "10.0.0.53" is not host:port`, ""},
		{"good pair", base + "tls: {cert_file: tls.crt, key_file: tls.key}\n", "", ""},
		{"public without public_url", base + "listen: '0.0.0.0:443'\n", "", "public_url is not set"},
		{"public without public_url, named", base + "listen: '0.0.0.0:443'\npublic_hosts: [Mail.Contoso.Example]\n", "", "(mail.contoso.example; or the address the request arrived at), otherwise from mail.contoso.example"},
		{"public_hosts that are not host names", base + "public_hosts: ['https://mail.contoso.example', 'mail.contoso.example:443']\n", "public_hosts[0]", ""},
		{"a public_hosts port", base + "public_hosts: ['mail.contoso.example:443']\n", "public_hosts[0]", ""},
	}
	for _, tt := range tests {
		c, err := Parse([]byte(tt.yaml))
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		c.Dir = dir
		b, err := c.Build()
		switch {
		case tt.wantErr == "" && err != nil:
			t.Errorf("%s: Build: %v", tt.name, err)
		case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
			t.Errorf("%s: Build err = %v, want it to say %q", tt.name, err, tt.wantErr)
		case err == nil && tt.wantWarn != "" && !strings.Contains(strings.Join(b.Warnings, "\n"), tt.wantWarn):
			t.Errorf("%s: warnings %q, want %q", tt.name, b.Warnings, tt.wantWarn)
		case err == nil && tt.wantWarn == "" && len(b.Warnings) > 0:
			t.Errorf("%s: unexpected warnings %q", tt.name, b.Warnings)
		}
	}
}

func TestOpenStoreCreatesAPrivateDatabase(t *testing.T) {
	c := &Config{Dir: t.TempDir()}
	db, err := c.OpenStore(t.Context(), nil)
	if err != nil {
		t.Fatal(err)
	}
	db.Close()
	fi, err := os.Stat(c.StoreConfig().DSN)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("calfed.db: %v, mode %v; want 0600", err, fi.Mode().Perm())
	}
}

// Token reuse is accepted by default; refuse_token_reuse refuses it, and
// the deprecated allow_token_reuse is still read: false refuses (as it
// did), true changes nothing, both with a deprecation.
func TestTokenReuseSettings(t *testing.T) {
	for _, tt := range []struct {
		yaml       string
		refuse     bool
		deprecated bool
		invalid    bool
	}{
		{"", false, false, false},
		{"refuse_token_reuse: true", true, false, false},
		{"allow_token_reuse: true", false, true, false},
		{"allow_token_reuse: false", true, true, false},
		{"{refuse_token_reuse: true, allow_token_reuse: true}", true, true, true},
		{"token_cache_entries: -1", false, true, true},
	} {
		data := "mailboxes:\n  - address: a@example.org\n    calendar: a.ics\n"
		if tt.yaml != "" {
			y := tt.yaml
			if !strings.HasPrefix(y, "{") {
				y = "{" + y + "}"
			}
			data += "federation: " + y + "\n"
		}
		cfg, err := Parse([]byte(data))
		if err != nil {
			t.Fatalf("%q: %v", tt.yaml, err)
		}
		if got := cfg.RefuseTokenReuse(); got != tt.refuse {
			t.Errorf("%q: RefuseTokenReuse() = %v, want %v", tt.yaml, got, tt.refuse)
		}
		if got := len(cfg.Deprecations()) > 0; got != tt.deprecated {
			t.Errorf("%q: Deprecations() = %q", tt.yaml, cfg.Deprecations())
		}
		cfg.Dir = t.TempDir()
		_, err = cfg.Build()
		if bad := err != nil && strings.Contains(err.Error(), "federation"); bad != tt.invalid {
			t.Errorf("%q: Build() = %v, want a federation problem: %v", tt.yaml, err, tt.invalid)
		}
	}
}

// The token cache's bounds are in limits; federation.token_cache_entries
// is still read, as deprecated, and may not contradict them.
func TestTokenCacheLimits(t *testing.T) {
	for _, tt := range []struct {
		yaml           string
		entries, bytes int
		deprecated     bool
		invalid        string // what the error names
	}{
		{"", 0, 0, false, ""},
		{"limits: {token_cache_entries: 500, token_cache_bytes: 1048576}", 500, 1 << 20, false, ""},
		{"federation: {token_cache_entries: 300}", 300, 0, true, ""},
		{"federation: {token_cache_entries: 300}\nlimits: {token_cache_entries: 300}", 300, 0, true, ""},
		{"federation: {token_cache_entries: 300}\nlimits: {token_cache_entries: 500}", 500, 0, true, "federation.token_cache_entries: 300 contradicts limits.token_cache_entries"},
		{"limits: {token_cache_entries: -1}", -1, 0, false, "limits.token_cache_entries"},
		{"limits: {token_cache_bytes: -1}", 0, -1, false, "limits.token_cache_bytes"},
	} {
		data := "mailboxes:\n  - address: a@example.org\n    calendar: /dev/null\n" + tt.yaml + "\n"
		cfg, err := Parse([]byte(data))
		if err != nil {
			t.Fatalf("%q: %v", tt.yaml, err)
		}
		if e, b := cfg.TokenCache(); e != tt.entries || b != tt.bytes {
			t.Errorf("%q: TokenCache() = %d, %d, want %d, %d", tt.yaml, e, b, tt.entries, tt.bytes)
		}
		if got := len(cfg.Deprecations()) > 0; got != tt.deprecated {
			t.Errorf("%q: Deprecations() = %q", tt.yaml, cfg.Deprecations())
		}
		cfg.Dir = t.TempDir()
		_, err = cfg.Build()
		if (err != nil) != (tt.invalid != "") || (err != nil && !strings.Contains(err.Error(), tt.invalid)) {
			t.Errorf("%q: Build() = %v, want an error naming %q", tt.yaml, err, tt.invalid)
		}
	}
}

// The memory limit is a positive number of bytes, or left out.
func TestMemoryLimit(t *testing.T) {
	for _, tt := range []struct {
		yaml    string
		want    int64
		invalid bool
	}{
		{"", 0, false},
		{"limits: {memory_limit_bytes: 1073741824}", 1 << 30, false},
		{"limits: {memory_limit_bytes: -1}", -1, true},
	} {
		cfg, err := Parse([]byte("mailboxes:\n  - address: a@example.org\n    calendar: /dev/null\n" + tt.yaml + "\n"))
		if err != nil {
			t.Fatalf("%q: %v", tt.yaml, err)
		}
		if got := cfg.Limits.MemoryLimitBytes; got != tt.want {
			t.Errorf("%q: MemoryLimitBytes = %d, want %d", tt.yaml, got, tt.want)
		}
		cfg.Dir = t.TempDir()
		_, err = cfg.Build()
		if (err != nil) != tt.invalid || err != nil && !strings.Contains(err.Error(), "limits.memory_limit_bytes") {
			t.Errorf("%q: Build() = %v, want an error naming limits.memory_limit_bytes: %v", tt.yaml, err, tt.invalid)
		}
	}
}

func TestAutoReplyAndMailTip(t *testing.T) {
	dir := t.TempDir()
	c, err := Parse([]byte(`
mailboxes:
  - address: bob@example.org
    calendar: /dev/null
    auto_reply: {message: " Away until Monday. ", start: "2026-03-26T00:00:00Z", end: "2026-03-28T00:00:00Z"}
    mail_tip: Ask the service desk instead.
  - address: eve@example.org
    calendar: /dev/null
    auto_reply: {message: "", start: "yesterday", end: "2026-01-01T00:00:00Z"}
  - address: zed@example.org
    calendar: /dev/null
    auto_reply: {message: "x", start: "2026-03-28T00:00:00Z", end: "2026-03-26T00:00:00Z"}
`))
	if err != nil {
		t.Fatal(err)
	}
	c.Dir = dir
	_, err = c.Build()
	for _, field := range []string{"(eve@example.org).auto_reply.message", "(eve@example.org).auto_reply.start", "(zed@example.org).auto_reply.end"} {
		if err == nil || !strings.Contains(err.Error(), field) {
			t.Errorf("Build error does not name %s:\n%v", field, err)
		}
	}
	c.Mailboxes = c.Mailboxes[:1]
	b, err := c.Build()
	if err != nil {
		t.Fatal(err)
	}
	mb := b.Entries[0].Mailbox
	if mb.AutoReply == nil || mb.AutoReply.Message != "Away until Monday." || mb.AutoReply.Start.Day() != 26 || mb.AutoReply.End.Day() != 28 ||
		mb.MailTip != "Ask the service desk instead." {
		t.Errorf("Build: %+v %+v", mb, mb.AutoReply)
	}
}

func TestAuth(t *testing.T) {
	c, err := Parse([]byte("auth:\n  max_failures: 3\n  lockout: 2s\n  max_lockout: 1h\n  trusted_proxies: [10.0.0.0/8, 192.0.2.7, \"2001:db8::/32\"]\n  per_source: 2\n"))
	if err != nil {
		t.Fatal(err)
	}
	l := c.AuthLimits()
	if l.MaxFailures != 3 || l.Lockout != 2*time.Second || l.MaxLockout != time.Hour || l.Window != 0 {
		t.Errorf("AuthLimits() = %+v", l)
	}
	want := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("192.0.2.7/32"), netip.MustParsePrefix("2001:db8::/32")}
	if got := c.AuthSources().TrustedProxies; !slices.Equal(got, want) {
		t.Errorf("AuthSources().TrustedProxies = %v, want %v", got, want)
	}
	if v := c.Verifier(); v.PerSource != 2 || v.Workers != 0 {
		t.Errorf("Verifier() = %+v", v)
	}
	// Unset, everything takes the package defaults, and no proxy is trusted.
	var d Config
	if l, s := d.AuthLimits(), d.AuthSources(); !reflect.DeepEqual(l, httpauth.LimitOptions{}) || len(s.TrustedProxies) != 0 {
		t.Errorf("zero config: %+v, %+v", l, s)
	}
}

// The store's heartbeat and the policy's age bound: defaults, and a bound
// too short for the heartbeat is refused, naming the field.
func TestPolicyAge(t *testing.T) {
	tests := []struct {
		yaml           string
		heartbeat, age time.Duration
		err            string
	}{
		{"", 5 * time.Second, 2 * time.Minute, ""},
		{"store: {heartbeat: 1s, max_policy_age: 3s}", time.Second, 3 * time.Second, ""},
		{"store: {max_policy_age: 10s}", 5 * time.Second, 10 * time.Second, "store.max_policy_age: 10s is less than three heartbeats (store.heartbeat 5s)"},
		{"store: {heartbeat: 1m}", time.Minute, 2 * time.Minute, "raise it to at least 3m0s"},
	}
	for _, tt := range tests {
		c, err := Parse([]byte(tt.yaml + "\nmailboxes: [{address: a@example.org, calendar: a.ics}]\n"))
		if err != nil {
			t.Fatal(err)
		}
		c.Dir = t.TempDir()
		os.WriteFile(filepath.Join(c.Dir, "a.ics"), []byte("BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n"), 0o644)
		_, err = c.Build()
		if time.Duration(c.Store.Heartbeat) != tt.heartbeat || time.Duration(c.Store.MaxPolicyAge) != tt.age ||
			(tt.err == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), tt.err)) {
			t.Errorf("%q: heartbeat %v, max age %v, %v; want %v, %v, %q", tt.yaml, time.Duration(c.Store.Heartbeat), time.Duration(c.Store.MaxPolicyAge), err, tt.heartbeat, tt.age, tt.err)
		}
	}
}

// Addresses and domains are read in their canonical form
// (internal/domainname); one with none is refused, naming its field.
func TestCanonicalNames(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "a.ics"), []byte("BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n"), 0o644)
	c, err := Parse([]byte(`
mailboxes:
  - {address: Kim@Bücher.example, calendar: a.ics, external_sharing: None}
  - {address: Jürgen@contoso.example, calendar: a.ics}
autodiscover:
  redirect_addresses: {Old@Bücher.example: new@bücher.example}
tls: {acme: {hosts: [mail.bücher.example]}}
`))
	if err != nil {
		t.Fatal(err)
	}
	c.Dir = dir
	b, err := c.Build()
	if err != nil {
		t.Fatal(err)
	}
	if got := b.Entries[0].Mailbox.Address; got != "kim@xn--bcher-kva.example" {
		t.Errorf("address kept as %q", got)
	}
	if got := b.Entries[1].Mailbox.Address; got != "jürgen@contoso.example" {
		t.Errorf("address kept as %q", got)
	}
	if l, ok := b.Sharing["kim@xn--bcher-kva.example"]; !ok || l.String() != "None" {
		t.Errorf("sharing %v", b.Sharing)
	}
	if got := c.RedirectAddresses(); got["old@xn--bcher-kva.example"] != "new@bücher.example" || len(got) != 1 {
		t.Errorf("RedirectAddresses() = %v", got)
	}
	for _, tt := range []struct{ yaml, field string }{
		{"mailboxes: [{address: kim@\u212Aelvin.example, calendar: a.ics}]\n", "mailboxes[0].address"},
		{"mailboxes: [{address: kim@contoso..example, calendar: a.ics}]\n", "mailboxes[0].address"},
		{"mailboxes: [{address: Kim@bücher.example, calendar: a.ics}, {address: kim@xn--bcher-kva.example, calendar: a.ics}]\n", "mailboxes[1] (kim@xn--bcher-kva.example).address: also used by mailboxes[0]"},
		{"mailboxes: [{address: a@contoso.example, calendar: a.ics}]\nautodiscover: {redirect_addresses: {old@\u212Aelvin.example: a@contoso.example}}\n", "autodiscover.redirect_addresses"},
		{"mailboxes: [{address: a@contoso.example, calendar: a.ics}]\nautodiscover: {redirect_addresses: {Old@contoso.example: a@contoso.example, old@contoso.example: a@contoso.example}}\n", "are the same address"},
		{"mailboxes: [{address: a@contoso.example, calendar: a.ics}]\ntls: {acme: {hosts: [mail_1.contoso.example]}}\n", "tls.acme.hosts[0]"},
	} {
		c, err := Parse([]byte(tt.yaml))
		if err != nil {
			t.Fatal(err)
		}
		c.Dir = dir
		if _, err := c.Build(); err == nil || !strings.Contains(err.Error(), tt.field) {
			t.Errorf("Build(%q) = %v, want an error naming %s", tt.yaml, err, tt.field)
		}
	}
}

// Without public_url, the names Autodiscover may use: public_hosts, then
// the certificate's.
func TestHosts(t *testing.T) {
	dir := t.TempDir()
	c0, err := certs.Generate("mail.contoso.example", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	tmpl := *c0.Cert
	tmpl.DNSNames = []string{"Mail.Contoso.Example", "*.eu.contoso.example", "autodiscover.contoso.example"}
	der, err := x509.CreateCertificate(rand.Reader, &tmpl, &tmpl, c0.Cert.PublicKey, c0.Key)
	if err != nil {
		t.Fatal(err)
	}
	key, _ := x509.MarshalPKCS8PrivateKey(c0.Key)
	os.WriteFile(filepath.Join(dir, "tls.crt"), pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644)
	os.WriteFile(filepath.Join(dir, "tls.key"), pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: key}), 0o600)
	c, err := Parse([]byte("public_hosts: [calfed.contoso.example, mail.contoso.example.]\ntls: {cert_file: tls.crt, key_file: tls.key}\n"))
	if err != nil {
		t.Fatal(err)
	}
	c.Dir = dir
	if got := strings.Join(c.Hosts(), ","); got != "calfed.contoso.example,mail.contoso.example,*.eu.contoso.example,autodiscover.contoso.example" {
		t.Errorf("Hosts() = %s", got)
	}
	c, _ = Parse([]byte("tls: {acme: {hosts: [Bücher.example]}}\n"))
	if got := strings.Join(c.Hosts(), ","); got != "xn--bcher-kva.example" {
		t.Errorf("Hosts() with ACME = %s", got)
	}
	if got := (&Config{}).Hosts(); len(got) != 0 {
		t.Errorf("Hosts() of nothing = %v", got)
	}
}

// Open validates the file and opens its store with the trust over it;
// an invalid file is refused with every problem under its name, and
// nothing is opened.
func TestOpen(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "a.ics"), []byte("BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n"), 0o644)
	path := filepath.Join(dir, "calfed.yaml")
	os.WriteFile(path, []byte("mailboxes:\n  - address: alice@example.org\n    calendar: a.ics\n"), 0o644)
	c, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	l, err := c.Open(t.Context())
	if err != nil {
		t.Fatalf("Open() = %v", err)
	}
	defer l.Close()
	if len(l.Built.Entries) != 1 || l.Config != c {
		t.Errorf("Open() = %+v", l)
	}
	if _, err := l.Trust.Certificates(t.Context()); err != nil {
		t.Errorf("Trust.Certificates() = %v", err)
	}

	dir = t.TempDir()
	path = filepath.Join(dir, "calfed.yaml")
	os.WriteFile(path, []byte("mailboxes:\n  - address: not-an-address\n  - address: b@example.org\n    calendar: b.ics\n"), 0o644)
	if c, err = Load(path); err != nil {
		t.Fatal(err)
	}
	_, err = c.Open(t.Context())
	if err == nil {
		t.Fatal("Open() of an invalid file succeeded")
	}
	lines := strings.Split(err.Error(), "\n")
	if lines[0] != path+": invalid configuration:" || len(lines) < 3 {
		t.Fatalf("Open() = %q; want a heading naming the file and a line per problem", err)
	}
	for _, l := range lines[1:] {
		if !strings.HasPrefix(l, "  ") {
			t.Errorf("problem line %q is not indented", l)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "data")); !os.IsNotExist(err) {
		t.Errorf("an invalid configuration's store was made: %v", err)
	}
}

// A mailbox's calendar by its address, in any case, with the zone and
// owner it is read with.
func TestBuiltCalendar(t *testing.T) {
	c, err := Parse([]byte("mailboxes:\n  - address: alice@example.org\n    calendar: a.ics\n    time_zone: Europe/London\n"))
	if err != nil {
		t.Fatal(err)
	}
	c.Dir = t.TempDir()
	os.WriteFile(filepath.Join(c.Dir, "a.ics"), []byte("BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n"), 0o644)
	b, err := c.Build()
	if err != nil {
		t.Fatal(err)
	}
	src, opt, ok := b.Calendar("Alice@Example.org")
	if !ok || src == nil || opt.Owner != "alice@example.org" || opt.Location.String() != "Europe/London" {
		t.Errorf("Calendar(Alice@Example.org) = %v, %+v, %v", src, opt, ok)
	}
	for _, other := range []string{"bob@example.org", "not an address"} {
		if _, _, ok := b.Calendar(other); ok {
			t.Errorf("Calendar(%q) found a mailbox the directory lacks", other)
		}
	}
}
