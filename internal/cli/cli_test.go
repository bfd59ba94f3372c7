package cli

import (
	"flag"
	"runtime/debug"
	"strings"
	"testing"
	"time"
)

func TestVersionOf(t *testing.T) {
	bi := &debug.BuildInfo{GoVersion: "go1.26.0", Main: debug.Module{Path: "github.com/calfed/calfed", Version: "v1.4.0"},
		Settings: []debug.BuildSetting{{Key: "vcs.revision", Value: "0123abcd"}, {Key: "vcs.time", Value: "2026-11-30T10:00:00Z"},
			{Key: "vcs.modified", Value: "true"}, {Key: "GOOS", Value: "linux"}, {Key: "GOARCH", Value: "amd64"}, {Key: "CGO_ENABLED", Value: "0"}}}
	got := versionOf("calfed", "dev", bi)
	for _, want := range []string{"calfed v1.4.0\n", "module:   github.com/calfed/calfed", "revision: 0123abcd (modified)", "time:     2026-11-30T10:00:00Z", "go:       go1.26.0 linux/amd64, CGO_ENABLED=0"} {
		if !strings.Contains(got, want) {
			t.Errorf("versionOf = %q, want %q in it", got, want)
		}
	}
	if got := versionOf("calfed", "v2.0.0-rc1", bi); !strings.HasPrefix(got, "calfed v2.0.0-rc1\n") {
		t.Errorf("versionOf with ldflags = %q", got)
	}
	bare := &debug.BuildInfo{GoVersion: "go1.26.0", Main: debug.Module{Path: "github.com/calfed/calfed", Version: "(devel)"}}
	if got := versionOf("calfed", "dev", bare); !strings.Contains(got, "calfed (devel)") || !strings.Contains(got, "revision: unknown") {
		t.Errorf("versionOf without VCS = %q", got)
	}
}

func TestLookup(t *testing.T) {
	for _, tc := range []struct {
		args []string
		name string
		rest int
	}{
		{[]string{"trust", "certificate", "new", "-slot", "next"}, "trust certificate new", 2},
		{[]string{"trust", "new", "x"}, "trust new", 1},
		{[]string{"audit"}, "audit", 0},
	} {
		c, rest, ok := Calfed.Lookup(tc.args)
		if !ok || c.Name != tc.name || len(rest) != tc.rest {
			t.Errorf("Lookup(%q) = %q, %q, %v; want %q", tc.args, c.Name, rest, ok, tc.name)
		}
	}
	if _, _, ok := Calfed.Lookup([]string{"trust"}); ok {
		t.Error("Lookup(trust) found a command; it is a group")
	}
}

type plainErr string

func (e plainErr) Error() string { return string(e) }

func TestPlain(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{`store: invalid value: -level: orgrel: unknown access level "Lots" (want None, AvailabilityOnly or LimitedDetails)`, `-level: unknown access level "Lots" (want None, AvailabilityOnly or LimitedDetails)`},
		{"store: not found: relationship X", "not found: relationship X"},
		{"relationships[0] (X): store: invalid value: domain_names: x", "relationships[0] (X): domain_names: x"},
		{"config: no configuration file: give -config FILE", "no configuration file: give -config FILE"},
		{"tls: cert_file and key_file go together", "tls: cert_file and key_file go together"},
		{"store: invalid value", "invalid value"},
		{`store: invalid value: domain: domainname: invalid: domain name "bad domain" is not a valid host name`, `domain: domain name "bad domain" is not a valid host name`},
	} {
		if got := Plain(plainErr(tc.in)); got != tc.want {
			t.Errorf("Plain(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestDefaultOf(t *testing.T) {
	fl := flag.NewFlagSet("x", flag.ContinueOnError)
	fl.Duration("week", 168*time.Hour, "")
	fl.Duration("half", 90*time.Minute, "")
	fl.Duration("five", 5*time.Minute, "")
	fl.Duration("ten", 10*time.Second, "")
	fl.String("s", "0h0m", "")
	for name, want := range map[string]string{"week": "168h", "half": "1h30m", "five": "5m", "ten": "10s", "s": "0h0m"} {
		if got := defaultOf(fl.Lookup(name)); got != want {
			t.Errorf("defaultOf(-%s) = %q, want %q", name, got, want)
		}
	}
}
