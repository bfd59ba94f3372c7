package config

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"slices"
	"strings"
	"testing"
	"time"
)

// log.format and log.level choose the handler and level; access_log,
// health and admin.pprof read as documented, with their defaults; bad
// values are named with the fix.
func TestOpsSettings(t *testing.T) {
	c, err := Parse([]byte("log: {format: json, level: debug}\naccess_log: {retention: 2160h}\nhealth: {public: true}\nadmin: {pprof: true}\n"))
	if err != nil {
		t.Fatal(err)
	}
	if l, err := c.LogLevel(); err != nil || l != slog.LevelDebug {
		t.Errorf("LogLevel = %v, %v", l, err)
	}
	var buf bytes.Buffer
	h, err := c.NewLogHandler(&buf, slog.LevelDebug)
	if err != nil {
		t.Fatal(err)
	}
	slog.New(h).Debug("hello", "k", "v")
	var line map[string]any
	if err := json.Unmarshal(buf.Bytes(), &line); err != nil || line["msg"] != "hello" || line["k"] != "v" {
		t.Errorf("a json log line = %q (%v)", buf.String(), err)
	}
	if time.Duration(c.AccessLog.Retention) != 90*24*time.Hour || !c.Health.Public || !c.Admin.Pprof {
		t.Errorf("parsed = %+v %+v %+v", c.AccessLog, c.Health, c.Admin)
	}

	d, err := Parse([]byte("{}"))
	if err != nil {
		t.Fatal(err)
	}
	if l, _ := d.LogLevel(); l != slog.LevelInfo || time.Duration(d.AccessLog.Retention) != DefaultAccessRetention || d.Health.Public || d.Admin.Pprof {
		t.Errorf("defaults: level %v, %+v", l, d)
	}

	bad, _ := Parse([]byte("log: {format: xml, level: loud}\naccess_log: {retention: 10m}\nadmin: {pprof: true, listen: 0.0.0.0:8081}\n"))
	_, err = bad.Build()
	for _, want := range []string{"log.level: \"loud\": write debug, info, warn or error", "log.format: \"xml\": write text or json",
		"access_log.retention: 10m0s is less than an hour", "admin.pprof: the profiler would be served on 0.0.0.0:8081"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Build() = %v; want %q", err, want)
		}
	}
}

// An admin listener beyond loopback is warned about: its metrics and
// readiness need no token.
func TestOpsWarnings(t *testing.T) {
	for _, c := range []struct {
		listen string
		warn   bool
	}{{"127.0.0.1:8081", false}, {"[::1]:8081", false}, {"0.0.0.0:8081", true}, {"10.0.0.5:8081", true}} {
		cfg, err := Parse([]byte("admin: {listen: \"" + c.listen + "\"}\n"))
		if err != nil {
			t.Fatal(err)
		}
		w := cfg.opsWarnings()
		if (len(w) > 0) != c.warn || c.warn && !strings.Contains(w[0], "without a token") {
			t.Errorf("admin.listen %s: warnings %q, want a warning: %v", c.listen, w, c.warn)
		}
	}
}

// Changed names each setting that differs by its YAML path.
func TestChanged(t *testing.T) {
	a, _ := Parse([]byte("listen: 127.0.0.1:1\nlog: {level: info}\nmailboxes: [{address: a@example.org, calendar: a.ics}]\n"))
	b, _ := Parse([]byte("listen: 127.0.0.1:2\nlog: {level: debug}\nmailboxes: [{address: b@example.org, calendar: a.ics}]\n"))
	if got := Changed(a, b); !slices.Equal(got, []string{"listen", "mailboxes", "log.level"}) {
		t.Errorf("Changed = %v", got)
	}
	if got := Changed(a, a); len(got) != 0 {
		t.Errorf("Changed(a, a) = %v", got)
	}
}
