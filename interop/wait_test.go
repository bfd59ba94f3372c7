package interop

import (
	"bytes"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib"

	"github.com/calfed/calfed/internal/pgtest"
)

// pair is two `calfed serve` processes on one store, each with its own
// configuration and data directory, and a partner's service account.
type pair struct {
	configs [2]string
	servers [2]*server
	secret  string
}

// newPair writes the two configurations (store is each one's store
// section), creates a relationship Partner granting LimitedDetails with an
// account, has Alice opt in, and starts both servers.
func newPair(t *testing.T, store [2]string) *pair {
	t.Helper()
	dir := t.TempDir()
	cal := "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nBEGIN:VEVENT\r\nUID:plan\r\nSUMMARY:Quarterly planning\r\n" +
		"DTSTART:20260324T100000Z\r\nDTEND:20260324T110000Z\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
	if err := os.WriteFile(filepath.Join(dir, "alice.ics"), []byte(cal), 0o644); err != nil {
		t.Fatal(err)
	}
	p := &pair{}
	for i, name := range []string{"a", "b"} {
		p.configs[i] = filepath.Join(dir, name+".yaml")
		cfg := fmt.Sprintf("data_dir: data-%s\n%s\nmailboxes:\n  - address: alice@contoso.example\n    calendar: alice.ics\n", name, store[i])
		if err := os.WriteFile(p.configs[i], []byte(cfg), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	p.cli(t, 0, "orgrel", "new", "Partner", "-domains", "partner.example", "-free-busy", "-level", "LimitedDetails")
	var created struct{ Secret string }
	if err := json.Unmarshal(p.cli(t, 0, "account", "new", "svc-partner", "-relationship", "Partner", "-o", "json"), &created); err != nil || created.Secret == "" {
		t.Fatalf("account new: %v", err)
	}
	p.secret = created.Secret
	p.cli(t, 0, "mailbox", "share", "alice@contoso.example", "-level", "LimitedDetails")
	return p
}

func (p *pair) start(t *testing.T) {
	t.Helper()
	for i := range p.servers {
		p.servers[i] = startServer(t, regexp.MustCompile(`msg=listening ews=(http://\S+)`), false,
			"serve", "-config", p.configs[i], "-listen", "127.0.0.1:0", "-admin-listen", "127.0.0.1:0", "-log-level", "info")
	}
	for i, s := range p.servers {
		if _, body := p.ask(t, s); !strings.Contains(body, "<Subject>Quarterly planning</Subject>") {
			t.Fatalf("server %d before the change:\n%s", i, body)
		}
	}
}

// cli runs calfed against configuration i and returns its output.
func (p *pair) cli(t *testing.T, i int, args ...string) []byte {
	t.Helper()
	cmd := exec.Command(calfedBin, append(args, "-config", p.configs[i])...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("calfed %s: %v\n%s", strings.Join(args, " "), err, stderr.String())
	}
	return out
}

// ask asks s for Alice's free/busy as the partner's service account.
func (p *pair) ask(t *testing.T, s *server) (int, string) {
	t.Helper()
	body := `<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/" xmlns:t="http://schemas.microsoft.com/exchange/services/2006/types" xmlns:m="http://schemas.microsoft.com/exchange/services/2006/messages"><s:Body><m:GetUserAvailabilityRequest><m:MailboxDataArray><t:MailboxData><t:Email><t:Address>alice@contoso.example</t:Address></t:Email></t:MailboxData></m:MailboxDataArray><t:FreeBusyViewOptions><t:TimeWindow><t:StartTime>2026-03-24T00:00:00Z</t:StartTime><t:EndTime>2026-03-25T00:00:00Z</t:EndTime></t:TimeWindow><t:RequestedView>Detailed</t:RequestedView></t:FreeBusyViewOptions></m:GetUserAvailabilityRequest></s:Body></s:Envelope>`
	req, _ := http.NewRequest(http.MethodPost, s.URL, strings.NewReader(body))
	req.SetBasicAuth("svc-partner", p.secret)
	req.Header.Set("Content-Type", "text/xml; charset=utf-8")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	got, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(got)
}

func refused(status int, body string) bool {
	return status == http.StatusOK && strings.Contains(body, "<ResponseCode>ErrorNoFreeBusyAccess</ResponseCode>")
}

// until asks s until done accepts the answer and returns how long after
// from that was, and how many answers it took; it fails t after 60s.
func (p *pair) until(t *testing.T, s *server, from time.Time, done func(int, string) bool) (time.Duration, int) {
	t.Helper()
	for n, deadline := 1, time.Now().Add(60*time.Second); time.Now().Before(deadline); n++ {
		if status, body := p.ask(t, s); done(status, body) {
			return time.Since(from), n
		}
		time.Sleep(2 * time.Millisecond) // pacing the poll, not timing anything
	}
	t.Fatalf("%s: no such answer within 60s", s)
	return 0, 0
}

// firstRefusals measures, on each server at once, the time from from to
// its first refused answer; after a wait that reported both servers, the
// first answer of each must be a refusal.
func (p *pair) firstRefusals(t *testing.T, from time.Time) [2]time.Duration {
	var d [2]time.Duration
	var n [2]int
	var wg sync.WaitGroup
	for i, s := range p.servers {
		wg.Add(1)
		go func() { defer wg.Done(); d[i], n[i] = p.until(t, s, from, refused) }()
	}
	wg.Wait()
	for i, k := range n {
		if k != 1 {
			t.Errorf("server %d answered %d times before refusing, after the command said it had applied the change", i, k-1)
		}
	}
	return d
}

// The time is in ms under a second, else as Go prints a duration.
var appliedByBoth = regexp.MustCompile(`applied by 2 of 2 servers in (\d+ ms|[0-9.]+s)`)

// `calfed orgrel disable` returns once both servers sharing the store
// have applied it: the next request to either is refused. The time from
// the command's return to each server's first refusal is measured and
// logged, not asserted, for each store.
func TestDisableWaitsForEveryServer(t *testing.T) {
	for _, backend := range []string{"sqlite", "postgres"} {
		t.Run(backend, func(t *testing.T) {
			store := "store:\n  dsn: " + filepath.Join(t.TempDir(), "shared.db")
			if backend == "postgres" {
				store = fmt.Sprintf("store:\n  driver: postgres\n  dsn: %q", pgtest.Database(t))
			}
			p := newPair(t, [2]string{store, store})
			p.start(t)
			out := string(p.cli(t, 0, "orgrel", "disable", "Partner"))
			returned := time.Now()
			m := appliedByBoth.FindStringSubmatch(out)
			if m == nil {
				t.Fatalf("disable:\n%s", out)
			}
			d := p.firstRefusals(t, returned)
			t.Logf("%s: disable waited %s for both servers; first refusal %v (a) and %v (b) after it returned", backend, m[1], d[0], d[1])
		})
	}
}

// brokenRole makes a PostgreSQL role that may use dsn's database as its
// owner does, and returns its connection URL and a function running SQL
// as the owner in that database.
func brokenRole(t *testing.T, dsn string) (string, func(string)) {
	t.Helper()
	owner, err := sql.Open("pgx", dsn)
	if err != nil {
		t.Fatal(err)
	}
	b := make([]byte, 4)
	rand.Read(b)
	role := "calfed_b_" + hex.EncodeToString(b)
	exec := func(q string) {
		t.Helper()
		if _, err := owner.Exec(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	exec("CREATE ROLE " + role + " LOGIN PASSWORD 'calfed_b'")
	t.Cleanup(func() {
		owner.Exec("DROP OWNED BY " + role)
		owner.Exec("DROP ROLE " + role)
		owner.Close()
	})
	exec("GRANT CREATE, USAGE ON SCHEMA public TO " + role)
	exec("GRANT ALL ON ALL TABLES IN SCHEMA public TO " + role)
	exec("GRANT ALL ON ALL SEQUENCES IN SCHEMA public TO " + role)
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatal(err)
	}
	u.User = url.UserPassword(role, "calfed_b")
	return u.String(), func(q string) { exec(strings.ReplaceAll(q, "ROLE", role)) }
}

// Two servers on one PostgreSQL, one of which cannot read a table for a
// while: `calfed orgrel disable` waits; a shorter wait names the broken
// server and its error; the broken server keeps its policy for
// store.max_policy_age and then refuses the partner with 503; once it can
// read again its retries land the change, the command reports both
// servers, and the partner is refused by both.
func TestDisableWaitsForABrokenServer(t *testing.T) {
	dsn := pgtest.Database(t)
	timing := "\n  heartbeat: 1s\n  max_policy_age: 3s"
	a := fmt.Sprintf("store:\n  driver: postgres\n  dsn: %q%s", dsn, timing)
	p := newPair(t, [2]string{a, a}) // the schema, made by its owner
	dsnB, asOwner := brokenRole(t, dsn)
	b := fmt.Sprintf("store:\n  driver: postgres\n  dsn: %q%s", dsnB, timing)
	if err := os.WriteFile(p.configs[1], bytes.Replace(must(os.ReadFile(p.configs[1])), []byte(a), []byte(b), 1), 0o644); err != nil {
		t.Fatal(err)
	}
	p.start(t)
	sa, sb := p.servers[0], p.servers[1]
	pidB := fmt.Sprintf("/%d/", sb.cmd.Process.Pid)

	asOwner("REVOKE SELECT ON service_accounts FROM ROLE")
	disable := exec.Command(calfedBin, "orgrel", "disable", "Partner", "-wait", "2m", "-config", p.configs[0])
	var out, errOut bytes.Buffer
	disable.Stdout, disable.Stderr = &out, &errOut
	if err := disable.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- disable.Wait() }()

	// a applies the change at once; b cannot, keeps its policy until
	// max_policy_age, then fails closed.
	p.until(t, sa, time.Now(), refused)
	closedAfter, _ := p.until(t, sb, time.Now(), func(status int, body string) bool {
		if refused(status, body) {
			t.Fatalf("b applied the change while it could not read the store")
		}
		return status == http.StatusServiceUnavailable
	})
	t.Logf("b refused the partner with 503 %v after a had applied the change (max_policy_age 3s)", closedAfter)
	// Meanwhile a shorter wait names b and why (long enough for a to
	// apply the change on a loaded machine).
	short := exec.Command(calfedBin, "orgrel", "set", "Partner", "-notes", "broken b", "-wait", "5s", "-config", p.configs[0])
	var shortErr bytes.Buffer
	short.Stderr = &shortErr
	if err := short.Run(); err == nil || !strings.Contains(shortErr.String(), "applied by 1 of 2 servers within 5s; not by ") ||
		!strings.Contains(shortErr.String(), pidB) || !strings.Contains(shortErr.String(), "permission denied") {
		t.Errorf("a short wait with b broken: %v\n%s", err, shortErr.String())
	}
	select {
	case err := <-exited:
		t.Fatalf("disable returned while b was broken: %v\n%s%s", err, out.String(), errOut.String())
	default:
	}

	healed := time.Now()
	asOwner("GRANT SELECT ON service_accounts TO ROLE")
	if err := <-exited; err != nil {
		t.Fatalf("disable: %v\n%s%s", err, out.String(), errOut.String())
	}
	returned := time.Now()
	if !appliedByBoth.MatchString(out.String()) {
		t.Fatalf("disable after b healed:\n%s", out.String())
	}
	d := p.firstRefusals(t, returned)
	t.Logf("b healed: disable returned %v later; first refusal %v (a) and %v (b) after it returned", returned.Sub(healed), d[0], d[1])
	sb.mu.Lock()
	log := sb.stderr.String()
	sb.mu.Unlock()
	if n := strings.Count(log, "refusing federated and service-account callers"); n != 1 || !strings.Contains(log, "serving federated and service-account callers again") {
		t.Errorf("b logged the refusal %d times (want once), and serving again: %v\n%s", n, strings.Contains(log, "serving federated and service-account callers again"), log)
	}
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}
