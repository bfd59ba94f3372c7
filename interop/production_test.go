package interop

import (
	"bufio"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"debug/elf"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/calfed/calfed/orgrel"
)

// productionConfig is the configuration file README.md's "Running in
// production" gives, as written there.
func productionConfig(t *testing.T) string {
	t.Helper()
	readme, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, rest, ok := strings.Cut(string(readme), "<!-- production-config:")
	if !ok {
		t.Fatal("README.md has no production-config block")
	}
	_, rest, _ = strings.Cut(rest, "```yaml\n")
	cfg, _, ok := strings.Cut(rest, "```")
	if !ok {
		t.Fatal("README.md's production-config block is not closed")
	}
	return cfg
}

// staticBinary is calfed built as README.md says (CGO_ENABLED=0), or the
// one test.sh built so ($CALFED_STATIC_BINARY); it must need no
// interpreter and no shared library.
func staticBinary(t *testing.T) string {
	t.Helper()
	bin := os.Getenv("CALFED_STATIC_BINARY")
	if bin == "" {
		bin = filepath.Join(t.TempDir(), "calfed")
		cmd := exec.Command("go", "build", "-trimpath", "-o", bin, "../cmd/calfed")
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("CGO_ENABLED=0 go build: %v\n%s", err, out)
		}
	}
	f, err := elf.Open(bin)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			t.Fatalf("%s has an ELF interpreter: it is not a static binary", bin)
		}
	}
	if libs, _ := f.ImportedLibraries(); len(libs) > 0 {
		t.Fatalf("%s needs shared libraries %v", bin, libs)
	}
	return bin
}

// logWatch collects a process's log lines and finds values in them.
type logWatch struct {
	mu    sync.Mutex
	lines []string
	more  chan struct{}
}

func (w *logWatch) read(r io.Reader) {
	sc := bufio.NewScanner(r)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		w.mu.Lock()
		w.lines = append(w.lines, sc.Text())
		w.mu.Unlock()
		select {
		case w.more <- struct{}{}:
		default:
		}
	}
	close(w.more)
}

func (w *logWatch) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return strings.Join(w.lines, "\n")
}

// await returns the first submatch of re in the log, waiting for it up
// to a minute.
func (w *logWatch) await(t *testing.T, re *regexp.Regexp) string {
	t.Helper()
	deadline := time.After(time.Minute)
	for {
		if m := re.FindStringSubmatch(w.String()); m != nil {
			return m[len(m)-1]
		}
		select {
		case _, ok := <-w.more:
			if !ok {
				if m := re.FindStringSubmatch(w.String()); m != nil {
					return m[len(m)-1]
				}
				t.Fatalf("calfed exited before logging %s:\n%s", re, w.String())
			}
		case <-deadline:
			t.Fatalf("calfed did not log %s within a minute:\n%s", re, w.String())
		}
	}
}

