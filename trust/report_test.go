package trust_test

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/calfed/calfed/certs"
	"github.com/calfed/calfed/dnsproof"
	"github.com/calfed/calfed/trust"
)

func TestVerdict(t *testing.T) {
	check := func(s dnsproof.Status) trust.Check { return trust.Check{Result: dnsproof.Result{Status: s}} }
	tests := []struct {
		statuses []dnsproof.Status
		want     dnsproof.Status
	}{
		{nil, dnsproof.Pass},
		{[]dnsproof.Status{dnsproof.Pass, dnsproof.Pass}, dnsproof.Pass},
		{[]dnsproof.Status{dnsproof.Pass, dnsproof.TempError}, dnsproof.TempError},
		{[]dnsproof.Status{dnsproof.TempError, dnsproof.PermError, dnsproof.Fail}, dnsproof.PermError},
		{[]dnsproof.Status{dnsproof.None, dnsproof.TempError}, dnsproof.None},
		{[]dnsproof.Status{dnsproof.Fail, dnsproof.Pass}, dnsproof.Fail},
	}
	for _, tt := range tests {
		var checks []trust.Check
		for _, s := range tt.statuses {
			checks = append(checks, check(s))
		}
		if got := trust.Verdict(checks); got != tt.want {
			t.Errorf("Verdict(%v) = %s, want %s", tt.statuses, got, tt.want)
		}
	}
}

// A report's detail is why the check did not pass, or a pass's warning.
func TestCheckReport(t *testing.T) {
	pass := trust.Check{Result: dnsproof.Result{Domain: "a.example", Status: dnsproof.Pass, Matched: []string{"current"}}, Warning: "publish next"}
	want := trust.Report{Domain: "a.example", Status: "pass", Matched: []string{"current"}, Detail: "publish next"}
	if got := pass.Report(); !reflect.DeepEqual(got, want) {
		t.Errorf("Report() = %+v, want %+v", got, want)
	}
	failed := trust.Check{Result: dnsproof.Result{Domain: "b.example", Status: dnsproof.PermError, Err: errors.New("no such domain")}}
	if got := failed.Report(); got.Detail != "no such domain" || got.Status != "permerror" {
		t.Errorf("Report() = %+v", got)
	}
}

// The records to publish are the current certificate's, one per domain,
// whatever else is staged.
func TestCurrentProofs(t *testing.T) {
	s, _, _ := setup(t)
	if got := s.CurrentProofs(context.Background(), []string{"contoso.example"}); len(got) != 0 {
		t.Errorf("CurrentProofs without a certificate = %+v", got)
	}
	cur := newCertificate(t, s, "")
	newCertificate(t, s, certs.Next)
	got := s.CurrentProofs(context.Background(), []string{"Contoso.Example", "europe.contoso.example"})
	if len(got) != 2 || got[0].Domain != "contoso.example" || got[1].Domain != "europe.contoso.example" {
		t.Fatalf("CurrentProofs = %+v", got)
	}
	for _, p := range got {
		if p.Slot != "current" || p.Thumbprint != cur.Thumbprint() {
			t.Errorf("%s: proof of the %s certificate %s", p.Domain, p.Slot, p.Thumbprint)
		}
	}
}

func TestPartnerProofString(t *testing.T) {
	at := time.Date(2026, 11, 1, 9, 0, 0, 0, time.FixedZone("CET", 3600))
	tests := []struct {
		p    trust.PartnerProof
		want string
	}{
		{trust.PartnerProof{Status: "pass", Detail: "signature matches", Checked: &at}, "pass (checked 2026-11-01T08:00:00Z)"},
		{trust.PartnerProof{Status: "fail", Detail: "wrong key", Checked: &at}, "fail (checked 2026-11-01T08:00:00Z): wrong key"},
		{trust.PartnerProof{Status: trust.Unverified, Detail: "calfed orgrel verify P checks it"}, "unverified: calfed orgrel verify P checks it"},
		{trust.PartnerProof{Status: "permerror", Detail: "-"}, "permerror"},
	}
	for _, tt := range tests {
		if got := tt.p.String(); got != tt.want {
			t.Errorf("%+v.String() = %q, want %q", tt.p, got, tt.want)
		}
	}
}

func TestReportColumns(t *testing.T) {
	r := trust.Report{Domain: "a.example", Status: "permerror"}
	var cells []string
	for _, c := range trust.ReportColumns {
		cells = append(cells, c.Get(r))
	}
	if got := strings.Join(cells, "|"); got != "a.example|permerror|-|-" {
		t.Errorf("report row = %q", got)
	}
}
