package interop

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"log"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/calfed/calfed/internal/dnstest"
)

// testCA is a certification authority the test makes and the calfed
// processes trust as a public one (SSL_CERT_FILE).
type testCA struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
	file string // the CA certificate as PEM
}

func newTestCA(t *testing.T, dir string) *testCA {
	t.Helper()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "calfed interop root"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	ca := &testCA{cert: cert, key: key, file: filepath.Join(dir, "ca.pem")}
	os.WriteFile(ca.file, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644)
	return ca
}

// issue makes a server certificate for names (IP addresses or DNS
// names).
func (ca *testCA) issue(t *testing.T, names ...string) tls.Certificate {
	t.Helper()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	serial, _ := rand.Int(rand.Reader, big.NewInt(1<<62))
	tmpl := &x509.Certificate{SerialNumber: serial, Subject: pkix.Name{CommonName: names[0]},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	for _, n := range names {
		if ip := net.ParseIP(n); ip != nil {
			tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
		} else {
			tmpl.DNSNames = append(tmpl.DNSNames, n)
		}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &key.PublicKey, ca.key)
	if err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
}

// writeTLS writes a certificate for names and its key into dir, for the
// configuration's tls section.
func (ca *testCA) writeTLS(t *testing.T, dir string, names ...string) {
	t.Helper()
	c := ca.issue(t, names...)
	keyDER, _ := x509.MarshalECPrivateKey(c.PrivateKey.(*ecdsa.PrivateKey))
	os.WriteFile(filepath.Join(dir, "tls.crt"), pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Certificate[0]}), 0o644)
	os.WriteFile(filepath.Join(dir, "tls.key"), pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER}), 0o600)
}

// front is an HTTPS reverse proxy in front of target with a certificate
// for names; with intercept, it answers the /WSSecurity paths itself
// with a sign-in page, as a pre-authenticating proxy does.
func (ca *testCA) front(t *testing.T, target string, intercept bool, names ...string) string {
	t.Helper()
	u, _ := url.Parse(target)
	roots := x509.NewCertPool()
	roots.AddCert(ca.cert)
	rp := httputil.NewSingleHostReverseProxy(u)
	rp.Transport = &http.Transport{TLSClientConfig: &tls.Config{RootCAs: roots}}
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if intercept && strings.HasSuffix(strings.ToLower(r.URL.Path), "/wssecurity") {
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			w.Write([]byte("<!DOCTYPE html><html><head><title>Sign in to Contoso Gateway</title></head><body><form></form></body></html>"))
			return
		}
		rp.ServeHTTP(w, r)
	}))
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{ca.issue(t, names...)}}
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // the handshakes refused on purpose
	srv.StartTLS()
	t.Cleanup(srv.Close)
	return srv.URL
}

// checkReport is doctor.Report as -o json prints it.
type checkReport struct {
	Subject string `json:"subject"`
	Passed  bool   `json:"passed"`
	Steps   []struct {
		Step, Status, Detail, Error, Fix string
	} `json:"steps"`
}

func (r checkReport) String() string {
	var b strings.Builder
	for _, s := range r.Steps {
		fmt.Fprintf(&b, "  %-4s %-36s %s%s %s\n", s.Status, s.Step, s.Detail, s.Error, s.Fix)
	}
	return b.String()
}

func (r checkReport) step(name string) (status, text string) {
	for _, s := range r.Steps {
		if s.Step == name {
			return s.Status, s.Error + s.Detail
		}
	}
	return "absent", ""
}

// check runs a check command with -o json; exit 2 is a failed check,
// anything else not 0 an error.
func (o *org) check(t *testing.T, args ...string) checkReport {
	t.Helper()
	out, err := o.try(append(args, "-o", "json")...)
	var r checkReport
	if jerr := json.Unmarshal(out, &r); jerr != nil {
		t.Fatalf("%s: calfed %s: %v %v\n%s", o.name, strings.Join(args, " "), err, jerr, out)
	}
	if (err == nil) != r.Passed || (err != nil && !strings.Contains(err.Error(), "exit status 2")) {
		t.Errorf("%s: calfed %s: exit %v with passed %v", o.name, strings.Join(args, " "), err, r.Passed)
	}
	return r
}

// twoOrgs is two organisations over HTTPS with certificates from a
// root both trust (SSL_CERT_FILE), registered with a token issuer, each
// with a relationship with the other.
type twoOrgs struct {
	a, b   *org
	ca     *testCA
	zone   *dnstest.Server
	proofs map[string]string // each domain's TXT proof
}

