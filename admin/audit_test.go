package admin

import (
	"testing"

	"github.com/calfed/calfed/orgrel"
)

func TestSummarize(t *testing.T) {
	tests := []struct {
		before, after string
		want          string
	}{
		{"", `{"name":"P","enabled":true}`, "created"},
		{`{"name":"P"}`, "", "removed"},
		{`{"name":"P","enabled":true,"version":1}`, `{"name":"P","enabled":false,"version":2}`, "enabled: true -> false"},
		{`{"name":"P","domain_names":["a.example"],"onboarding":{"notes":""}}`, `{"name":"P","domain_names":["a.example","b.example"],"onboarding":{"notes":"signed"}}`,
			"domain_names: a.example -> a.example,b.example; onboarding.notes: - -> signed"},
		{`{"name":"P","version":1}`, `{"name":"P","version":2}`, "-"},
	}
	for _, tt := range tests {
		e := orgrel.AuditEntry{}
		if tt.before != "" {
			e.Before = []byte(tt.before)
		}
		if tt.after != "" {
			e.After = []byte(tt.after)
		}
		if got := Summarize(e); got != tt.want {
			t.Errorf("Summarize(%s → %s) = %q, want %q", tt.before, tt.after, got, tt.want)
		}
	}
}
