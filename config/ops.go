package config

import (
	"fmt"
	"io"
	"log/slog"
	"reflect"
	"strings"
	"time"
)

// LogConfig is how the server logs.
type LogConfig struct {
	// Format is text (default: key=value lines) or json (one JSON object
	// a line, for log collectors).
	Format string `yaml:"format"`
	// Level is debug, info (default), warn or error. calfed serve
	// -log-level overrides it; SIGHUP applies a changed one.
	Level string `yaml:"level"`
}

// AccessLogConfig tunes the information-governance access log: one log
// line and one store record per partner request.
type AccessLogConfig struct {
	// Retention is how long records are kept in the store before they
	// are pruned (hourly); default 8760h (a year). SIGHUP applies a
	// changed one.
	Retention Duration `yaml:"retention"`
}

// HealthConfig places the health endpoints. /healthz and /readyz are
// always on the admin listener.
type HealthConfig struct {
	// Public serves /healthz and /readyz on the public listener too, for
	// a load balancer that can only reach that one. Default false.
	Public bool `yaml:"public"`
}

// DefaultAccessRetention is access_log.retention's default.
const DefaultAccessRetention = 365 * 24 * time.Hour

func (c *Config) opsDefaults() {
	if c.AccessLog.Retention <= 0 {
		c.AccessLog.Retention = Duration(DefaultAccessRetention)
	}
}

// LogLevel is log.level as a slog level; info when unset.
func (c *Config) LogLevel() (slog.Level, error) {
	var l slog.Level
	if c.Log.Level == "" {
		return slog.LevelInfo, nil
	}
	if err := l.UnmarshalText([]byte(c.Log.Level)); err != nil {
		return 0, fmt.Errorf("log.level: %q: write debug, info, warn or error", c.Log.Level)
	}
	return l, nil
}

// NewLogHandler is a handler in log.format writing to w at level's
// level (a *slog.LevelVar can change it while the server runs).
func (c *Config) NewLogHandler(w io.Writer, level slog.Leveler) (slog.Handler, error) {
	opts := &slog.HandlerOptions{Level: level}
	switch strings.ToLower(c.Log.Format) {
	case "", "text":
		return slog.NewTextHandler(w, opts), nil
	case "json":
		return slog.NewJSONHandler(w, opts), nil
	}
	return nil, fmt.Errorf("log.format: %q: write text or json", c.Log.Format)
}

// opsWarnings are the operations settings that work but that a careful
// operator would not choose unknowingly: an admin listener beyond
// loopback, whose metrics and readiness need no token (unless
// admin.insecure_listen says the risk is accepted).
func (c *Config) opsWarnings() []string {
	var out []string
	if !loopback(c.Admin.Listen) && !c.Admin.InsecureListen {
		out = append(out, fmt.Sprintf("admin.listen: %s is not a loopback address: /metrics and /readyz there answer anyone who reaches it, without a token, and name our relationships and mailboxes; firewall it to your scrapers", c.Admin.Listen))
	}
	return out
}

// checkOps adds the operations settings' problems.
func (c *Config) checkOps(bad func(format string, args ...any)) {
	if _, err := c.LogLevel(); err != nil {
		bad("%v", err)
	}
	if _, err := c.NewLogHandler(io.Discard, slog.LevelInfo); err != nil {
		bad("%v", err)
	}
	if c.Admin.Pprof && !loopback(c.Admin.Listen) && !c.Admin.InsecureListen {
		bad("admin.pprof: the profiler would be served on %s, which is not a loopback address; it reveals the server's memory and can be made to work hard: keep admin.listen on 127.0.0.1, or set admin.insecure_listen: true to accept the risk", c.Admin.Listen)
	}
	if r := time.Duration(c.AccessLog.Retention); r > 0 && r < time.Hour {
		bad("access_log.retention: %v is less than an hour; write how long partner requests must be kept, e.g. 8760h for a year", r)
	}
}

// Changed names, by their YAML paths (log.level, limits.max_mailboxes,
// mailboxes), the settings that differ between two configurations.
func Changed(a, b *Config) []string {
	var out []string
	diff(reflect.ValueOf(*a), reflect.ValueOf(*b), "", &out)
	return out
}

func diff(a, b reflect.Value, path string, out *[]string) {
	if a.Kind() == reflect.Struct {
		t := a.Type()
		for i := range t.NumField() {
			f := t.Field(i)
			name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
			if name == "-" || !f.IsExported() {
				continue
			}
			p := name
			if path != "" {
				p = path + "." + name
			}
			diff(a.Field(i), b.Field(i), p, out)
		}
		return
	}
	if !reflect.DeepEqual(a.Interface(), b.Interface()) {
		*out = append(*out, path)
	}
}