// newTwoOrgs sets the two organisations up; with adminToken, A's
// server has an admin listener behind it, whose URL it returns.
func newTwoOrgs(t *testing.T, adminToken string) (*twoOrgs, string) {
	t.Helper()
	root := t.TempDir()
	f := &twoOrgs{ca: newTestCA(t, root), zone: dnstest.Start(t), proofs: map[string]string{}}
	t.Setenv("SSL_CERT_FILE", f.ca.file) // every calfed process trusts the test root as the system's
	stsConfig := filepath.Join(root, "sts.yaml")
	os.WriteFile(stsConfig, []byte(fmt.Sprintf("issuer_uri: urn:federation:calfed-dev\ndns:\n  resolvers: [%q]\n", f.zone.Addr)), 0o644)
	sts := startServer(t, regexp.MustCompile(`metadata (http://\S+)`), true, "sts", "serve", "-config", stsConfig, "-listen", "127.0.0.1:0")
	gateway := strings.Replace(sts.URL, "/FederationMetadata/2006-12/FederationMetadata.xml", "/service/ManageDelegation2.asmx", 1)
	adminURL := ""
	for _, o := range []struct{ name, domain, user, subject string }{
		{"A", "a.example", "alice", "Budget call"},
		{"B", "b.example", "bob", "Design review"},
	} {
		x := newOrg(root, f.zone, o.name, o.domain, o.user, o.subject)
		f.ca.writeTLS(t, x.dir, "127.0.0.1")
		extra := "tls: {cert_file: tls.crt, key_file: tls.key}\n"
		if o.name == "A" && adminToken != "" {
			os.WriteFile(filepath.Join(x.dir, "admin.token"), []byte(adminToken+"\n"), 0o600)
			extra += "admin: {token_file: admin.token}\n"
		}
		file, _ := os.OpenFile(x.config, os.O_APPEND|os.O_WRONLY, 0)
		file.WriteString(extra)
		file.Close()
		x.cli(t, "trust", "certificate", "new")
		x.publishProof(t, f.zone)
		f.proofs[o.domain] = f.zone.TXT(o.domain)[0]
		x.cli(t, "trust", "new", "-account-namespace", o.domain, "-metadata", sts.URL)
		x.cli(t, "trust", "register", "-gateway", gateway)
		s := startServer(t, regexp.MustCompile(`msg=listening ews=(https://\S+)`), false, "serve", "-config", x.config, "-listen", "127.0.0.1:0", "-admin-listen", "127.0.0.1:0")
		x.base = strings.TrimSuffix(s.URL, "/EWS/Exchange.asmx")
		if o.name == "A" && adminToken != "" {
			adminURL = s.waitLog(t, regexp.MustCompile(`msg="admin API listening" url=(http://\S+)`))
		}
		if o.name == "A" {
			f.a = x
		} else {
			f.b = x
		}
	}
	f.a.cli(t, "orgrel", "new", "B", "-domains", "b.example", "-free-busy", "-level", "AvailabilityOnly",
		"-target-application-uri", "FYDIBOHF25SPDLT.b.example", "-target-autodiscover-epr", f.b.base+"/autodiscover/autodiscover.svc/WSSecurity")
	f.b.cli(t, "orgrel", "new", "A", "-domains", "a.example", "-free-busy", "-level", "LimitedDetails",
		"-target-application-uri", "FYDIBOHF25SPDLT.a.example", "-target-autodiscover-epr", f.a.base+"/autodiscover/autodiscover.svc/WSSecurity")
	return f, adminURL
}

