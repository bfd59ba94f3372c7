package trust_test

import (
	"errors"
	"reflect"
	"testing"

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
