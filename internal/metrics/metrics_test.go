package metrics

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/calfed/calfed/orgrel"
)

func scrape(t *testing.T, m *Metrics) string {
	t.Helper()
	w := httptest.NewRecorder()
	m.Handler().ServeHTTP(w, httptest.NewRequest("GET", "/metrics", nil))
	b, _ := io.ReadAll(w.Result().Body)
	return string(b)
}

// A source that cannot be read leaves its figures out, reports 0 in
// calfed_metrics_source_up, and is logged once per change, not once a
// scrape.
func TestFailingSourceIsLoggedOnce(t *testing.T) {
	var logged bytes.Buffer
	fail := errors.New("store closed")
	m := New(State{
		DomainProofs: func(context.Context) ([]orgrel.DomainCheck, error) { return nil, fail },
		Logger:       slog.New(slog.NewTextHandler(&logged, nil)),
	})
	for range 3 {
		if out := scrape(t, m); !strings.Contains(out, `calfed_metrics_source_up{source="domain_proofs"} 0`+"\n") {
			t.Fatalf("scrape:\n%s", out)
		}
	}
	if n := strings.Count(logged.String(), "cannot read domain_proofs"); n != 1 {
		t.Errorf("logged %d times, want once:\n%s", n, logged.String())
	}
	fail = nil
	if out := scrape(t, m); !strings.Contains(out, `calfed_metrics_source_up{source="domain_proofs"} 1`+"\n") {
		t.Errorf("after recovery:\n%s", out)
	}
	if !strings.Contains(logged.String(), "domain_proofs read again") {
		t.Errorf("recovery not logged:\n%s", logged.String())
	}
}

// A caller without a relationship is counted under "(none)", never under
// its domain, which the sender chooses; a nil *Metrics counts nothing.
func TestRequestLabels(t *testing.T) {
	m := New(State{})
	m.Request(&orgrel.AccessEntry{Domain: "anything.example", Operation: "GetUserAvailability", Outcome: orgrel.AccessDenied, Duration: time.Millisecond})
	out := scrape(t, m)
	if !strings.Contains(out, `calfed_partner_requests_total{operation="GetUserAvailability",outcome="denied",partner="(none)"} 1`) || strings.Contains(out, "anything.example") {
		t.Errorf("scrape:\n%s", out)
	}
	var none *Metrics
	none.Request(&orgrel.AccessEntry{})
	none.TokenRefused("x")
	none.LoginRefused(LoginInvalid)
}