// Two organisations over HTTPS with certificates from a root both trust,
// registered with a token issuer: orgrel test and doctor pass every step;
// then each failure a federation engineer meets is injected in turn and
// the step it belongs to fails, saying what is wrong.
func TestOrgrelTestAndDoctor(t *testing.T) {
	f, _ := newTwoOrgs(t, "")
	a, b, ca, zone, proofs := f.a, f.b, f.ca, f.zone, f.proofs

	orgrelTest := []string{"orgrel", "test", "B", "-user", "alice@a.example", "-partner-user", "bob@b.example"}
	doctorB := func(autodiscover string) []string {
		return []string{"doctor", "b.example", "-url", autodiscover + "/autodiscover/autodiscover.svc", "-level", "AvailabilityOnly"}
	}

	// Everything in place: every step passes, once B's server has put
	// its new relationship in force.
	var r checkReport
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) { // pacing the retries, not timing anything
		if r = a.check(t, orgrelTest...); r.Passed {
			break
		}
	}
	if !r.Passed || len(r.Steps) != 11 || strings.Contains(r.String(), "skip") {
		t.Errorf("A: orgrel test B, all in place:\n%s", r)
	} else if st, text := r.step("free/busy query"); st != "pass" || !strings.Contains(text, "bob@b.example: FreeBusyMerged") {
		t.Errorf("A: orgrel test B: free/busy query %s %s", st, text)
	}
	if r := a.check(t, doctorB(b.base)...); !r.Passed || strings.Contains(r.String(), "skip") {
		t.Errorf("A: doctor b.example, all in place:\n%s", r)
	}
	if r := a.check(t, "doctor", "a.example", "-url", a.base+"/autodiscover/autodiscover.svc"); !r.Passed {
		t.Errorf("A: doctor a.example (ours), all in place:\n%s", r)
	} else if st, text := r.step("federation trust with the gateway"); st != "pass" || !strings.Contains(text, "a.example Active") {
		t.Errorf("A: doctor a.example: gateway %s %s", st, text)
	}

	// Each failure injected, one at a time.
	failures := []struct {
		name    string
		inject  func() (args []string, undo func())
		step    string
		message string
	}{
		{"proof missing", func() ([]string, func()) {
			zone.SetTXT("b.example", "v=spf1 -all")
			return doctorB(b.base), func() { zone.SetTXT("b.example", proofs["b.example"]) }
		}, "domain proof", "b.example publishes no domain proof"},
		{"wrong TLS name: doctor", func() ([]string, func()) {
			return doctorB(ca.front(t, b.base, false, "wrong.example", "192.0.2.1")), func() {}
		}, "TLS certificate (Autodiscover)", "x509: certificate is valid for 192.0.2.1, not 127.0.0.1"},
		{"wrong TLS name: orgrel test", func() ([]string, func()) {
			a.cli(t, "orgrel", "set", "B", "-target-autodiscover-epr", ca.front(t, b.base, false, "wrong.example", "192.0.2.1")+"/autodiscover/autodiscover.svc/WSSecurity")
			return orgrelTest, func() {
				a.cli(t, "orgrel", "set", "B", "-target-autodiscover-epr", b.base+"/autodiscover/autodiscover.svc/WSSecurity")
			}
		}, "TLS certificate (Autodiscover)", "x509: certificate is valid for 192.0.2.1, not 127.0.0.1"},
		{"intercepted: doctor", func() ([]string, func()) {
			return doctorB(ca.front(t, b.base, true, "127.0.0.1")), func() {}
		}, "EWS /WSSecurity endpoint", `answered an HTML page titled "Sign in to Contoso Gateway" (HTTP 200`},
		{"intercepted: orgrel test", func() ([]string, func()) {
			a.cli(t, "orgrel", "set", "B", "-target-autodiscover-epr", ca.front(t, b.base, true, "127.0.0.1")+"/autodiscover/autodiscover.svc/WSSecurity")
			return orgrelTest, func() {
				a.cli(t, "orgrel", "set", "B", "-target-autodiscover-epr", b.base+"/autodiscover/autodiscover.svc/WSSecurity")
			}
		}, "Autodiscover /WSSecurity endpoint", `answered an HTML page titled "Sign in to Contoso Gateway" (HTTP 200`},
		{"relationship missing on the partner's side", func() ([]string, func()) {
			b.cli(t, "orgrel", "remove", "A")
			return orgrelTest, func() {}
		}, "partner's relationship with us", "the partner has no organisation relationship with a.example"},
	}
	for _, f := range failures {
		t.Run(f.name, func(t *testing.T) {
			args, undo := f.inject()
			defer undo()
			r := a.check(t, args...)
			if st, text := r.step(f.step); r.Passed || st != "fail" || !strings.Contains(text, f.message) {
				t.Errorf("calfed %s: step %q is %s %q, want fail with %q:\n%s", strings.Join(args, " "), f.step, st, text, f.message, r)
			}
			for _, s := range r.Steps {
				if s.Status == "fail" && s.Fix == "" {
					t.Errorf("step %q failed without a fix: %s", s.Step, s.Error)
				}
			}
		})
	}
}