// README.md's "Running in production", step by step, on loopback: the
// static build, its configuration file (ports and directories moved into
// a temporary directory, nothing else changed), config test, serve,
// /healthz and /readyz, a partner onboarded and its request over TLS,
// the metrics scraped, the access log queried, SIGHUP, SIGTERM. The steps
// as root (the calfed user, systemd) are left to test.sh's
// systemd-analyze verify.
func TestRunningInProduction(t *testing.T) {
	bin := staticBinary(t)
	root := t.TempDir()
	etc, lib := filepath.Join(root, "etc"), filepath.Join(root, "var")
	os.MkdirAll(etc, 0o750)
	os.MkdirAll(filepath.Join(lib, "calendars"), 0o700)

	cfg := productionConfig(t)
	for _, r := range [][2]string{{"0.0.0.0:8443", "127.0.0.1:0"}, {"127.0.0.1:8081", "127.0.0.2:0"}, {"/var/lib/calfed", lib}} {
		if !strings.Contains(cfg, r[0]) {
			t.Fatalf("README's configuration no longer has %s; keep this test's substitutions in step:\n%s", r[0], cfg)
		}
		cfg = strings.ReplaceAll(cfg, r[0], r[1])
	}
	path := filepath.Join(etc, "calfed.yaml")
	os.WriteFile(path, []byte(cfg), 0o600)
	writeTLS(t, etc)
	os.WriteFile(filepath.Join(etc, "admin.token"), []byte("bm90LWEtcmVhbC10b2tlbi1idXQtbG9uZy1lbm91Z2g=\n"), 0o600)
	os.WriteFile(filepath.Join(lib, "calendars", "alice.ics"), []byte("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\n"+
		"BEGIN:VEVENT\r\nUID:1\r\nDTSTAMP:20260301T000000Z\r\nDTSTART:20260324T090000Z\r\nDTEND:20260324T100000Z\r\nSUMMARY:Clinic\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"), 0o600)

	calfed := func(args ...string) string {
		t.Helper()
		cmd := exec.Command(bin, args...)
		cmd.Env = append(os.Environ(), "CALFED_CONFIG="+path, "CALFED_ADMIN_URL=", "CALFED_ADMIN_TOKEN=")
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("calfed %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return string(out)
	}
	if out := calfed("config", "test", "-config", path); !strings.Contains(out, "configuration is valid") {
		t.Fatalf("config test:\n%s", out)
	}

	// systemctl enable --now calfed
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	serve := exec.CommandContext(ctx, bin, "serve", "-config", path)
	serve.Cancel = func() error { return serve.Process.Signal(syscall.SIGTERM) }
	stderr, err := serve.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := serve.Start(); err != nil {
		t.Fatal(err)
	}
	logs := &logWatch{more: make(chan struct{}, 1)}
	go logs.read(stderr)
	exited := make(chan error, 1)
	go func() { exited <- serve.Wait() }()
	defer func() {
		if t.Failed() {
			t.Logf("calfed serve's log:\n%s", logs.String())
		}
	}()
	ews := logs.await(t, regexp.MustCompile(`"msg":"listening","ews":"(https://[^"]+)"`))
	admin := logs.await(t, regexp.MustCompile(`"msg":"admin listener: /healthz, /readyz, /metrics","url":"(http://[^"]+)"`))

	get := func(url string) (int, string) {
		t.Helper()
		resp, err := http.Get(url)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if code, body := get(admin + "/healthz"); code != 200 || body != "ok\n" {
		t.Errorf("/healthz = %d %q", code, body)
	}
	// Calendars load behind the listeners; /readyz is ready once they have.
	logs.await(t, regexp.MustCompile(`"msg":"calendars loaded"`))
	code, body := get(admin + "/readyz")
	var ready struct{ Ready bool }
	if json.Unmarshal([]byte(body), &ready); code != 200 || !ready.Ready {
		t.Fatalf("/readyz = %d %s", code, body)
	}

	// Onboarding, while the server runs.
	calfed("orgrel", "new", "Northshire NHS Trust", "-domains", "northshire.example", "-free-busy")
	var acct struct{ Secret string }
	if err := json.Unmarshal([]byte(calfed("account", "new", "svc-northshire", "-relationship", "Northshire NHS Trust", "-o", "json")), &acct); err != nil || acct.Secret == "" {
		t.Fatalf("account new -o json: %v", err)
	}

	// Northshire's request, over TLS, for Alice's Tuesday. The new
	// account reaches the server within a heartbeat: ask until it is in.
	req := func() int {
		r, _ := http.NewRequest(http.MethodPost, ews, strings.NewReader(guaRequest("alice@contoso.example")))
		r.Header.Set("Content-Type", "text/xml; charset=utf-8")
		r.SetBasicAuth("svc-northshire", acct.Secret)
		c := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}} // our own test certificate
		resp, err := c.Do(r)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp.StatusCode
	}
	status := req()
	for deadline := time.Now().Add(30 * time.Second); status == http.StatusUnauthorized && time.Now().Before(deadline); status = req() {
		time.Sleep(100 * time.Millisecond) // waiting for the account to reach the server, not timing anything
	}
	if status != http.StatusOK {
		t.Fatalf("Northshire's GetUserAvailability = %d", status)
	}

	_, metrics := get(admin + "/metrics")
	for _, line := range []string{
		`calfed_partner_requests_total{operation="GetUserAvailability",outcome="ok",partner="Northshire NHS Trust"} 1`,
		`calfed_calendar_available{mailbox="alice@contoso.example"} 1`,
		`calfed_calendar_reload_failures_total{mailbox="alice@contoso.example"} 0`,
	} {
		if !strings.Contains(metrics, line+"\n") {
			t.Errorf("/metrics lacks %s", line)
		}
	}
	if !strings.Contains(metrics, `calfed_certificate_expiry_timestamp_seconds{slot="",use="tls"} `) {
		t.Error("/metrics lacks the TLS certificate's expiry")
	}
	logs.await(t, regexp.MustCompile(`("msg":"partner request".*"relationship":"Northshire NHS Trust".*"mailboxes":"alice@contoso.example")`))

	// systemctl reload calfed
	os.WriteFile(path, []byte(strings.Replace(cfg, "level: info", "level: debug", 1)), 0o600)
	serve.Process.Signal(syscall.SIGHUP)
	logs.await(t, regexp.MustCompile(`("msg":"reloaded: log.level","value":"DEBUG")`))

	// systemctl stop calfed
	serve.Process.Signal(syscall.SIGTERM)
	if err := <-exited; err != nil {
		t.Fatalf("calfed serve after SIGTERM: %v", err)
	}
	logs.await(t, regexp.MustCompile(`("msg":"stopped")`))

	var entries []orgrel.AccessEntry
	if err := json.Unmarshal([]byte(calfed("audit", "access", "-mailbox", "alice@contoso.example", "-since", "1h", "-o", "json")), &entries); err != nil {
		t.Fatal(err)
	}
	if len(entries) != 1 || entries[0].Relationship != "Northshire NHS Trust" || entries[0].Account != "svc-northshire" ||
		entries[0].Mailbox[0].View != "DetailedMerged" && entries[0].Mailbox[0].View != "FreeBusyMerged" || entries[0].Outcome != orgrel.AccessOK {
		t.Errorf("audit access -mailbox alice = %+v; want Northshire's one request", entries)
	}
	if out := calfed("audit", "partners", "-since", "1h"); !strings.Contains(out, "Northshire NHS Trust") {
		t.Errorf("audit partners:\n%s", out)
	}
}

