package interop

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/calfed/calfed/internal/demo"
	"github.com/calfed/calfed/orgrel"
)

const demoAdminToken = "interop-admin-token-0123456789abcdef0123"

// demoWithAdmin runs the demo as startDemo does, and also returns its
// admin listener's URL (the admin API, /metrics).
func demoWithAdmin(t *testing.T) (ews, adminURL string) {
	t.Helper()
	t.Setenv(demo.AdminTokenEnv, demoAdminToken)
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, calfedBin, "serve", "-listen", "127.0.0.1:0", "-admin-listen", "127.0.0.1:0", "-demo-week", demoWeek, "-log-level", "warn")
	cmd.Env = append(cmd.Environ(), "CALFED_DEMO_SECRET="+demoSecret)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cancel()
		cmd.Wait()
		if t.Failed() {
			t.Logf("calfed stderr:\n%s", stderr.String())
		}
	})
	ewsRe := regexp.MustCompile(`EWS at (http://127\.0\.0\.1:\d+/EWS/Exchange\.asmx)`)
	adminRe := regexp.MustCompile(`Admin API at (http://127\.0\.0\.1:\d+) `)
	found := make(chan [2]string, 1)
	go func() {
		sc := bufio.NewScanner(out)
		var got [2]string
		for sc.Scan() {
			if m := ewsRe.FindStringSubmatch(sc.Text()); m != nil {
				got[0] = m[1]
			}
			if m := adminRe.FindStringSubmatch(sc.Text()); m != nil {
				got[1] = m[1]
			}
			if got[0] != "" && got[1] != "" {
				found <- got
				break
			}
		}
		io.Copy(io.Discard, out)
		close(found)
	}()
	select {
	case got, ok := <-found:
		if !ok {
			t.Fatalf("calfed exited before listening:\n%s", stderr.String())
		}
		return got[0], got[1]
	case <-time.After(60 * time.Second):
		t.Fatalf("calfed did not start within 60s")
	}
	return "", ""
}

// After exchangelib asks the running demo for three mailboxes as
// trust.example, the access log — read with calfed audit access through
// the admin API — holds one record per request, naming the relationship,
// the service account, the mailbox and the view granted; and /metrics
// counts them by partner and outcome.
func TestAccessLogAfterRealClients(t *testing.T) {
	requireClients(t)
	ews, adminURL := demoWithAdmin(t)
	s := &server{URL: ews}
	queryExchangelib(t, s, scenario{account: "svc-trust", view: "DetailedMerged", start: "2026-03-23T00:00:00", end: "2026-03-24T00:00:00",
		interval: 60, want: []answer{{Address: "alice@contoso.example"}, {Address: "grace@contoso.example"}, {Address: "boardroom@contoso.example"}}})

	// The records are written in the background: read until the three
	// GetUserAvailability requests are there.
	var gua []orgrel.AccessEntry
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline) && len(gua) < 3; {
		out, err := exec.Command(calfedBin, "audit", "access", "-server", adminURL, "-token", demoAdminToken, "-partner", "Trust", "-o", "json").Output()
		if err != nil {
			t.Fatalf("calfed audit access: %v", err)
		}
		var all []orgrel.AccessEntry
		if err := json.Unmarshal(out, &all); err != nil {
			t.Fatalf("calfed audit access -o json: %v\n%s", err, out)
		}
		gua = gua[:0]
		for _, e := range all {
			if e.Operation == "GetUserAvailability" {
				gua = append(gua, e)
			}
		}
		time.Sleep(20 * time.Millisecond) // polling the log, not timing anything
	}
	if len(gua) != 3 {
		t.Fatalf("access log: %d GetUserAvailability records of Trust, want 3: %+v", len(gua), gua)
	}
	want := map[string][3]string{ // mailbox: view, mailbox outcome, request outcome
		"alice@contoso.example":     {"DetailedMerged", "OK", orgrel.AccessOK},
		"grace@contoso.example":     {"None", "NoAccess", orgrel.AccessDenied}, // opted out
		"boardroom@contoso.example": {"None", "NoAccess", orgrel.AccessDenied}, // not staff
	}
	for _, e := range gua {
		if e.Relationship != "Trust" || e.Domain != "trust.example" || e.Account != "svc-trust" || e.Status != 200 || len(e.Mailbox) != 1 {
			t.Errorf("record %+v: want Trust's svc-trust, one mailbox, 200", e)
			continue
		}
		m := e.Mailbox[0]
		w, ok := want[m.Address]
		if !ok || m.View != w[0] || m.Outcome != w[1] || e.Outcome != w[2] {
			t.Errorf("record for %s: view %s, %s, request %s; want %v", m.Address, m.View, m.Outcome, e.Outcome, w)
		}
		delete(want, m.Address)
	}

	resp, err := http.Get(adminURL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	for _, line := range []string{
		`calfed_partner_requests_total{operation="GetUserAvailability",outcome="ok",partner="Trust"} 1`,
		`calfed_partner_requests_total{operation="GetUserAvailability",outcome="denied",partner="Trust"} 2`,
	} {
		if !strings.Contains(string(body), line+"\n") {
			t.Errorf("/metrics lacks %s", line)
		}
	}
}