// guaRequest asks for a mailbox's Tuesday 24 March 2026, DetailedMerged.
func guaRequest(mailbox string) string {
	return fmt.Sprintf(`<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/" xmlns:t="http://schemas.microsoft.com/exchange/services/2006/types" xmlns:m="http://schemas.microsoft.com/exchange/services/2006/messages"><s:Header><t:RequestServerVersion Version="Exchange2013_SP1"/><t:TimeZoneContext><t:TimeZoneDefinition Id="GMT Standard Time"/></t:TimeZoneContext></s:Header><s:Body><m:GetUserAvailabilityRequest><m:MailboxDataArray><t:MailboxData><t:Email><t:Address>%s</t:Address></t:Email><t:AttendeeType>Required</t:AttendeeType></t:MailboxData></m:MailboxDataArray><t:FreeBusyViewOptions><t:TimeWindow><t:StartTime>2026-03-24T00:00:00</t:StartTime><t:EndTime>2026-03-25T00:00:00</t:EndTime></t:TimeWindow><t:MergedFreeBusyIntervalInMinutes>60</t:MergedFreeBusyIntervalInMinutes><t:RequestedView>DetailedMerged</t:RequestedView></t:FreeBusyViewOptions></m:GetUserAvailabilityRequest></s:Body></s:Envelope>`, mailbox)
}

// writeTLS writes a self-signed certificate for mail.contoso.example and
// 127.0.0.1 into dir as tls.crt and tls.key (mode 600).
func writeTLS(t *testing.T, dir string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "mail.contoso.example"},
		DNSNames: []string{"mail.contoso.example"}, IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(90 * 24 * time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kb, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(dir, "tls.crt"), pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644)
	os.WriteFile(filepath.Join(dir, "tls.key"), pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kb}), 0o600)
}
