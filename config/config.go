// Package config reads calfed's server configuration file: YAML, decoded
// strictly, validated as a whole so that every problem is reported at
// once, and turned into the objects the server runs on.
package config

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/calfed/calfed/admin"
	"github.com/calfed/calfed/caldav"
	"github.com/calfed/calfed/calendar"
	"github.com/calfed/calfed/certs"
	"github.com/calfed/calfed/dnsproof"
	"github.com/calfed/calfed/internal/domainname"
	"github.com/calfed/calfed/internal/outbound"
	"github.com/calfed/calfed/internal/wintz"
	"github.com/calfed/calfed/internal/yamlcheck"
	"github.com/calfed/calfed/orgrel"
	"github.com/calfed/calfed/store"
)

// Config is calfed's server configuration file (YAML). Every field is
// optional unless it says otherwise; the zero value of each is its default.
type Config struct {
	// Listen is the public listener's address. Default 127.0.0.1:8080.
	Listen string `yaml:"listen"`
	// TLS serves the public listener over HTTPS: certificate files
	// (reloaded when they change) or ACME.
	TLS struct {
		CertFile string `yaml:"cert_file"`
		KeyFile  string `yaml:"key_file"`
		// MinVersion is the oldest TLS accepted: 1.2 (default) or 1.3;
		// 1.1 and 1.0 only for partners that still need them, with a
		// warning in the log.
		MinVersion string `yaml:"min_version"`
		// ACME gets certificates for these host names from an ACME CA
		// (Let's Encrypt by default) instead of files.
		ACME struct {
			Hosts     []string `yaml:"hosts"`
			Email     string   `yaml:"email"`
			Directory string   `yaml:"directory_url"`
		} `yaml:"acme"`
	} `yaml:"tls"`
	// ServerName is reported in EWS error details. Default "calfed".
	ServerName string `yaml:"server_name"`
	// PublicURL is the base of the URLs Autodiscover hands out, e.g.
	// https://mail.contoso.example. Default: the scheme each request came
	// over and a host of ours (PublicHosts); set it in production, and
	// always behind a reverse proxy or NAT.
	PublicURL string `yaml:"public_url"`
	// PublicHosts, without public_url, are the host names partners reach
	// this server by, the first the default. A request's Host header is
	// used in the URLs Autodiscover hands out only when it is one of
	// these, a name of the TLS certificate (tls.cert_file's DNS names or
	// tls.acme.hosts, after these) or the address the request arrived at;
	// any other Host is replaced by the first name, or with none by that
	// address. Default: none.
	PublicHosts []string `yaml:"public_hosts"`
	// Autodiscover tunes discovery.
	Autodiscover struct {
		// RedirectListen, when set (e.g. ":80"), serves the plain-HTTP
		// redirect probe http://autodiscover.<domain>/autodiscover/autodiscover.xml
		// with a 302 to public_url, and nothing else.
		RedirectListen string `yaml:"redirect_listen"`
		// RedirectAddresses answers lookups of an address with another
		// (POX redirectAddr, SOAP RedirectAddress).
		RedirectAddresses map[string]string `yaml:"redirect_addresses"`
		// RedirectURL answers POX lookups of addresses outside our domains
		// with redirectUrl.
		RedirectURL string `yaml:"redirect_url"`
	} `yaml:"autodiscover"`
	// Limits bound what a request may ask for.
	Limits struct {
		MaxRequestBytes int64 `yaml:"max_request_bytes"` // default 1048576
		MaxMailboxes    int   `yaml:"max_mailboxes"`     // per request; default 100
		MaxWindowDays   int   `yaml:"max_window_days"`   // default 62
		MaxResultSet    int   `yaml:"max_result_set"`    // events per mailbox; default 1000
		// MaxPendingBytes bounds the bytes held at once by request bodies
		// still arriving from senders not yet authenticated (token and
		// anonymous endpoints); beyond it requests get 503. Default 32 MiB.
		MaxPendingBytes int64 `yaml:"max_pending_bytes"`
		// MaxConnections bounds the public listener's open connections;
		// more wait in the kernel's queue. Default 4096.
		MaxConnections int `yaml:"max_connections"`
		// TokenCacheEntries and TokenCacheBytes bound the cache of
		// delegation tokens validated (and, under
		// federation.refuse_token_reuse, of the assertions recorded as
		// used): entries, default 10000, and bytes, default 16777216
		// (16 MiB). Beyond either the oldest entries are forgotten; a
		// forgotten token is validated in full again.
		TokenCacheEntries int `yaml:"token_cache_entries"`
		TokenCacheBytes   int `yaml:"token_cache_bytes"`
		// MemoryLimitBytes is the process's soft memory limit (Go's
		// runtime/debug.SetMemoryLimit): as the heap nears it the garbage
		// collector runs more often, so that the garbage of loading tens
		// of thousands of calendars does not grow the process to two or
		// three times what it keeps. Set it below the memory the server
		// may use, with room for what it keeps (about 50 KB a mailbox of
		// a busy calendar); the server uses more CPU near it, and more
		// memory than it if what it keeps needs more. Default 0: the Go
		// runtime's own (the GOMEMLIMIT environment variable, or none).
		MemoryLimitBytes int64 `yaml:"memory_limit_bytes"`
	} `yaml:"limits"`
	// Auth tunes partners' service-account sign-in (HTTP Basic): how
	// failing sources and account names are throttled, and how secret
	// hashing is shared out. The defaults stop online guessing.
	Auth struct {
		// MaxFailures is how many failed sign-ins a source or an account
		// name may have before it is refused; default 5.
		MaxFailures int `yaml:"max_failures"`
		// FailureWindow is how long failures are remembered after the
		// last failure or refusal; default 15m.
		FailureWindow Duration `yaml:"failure_window"`
		// Lockout is the first refusal, doubled by every further failure;
		// default 1s.
		Lockout Duration `yaml:"lockout"`
		// MaxLockout caps the refusal; default 15m.
		MaxLockout Duration `yaml:"max_lockout"`
		// MaxTracked bounds the sources and names remembered; default
		// 100000.
		MaxTracked int `yaml:"max_tracked"`
		// TrustedProxies are addresses or CIDR networks of reverse proxies
		// in front of calfed, whose X-Forwarded-For names the client;
		// default none: the peer address is the client.
		TrustedProxies []string `yaml:"trusted_proxies"`
		// VerifyWorkers is how many secrets are hashed at once; default
		// GOMAXPROCS.
		VerifyWorkers int `yaml:"verify_workers"`
		// PerSource is how many secret checks one source may have waiting
		// or running; more are refused at once; default 4.
		PerSource int `yaml:"per_source"`
	} `yaml:"auth"`
	// Calendars tune the calendar engine.
	Calendars struct {
		ReloadInterval Duration `yaml:"reload_interval"` // how often files are checked for changes; default 2s
		HorizonPast    Duration `yaml:"horizon_past"`    // recurrences pre-expanded before now; default 1488h (62 days)
		HorizonAhead   Duration `yaml:"horizon_ahead"`   // recurrences pre-expanded after now; default 2232h (93 days); windows outside are expanded when asked
		ReadTimeout    Duration `yaml:"read_timeout"`    // one calendar's read and parse, beyond which its mailbox fails until the next reload; default 30s
		// Strict fails a mailbox's calendar on any problem, instead of
		// repairing what exporters get wrong and skipping events that
		// cannot be read (each logged, and shown by calfed calendar check).
		Strict bool `yaml:"strict"`
	} `yaml:"calendars"`
	// Mailboxes is the directory. Required, unless caldav servers list
	// their mailboxes.
	Mailboxes []MailboxConfig `yaml:"mailboxes"`
	// CalDAV are the CalDAV servers mailboxes' calendars sync from.
	CalDAV []CalDAVConfig `yaml:"caldav"`
	// DataDir holds the SQLite store and other state. Default: "data"
	// beside the configuration file.
	DataDir string `yaml:"data_dir"`
	// Store is where federation objects live (relationships, sharing
	// choices, service accounts, the audit log); they are changed with the
	// calfed orgrel/mailbox/account commands, never in this file.
	Store struct {
		Driver       string   `yaml:"driver"`        // sqlite (default) or postgres
		DSN          string   `yaml:"dsn"`           // sqlite: file (default <data_dir>/calfed.db); postgres: connection URL, required
		PollInterval Duration `yaml:"poll_interval"` // how often changes are looked for; default 250ms
		// Heartbeat is how often the server checks that its access policy
		// is the store's current one and records the change it has
		// applied, for the commands that wait for a change (-wait); a
		// server silent for four heartbeats counts as gone. Default 5s.
		Heartbeat Duration `yaml:"heartbeat"`
		// MaxPolicyAge is how old the access policy in force may grow
		// while it cannot be reloaded (the store or the federation keys
		// unreadable) before the server refuses federated and
		// service-account callers with 503 until a reload lands;
		// at least three heartbeats. Default 2m.
		MaxPolicyAge Duration `yaml:"max_policy_age"`
	} `yaml:"store"`
	// Federation tunes delegation-token validation.
	Federation struct {
		// ClockSkew is tolerated on a token's NotBefore and NotOnOrAfter,
		// and on NotBefore + its offer's lifetime (where Exchange allows
		// none); default 5m.
		ClockSkew Duration `yaml:"clock_skew"`
		// RefuseTokenReuse accepts each delegation token, and each
		// assertion, once. By default a token is accepted as often as it
		// is presented while NotBefore + its offer's lifetime (+ skew)
		// holds, as Exchange does: it keeps no replay cache and re-sends
		// tokens it received (docs/protocol.md §4.6). Default false.
		RefuseTokenReuse bool `yaml:"refuse_token_reuse"`
		// AllowTokenReuse is deprecated: reuse is accepted by default now.
		// An explicit false still refuses reuse (as refuse_token_reuse:
		// true), an explicit true changes nothing; either way Deprecations
		// names it.
		AllowTokenReuse *bool `yaml:"allow_token_reuse"`
		// AcceptRSA15KeyTransport accepts tokens whose key is wrapped with
		// RSA PKCS#1 v1.5 (rsa-1_5) beside RSA-OAEP. The gateway uses OAEP;
		// turn this on only for an issuer that needs it. Default false.
		AcceptRSA15KeyTransport bool `yaml:"accept_rsa15_key_transport"`
		// TokenCacheEntries is deprecated: write limits.token_cache_entries.
		// It is still read when that is not set; either way Deprecations
		// names it.
		TokenCacheEntries int `yaml:"token_cache_entries"`
		// MetadataRefresh is how often the token issuer's metadata is
		// fetched again from its recorded URL; default 24h.
		MetadataRefresh Duration `yaml:"metadata_refresh"`
	} `yaml:"federation"`
	// DNS is how domain proofs are looked up.
	DNS struct {
		Resolvers     []string `yaml:"resolvers"`     // host:port; default the system's
		Authoritative bool     `yaml:"authoritative"` // ask the zone's own name servers
		Timeout       Duration `yaml:"timeout"`       // per query; default 3s
		Recheck       Duration `yaml:"recheck"`       // how often the server re-checks our proofs; default 24h
	} `yaml:"dns"`
	// Outbound is how calfed reaches other servers (partners' Autodiscover
	// and EWS, the token issuer and its metadata, the gateway's
	// registration service, ACME): every outbound call goes through
	// internal/outbound with these settings.
	Outbound struct {
		// Proxy is the HTTP(S) proxy's URL, e.g. http://proxy.internal:3128.
		// Default: the environment's HTTPS_PROXY / HTTP_PROXY.
		Proxy string `yaml:"proxy"`
		// NoProxy are destinations reached directly, in NO_PROXY's forms
		// (host, .domain, IP, CIDR, with an optional :port, or *); added to
		// the environment's NO_PROXY when proxy is not set. Loopback is
		// always direct. Default none.
		NoProxy []string `yaml:"no_proxy"`
	} `yaml:"outbound"`
	// Users tunes how our own users sign in to the free/busy fronts
	// (/freebusy/…): besides their tokens (calfed user token new), a
	// trusted reverse proxy's user header, and anonymous networks.
	Users struct {
		// ProxyHeader names the header in which a reverse proxy in front
		// of calfed names the signed-in user's address (e.g.
		// X-Remote-User); read only from ProxySources. Default: none.
		ProxyHeader string `yaml:"proxy_header"`
		// ProxySources are the proxy's addresses or CIDR networks, as its
		// connections arrive; required with proxy_header.
		ProxySources []string `yaml:"proxy_sources"`
		// AnonymousSources are client addresses or CIDR networks served
		// without signing in: our mailboxes' availability only, never
		// details, never partners'. Default: none.
		AnonymousSources []string `yaml:"anonymous_sources"`
	} `yaml:"users"`
	// Partners tunes how our users' questions reach partners.
	Partners struct {
		Timeout         Duration `yaml:"timeout"`          // per partner and question; default 10s
		Cache           Duration `yaml:"cache"`            // how long answers are kept; default 30s; 0s in the file: default
		BreakerFailures int      `yaml:"breaker_failures"` // failures in a row before a partner is not asked; default 5
		BreakerCooldown Duration `yaml:"breaker_cooldown"` // how long it is not asked then; default 30s
	} `yaml:"partners"`
	// Admin is the admin API's own listener, never the public one.
	Admin struct {
		Listen    string `yaml:"listen"`     // default 127.0.0.1:8081
		TokenFile string `yaml:"token_file"` // file holding the bearer token; without it the admin API is off
		// InsecureListen allows a listen address other than loopback.
		// The admin API speaks plain HTTP with a bearer token: reach it
		// through SSH or a TLS-terminating proxy instead when you can.
		InsecureListen bool `yaml:"insecure_listen"`
		// Pprof serves Go's profiler (net/http/pprof) under /debug/pprof/
		// on the admin listener. Default false.
		Pprof bool `yaml:"pprof"`
	} `yaml:"admin"`
	// Log, AccessLog and Health are operations settings (ops.go).
	Log       LogConfig       `yaml:"log"`
	AccessLog AccessLogConfig `yaml:"access_log"`
	Health    HealthConfig    `yaml:"health"`

	// Dir is the directory of the configuration file; relative paths
	// start there. Load sets it.
	Dir string `yaml:"-"`
	// File is the configuration file's path as Load was given it, for
	// messages about the file.
	File string `yaml:"-"`
	// Source, when set, resolves calendar paths instead of the file
	// system (the embedded demo).
	Source func(string) calendar.Source `yaml:"-"`

	lines lines // each field's line in the file, for problems
}

// MailboxConfig is one mailbox.
type MailboxConfig struct {
	Address     string `yaml:"address"`      // SMTP address; required
	DisplayName string `yaml:"display_name"` // default: the address
	Kind        string `yaml:"kind"`         // user (default), shared, room, equipment
	TimeZone    string `yaml:"time_zone"`    // IANA or Windows name; default UTC
	Calendar    string `yaml:"calendar"`     // .ics file or directory of .ics files; this or caldav required
	// CalDAV takes the calendar from a server of the caldav list instead
	// of files.
	CalDAV          *MailboxCalDAV      `yaml:"caldav"`
	ExternalSharing string              `yaml:"external_sharing"` // None, AvailabilityOnly (default), LimitedDetails
	Groups          []string            `yaml:"groups"`
	WorkingHours    *WorkingHoursConfig `yaml:"working_hours"`
	// AutoReply is the automatic reply partners' senders see in their
	// OutOfOffice MailTip (docs/protocol.md §8.3). Without it, an out-of-office event
	// covering the present gives a generic one.
	AutoReply *struct {
		Message string `yaml:"message"` // the reply text; required
		Start   string `yaml:"start"`   // RFC 3339; default: already on
		End     string `yaml:"end"`     // RFC 3339, after start; default: until removed
	} `yaml:"auto_reply"`
	// MailTip is a custom MailTip, returned to partners whose relationship
	// has MailTipsAccessLevel All.
	MailTip string `yaml:"mail_tip"`
}

// WorkingHoursConfig is a mailbox's working hours.
type WorkingHoursConfig struct {
	Days  []string `yaml:"days"`  // day names; default Monday–Friday
	Start string   `yaml:"start"` // HH:MM in the mailbox zone; required
	End   string   `yaml:"end"`   // HH:MM; required, after start
}

// Duration is a time.Duration written as "2s", "744h".
type Duration time.Duration

func (d *Duration) UnmarshalText(b []byte) error {
	v, err := time.ParseDuration(string(b))
	if err != nil {
		return err
	}
	if v < 0 {
		return fmt.Errorf("negative duration %q", b)
	}
	*d = Duration(v)
	return nil
}

// Load reads and strictly decodes a config file: unknown fields are
// errors.
func Load(path string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	cfg, err := Parse(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	abs, err := filepath.Abs(filepath.Dir(path))
	if err != nil {
		return nil, err
	}
	cfg.Dir = abs
	cfg.File = path
	return cfg, nil
}

// Parse strictly decodes a configuration; relative paths in it start at
// the working directory unless Dir is set. Every problem in the file is
// reported at once, each with its field and line.
func Parse(data []byte) (*Config, error) {
	var cfg Config
	lines, errs := yamlcheck.Decode(data, &cfg)
	if len(errs) > 0 {
		return nil, invalid(errs...)
	}
	cfg.lines = lines
	cfg.defaults()
	return &cfg, nil
}

// defaults fills in what the server needs where the file says nothing.
func (c *Config) defaults() {
	def := func(s *string, v string) {
		if *s == "" {
			*s = v
		}
	}
	defDur := func(d *Duration, v time.Duration) {
		if *d <= 0 {
			*d = Duration(v)
		}
	}
	def(&c.Listen, "127.0.0.1:8080")
	def(&c.Admin.Listen, "127.0.0.1:8081")
	if c.Limits.MaxPendingBytes <= 0 {
		c.Limits.MaxPendingBytes = 32 << 20
	}
	if c.Limits.MaxConnections <= 0 {
		c.Limits.MaxConnections = 4096
	}
	defDur(&c.Calendars.ReloadInterval, 2*time.Second)
	defDur(&c.Federation.MetadataRefresh, 24*time.Hour)
	defDur(&c.DNS.Recheck, 24*time.Hour)
	defDur(&c.Store.Heartbeat, 5*time.Second)
	defDur(&c.Store.MaxPolicyAge, 2*time.Minute)
	c.opsDefaults()
}

// RefuseTokenReuse is whether delegation tokens are accepted once only:
// refuse_token_reuse, or the deprecated allow_token_reuse set to false.
func (c *Config) RefuseTokenReuse() bool {
	f := c.Federation
	return f.RefuseTokenReuse || (f.AllowTokenReuse != nil && !*f.AllowTokenReuse)
}

// TokenCache is the bounds of the cache of delegation tokens: entries
// (limits.token_cache_entries, or the deprecated
// federation.token_cache_entries) and bytes; zero for the default.
func (c *Config) TokenCache() (entries, bytes int) {
	entries = c.Limits.TokenCacheEntries
	if entries == 0 {
		entries = c.Federation.TokenCacheEntries
	}
	return entries, c.Limits.TokenCacheBytes
}

// Deprecations names the settings in the file that still work but should
// be replaced; Build adds them to its Warnings, which `calfed config test`
// prints and `calfed serve` logs.
func (c *Config) Deprecations() []string {
	var out []string
	if r := c.Federation.AllowTokenReuse; r != nil {
		if *r {
			out = append(out, "federation.allow_token_reuse is deprecated: token reuse within the offer's lifetime is accepted by default; remove the setting")
		} else {
			out = append(out, "federation.allow_token_reuse is deprecated: write refuse_token_reuse: true instead of allow_token_reuse: false")
		}
	}
	if c.Federation.TokenCacheEntries != 0 {
		out = append(out, "federation.token_cache_entries is deprecated: write limits.token_cache_entries instead")
	}
	return out
}

// Built is the configuration turned into the objects the server runs on.
type Built struct {
	Entries []calendar.Entry
	// CalDAV are the CalDAV servers the entries' sources sync from; the
	// server runs their rounds.
	CalDAV  []*caldav.Server
	Sharing map[string]orgrel.Level // mailboxes' configured external sharing
	// Warnings are choices that work but that a careful operator would
	// not make unknowingly; config test prints them and serve logs them.
	Warnings []string
}

// Build validates the whole configuration and returns every problem found,
// not just the first.
func (c *Config) Build() (*Built, error) {
	var errs []error
	// Each problem starts with its field, and is reported at its line.
	bad := func(format string, args ...any) {
		msg := fmt.Sprintf(format, args...)
		errs = append(errs, Problem{Line: c.lines.Of(fieldOf(msg)), Msg: msg})
	}
	b := &Built{Sharing: map[string]orgrel.Level{}}
	servers := c.buildCalDAV(b, bad)
	list := c.mailboxList(bad)
	if len(list) == 0 {
		bad("mailboxes: at least one mailbox is required")
	}
	seen := map[string]string{}
	for _, item := range list {
		m, where := item.m, item.where
		addr, err := domainname.Address(strings.TrimSpace(m.Address))
		if err != nil {
			bad("%s.address: %v; write an SMTP address such as alice@contoso.example", where, err)
		} else {
			first := where
			where = fmt.Sprintf("%s (%s)", where, addr)
			if other, dup := seen[addr]; dup {
				bad("%s.address: also used by %s", where, other)
			}
			seen[addr] = first
		}
		mb := calendar.Mailbox{Address: addr, DisplayName: m.DisplayName, Groups: m.Groups, Location: time.UTC}
		if mb.DisplayName == "" {
			mb.DisplayName = addr
		}
		if mb.Kind, err = calendar.ParseKind(m.Kind); err != nil {
			bad("%s.kind: %v", where, err)
		}
		if m.TimeZone != "" {
			if mb.Location, err = wintz.Load(m.TimeZone); err != nil {
				bad("%s.time_zone: %v", where, err)
			}
		}
		if m.ExternalSharing != "" {
			l, err := orgrel.ParseLevel(m.ExternalSharing)
			if err != nil {
				bad("%s.external_sharing: %v", where, err)
			}
			b.Sharing[addr] = l
		}
		if m.WorkingHours != nil {
			wh, err := parseWorkingHours(m.WorkingHours.Days, m.WorkingHours.Start, m.WorkingHours.End)
			if err != nil {
				bad("%s.working_hours: %v", where, err)
			}
			mb.WorkingHours = wh
		}
		if ar := m.AutoReply; ar != nil {
			mb.AutoReply = &calendar.AutoReply{Message: strings.TrimSpace(ar.Message)}
			if mb.AutoReply.Message == "" {
				bad("%s.auto_reply.message: required", where)
			}
			for _, f := range []struct {
				name, v string
				dst     *time.Time
			}{{"start", ar.Start, &mb.AutoReply.Start}, {"end", ar.End, &mb.AutoReply.End}} {
				if f.v == "" {
					continue
				}
				t, err := time.Parse(time.RFC3339, f.v)
				if err != nil {
					bad("%s.auto_reply.%s: %q is not an RFC 3339 time", where, f.name, f.v)
				}
				*f.dst = t
			}
			if a := mb.AutoReply; !a.Start.IsZero() && !a.End.IsZero() && !a.End.After(a.Start) {
				bad("%s.auto_reply.end: not after start", where)
			}
		}
		mb.MailTip = strings.TrimSpace(m.MailTip)
		var src calendar.Source
		switch {
		case m.CalDAV != nil && m.Calendar != "":
			bad("%s: calendar and caldav are two sources; give one", where)
		case m.CalDAV != nil:
			src = c.calDAVSource(servers, where, addr, m, bad)
		case m.Calendar == "":
			bad("%s.calendar: required (an .ics file or a directory of .ics files, or caldav: {server: NAME})", where)
		case c.Source != nil:
			src = c.Source(m.Calendar)
		default:
			p := m.Calendar
			if !filepath.IsAbs(p) {
				p = filepath.Join(c.Dir, p)
			}
			if _, err := os.Stat(p); err != nil {
				bad("%s.calendar: %s", where, fileProblem(p, err))
			}
			src = calendar.FileSource{Path: p}
		}
		b.Entries = append(b.Entries, calendar.Entry{Mailbox: mb, Source: src})
	}
	switch c.Store.Driver {
	case "", "sqlite":
	case "postgres":
		if c.Store.DSN == "" {
			bad("store.dsn: required for the postgres driver (postgres://user:password@host/db)")
		}
	default:
		bad("store.driver: %q (want sqlite or postgres)", c.Store.Driver)
	}
	if hb, age := time.Duration(c.Store.Heartbeat), time.Duration(c.Store.MaxPolicyAge); age < 3*hb {
		bad("store.max_policy_age: %v is less than three heartbeats (store.heartbeat %v), so a healthy server would refuse partners between its checks; raise it to at least %v or shorten the heartbeat", age, hb, 3*hb)
	}
	if r := c.Federation.AllowTokenReuse; r != nil && *r && c.Federation.RefuseTokenReuse {
		bad("federation: refuse_token_reuse: true contradicts the deprecated allow_token_reuse: true; remove allow_token_reuse")
	}
	if c.Federation.TokenCacheEntries < 0 {
		bad("federation.token_cache_entries: %d is negative; write a positive limits.token_cache_entries instead", c.Federation.TokenCacheEntries)
	}
	if f, l := c.Federation.TokenCacheEntries, c.Limits.TokenCacheEntries; f != 0 && l != 0 && f != l {
		bad("federation.token_cache_entries: %d contradicts limits.token_cache_entries: %d; remove the deprecated federation.token_cache_entries", f, l)
	}
	if c.Limits.TokenCacheEntries < 0 {
		bad("limits.token_cache_entries: %d is negative; leave it out for the default, 10000", c.Limits.TokenCacheEntries)
	}
	if c.Limits.MemoryLimitBytes < 0 {
		bad("limits.memory_limit_bytes: %d is negative; leave it out for the Go runtime's own limit (GOMEMLIMIT, or none)", c.Limits.MemoryLimitBytes)
	}
	if c.Limits.TokenCacheBytes < 0 {
		bad("limits.token_cache_bytes: %d is negative; leave it out for the default, 16777216 (16 MiB)", c.Limits.TokenCacheBytes)
	}
	if c.Admin.TokenFile != "" {
		if _, err := ReadToken(c.Path(c.Admin.TokenFile)); err != nil {
			var pe *os.PathError
			if errors.As(err, &pe) {
				err = errors.New(fileProblem(c.Path(c.Admin.TokenFile), err))
			}
			bad("admin.token_file: %v", err)
		}
	}
	if c.PublicURL != "" {
		if u, err := url.Parse(c.PublicURL); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || (u.Path != "" && u.Path != "/") {
			bad("public_url: %q is not a base URL like https://mail.contoso.example", c.PublicURL)
		}
	}
	for i, h := range c.PublicHosts {
		if _, err := domainname.Canonical(strings.TrimSpace(h)); err != nil {
			bad("public_hosts[%d]: %v; write a host name such as mail.contoso.example, without scheme or port", i, err)
		}
	}
	if c.Autodiscover.RedirectListen != "" && !strings.HasPrefix(c.PublicURL, "https://") {
		bad("autodiscover.redirect_listen: needs public_url to be an https:// URL to redirect to")
	}
	redirected := map[string]string{}
	for from, to := range c.Autodiscover.RedirectAddresses {
		for _, a := range []string{from, to} {
			if _, err := domainname.Address(strings.TrimSpace(a)); err != nil {
				bad("autodiscover.redirect_addresses: %q: %q: %v; both must be SMTP addresses", from, to, err)
			}
		}
		if a, err := domainname.Address(strings.TrimSpace(from)); err == nil {
			if other, dup := redirected[a]; dup {
				bad("autodiscover.redirect_addresses: %q and %q are the same address", other, from)
			}
			redirected[a] = from
		}
	}
	for i, h := range c.TLS.ACME.Hosts {
		if _, err := domainname.Canonical(h); err != nil {
			bad("tls.acme.hosts[%d]: %v", i, err)
		}
	}
	if c.Autodiscover.RedirectURL != "" && !strings.HasPrefix(c.Autodiscover.RedirectURL, "https://") {
		bad("autodiscover.redirect_url: %q must be an https:// URL", c.Autodiscover.RedirectURL)
	}
	if (c.TLS.CertFile == "") != (c.TLS.KeyFile == "") {
		bad("tls: cert_file and key_file go together")
	}
	if c.TLS.CertFile != "" && c.TLS.KeyFile != "" {
		checkKeyPair(bad, c.Path(c.TLS.CertFile), c.Path(c.TLS.KeyFile))
	}
	checkListen(bad, "listen", c.Listen)
	checkListen(bad, "admin.listen", c.Admin.Listen)
	checkListen(bad, "autodiscover.redirect_listen", c.Autodiscover.RedirectListen)
	for i, r := range c.DNS.Resolvers {
		if _, _, err := net.SplitHostPort(r); err != nil {
			bad("dns.resolvers[%d]: %q is not host:port; write a resolver such as 10.0.0.53:53", i, r)
		}
	}
	if fi, err := os.Stat(c.DataPath()); err == nil && !fi.IsDir() {
		bad("data_dir: %s is not a directory", c.DataPath())
	}
	c.checkKeys(bad)
	if c.Admin.TokenFile != "" {
		if !loopback(c.Admin.Listen) && !c.Admin.InsecureListen {
			bad("admin.listen: %s is not a loopback address, and the admin API speaks plain HTTP with a bearer token; keep it on 127.0.0.1 and reach it through SSH or a TLS proxy, or set admin.insecure_listen: true to accept the risk", c.Admin.Listen)
		}
		if sameListener(c.Admin.Listen, c.Listen) {
			bad("admin.listen: %s is the public listener's address; the admin API needs its own, never reachable by partners (default 127.0.0.1:8081)", c.Admin.Listen)
		}
	}
	b.Warnings = append(b.Warnings, c.Deprecations()...)
	if c.PublicURL == "" && !loopback(c.Listen) {
		hosts := c.Hosts()
		def := "the address each request arrived at"
		for _, h := range hosts {
			if !strings.HasPrefix(h, "*.") {
				def = h
				break
			}
		}
		names := "no public_hosts or certificate names"
		if len(hosts) > 0 {
			names = strings.Join(hosts, ", ")
		}
		b.Warnings = append(b.Warnings, fmt.Sprintf("public_url is not set: Autodiscover builds the URLs it hands out from a request's Host header only when that names this server (%s; or the address the request arrived at), otherwise from %s; set public_url to the https:// URL partners reach, as you must behind a reverse proxy or NAT",
			names, def))
	}
	if sc := c.StoreConfig(); sc.Driver == "sqlite" {
		if fi, err := os.Stat(sc.DSN); err == nil && fi.Mode().Perm()&0o077 != 0 {
			b.Warnings = append(b.Warnings, fmt.Sprintf("store: %s is readable by others (mode %v); it holds the audit log and secret hashes: chmod 600 it", sc.DSN, fi.Mode().Perm()))
		}
	}
	if c.TLS.CertFile != "" && len(c.TLS.ACME.Hosts) > 0 {
		bad("tls: either certificate files or acme, not both")
	}
	if _, err := certs.ParseTLSVersion(c.TLS.MinVersion); err != nil {
		bad("tls.min_version: %v", err)
	}
	if _, err := prefixes(c.Users.ProxySources); err != nil {
		bad("users.proxy_sources: %v", err)
	}
	if _, err := prefixes(c.Users.AnonymousSources); err != nil {
		bad("users.anonymous_sources: %v", err)
	}
	if (c.Users.ProxyHeader == "") != (len(c.Users.ProxySources) == 0) {
		bad("users: proxy_header and proxy_sources go together: name the header your reverse proxy sets and the addresses it connects from")
	}
	if h := c.Users.ProxyHeader; h != "" && (strings.EqualFold(h, "Authorization") || strings.ContainsAny(h, " :\t")) {
		bad("users.proxy_header: %q is not a header name a proxy sets for the user, such as X-Remote-User", h)
	}
	if c.Partners.BreakerFailures < 0 {
		bad("partners.breaker_failures: %d is negative; leave it out for the default, 5", c.Partners.BreakerFailures)
	}
	if err := c.OutboundConfig().Check(); err != nil {
		bad("%v", err)
	}
	if _, err := c.trustedProxies(); err != nil {
		bad("auth.trusted_proxies: %v", err)
	}
	c.checkOps(bad)
	b.Warnings = append(b.Warnings, c.opsWarnings()...)
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return b, nil
}

// checkKeyPair reads the TLS files as serve will: each there and
// readable, the certificate a certificate, the key a private key private
// to its owner, and the two a matching pair.
func checkKeyPair(bad func(string, ...any), certFile, keyFile string) {
	certPEM, err := os.ReadFile(certFile)
	if err != nil {
		bad("tls.cert_file: %s", fileProblem(certFile, err))
	} else if b, _ := pem.Decode(certPEM); b == nil || b.Type != "CERTIFICATE" {
		bad("tls.cert_file: %s holds no PEM certificate (-----BEGIN CERTIFICATE-----)", certFile)
		certPEM = nil
	}
	fi, err := os.Stat(keyFile)
	if err != nil {
		bad("tls.key_file: %s", fileProblem(keyFile, err))
		return
	}
	if perm := fi.Mode().Perm(); perm&0o077 != 0 {
		bad("tls.key_file: %s is readable or writable by others (mode %v); chmod 600 it", keyFile, perm)
	}
	keyPEM, err := os.ReadFile(keyFile)
	if err != nil {
		bad("tls.key_file: %s", fileProblem(keyFile, err))
		return
	}
	switch b, _ := pem.Decode(keyPEM); {
	case b == nil:
		bad("tls.key_file: %s holds no PEM private key (-----BEGIN PRIVATE KEY-----)", keyFile)
		return
	case b.Type == "CERTIFICATE":
		bad("tls.key_file: %s holds a certificate, not a private key; name the certificate's key file here", keyFile)
		return
	}
	if certPEM == nil {
		return
	}
	if _, err := tls.X509KeyPair(certPEM, keyPEM); err != nil {
		bad("tls.key_file: %s is not the key of the certificate in tls.cert_file %s (%v)", keyFile, certFile, strings.TrimPrefix(err.Error(), "tls: "))
	}
}

// fileProblem says why a file named in the configuration cannot be used.
func fileProblem(path string, err error) string {
	switch {
	case errors.Is(err, os.ErrNotExist):
		return path + " does not exist"
	case errors.Is(err, os.ErrPermission):
		return path + " cannot be read by this user (permission denied)"
	}
	var pe *os.PathError
	if errors.As(err, &pe) {
		return path + ": " + pe.Err.Error()
	}
	return err.Error()
}

// checkListen checks a listen address: host:port, the host optional.
func checkListen(bad func(string, ...any), field, addr string) {
	if addr == "" {
		return
	}
	_, port, err := net.SplitHostPort(addr)
	if err == nil {
		_, err = strconv.ParseUint(port, 10, 16)
	}
	if err != nil {
		bad("%s: %q is not an address to listen on; write host:port, such as 127.0.0.1:8080 or :443", field, addr)
	}
}

// checkKeys reads the federation certificates and keys under the data
// directory as the server does: each private to its owner, each key its
// certificate's.
func (c *Config) checkKeys(bad func(string, ...any)) {
	if _, err := certs.Load(context.Background(), c.Keys()); err != nil {
		bad("data_dir: the federation certificates in %s: %s", c.Keys(), strings.TrimPrefix(err.Error(), "certs: "))
	}
}

// loopback reports whether a listen address is on the loopback interface
// only; an empty host listens everywhere.
func loopback(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// sameListener reports whether two listen addresses would collide: the
// same port on the same host, or on a host that listens everywhere.
func sameListener(a, b string) bool {
	ha, pa, err1 := net.SplitHostPort(a)
	hb, pb, err2 := net.SplitHostPort(b)
	if err1 != nil || err2 != nil || pa != pb || pa == "0" { // port 0: each listener gets a free port of its own
		return false
	}
	any := func(h string) bool { return h == "" || h == "0.0.0.0" || h == "::" }
	return ha == hb || any(ha) || any(hb)
}

// Path resolves p against the configuration file's directory.
func (c *Config) Path(p string) string {
	if p == "" || filepath.IsAbs(p) {
		return p
	}
	return filepath.Join(c.Dir, p)
}

// DataPath is the data directory, absolute.
func (c *Config) DataPath() string {
	dir := c.DataDir
	if dir == "" {
		dir = "data"
	}
	return c.Path(dir)
}

// Hosts are the host names this server is reached by, canonical
// (internal/domainname), for the URLs Autodiscover hands out without
// public_url: public_hosts, then the DNS names of tls.cert_file's
// certificate ("*.domain" for a wildcard) or tls.acme.hosts. Build refuses
// a name with no canonical form and a certificate it cannot read; such a
// name is not here.
func (c *Config) Hosts() []string {
	var out []string
	add := func(name string) {
		rest, wild := strings.CutPrefix(strings.TrimSpace(name), "*.")
		h, err := domainname.Canonical(rest)
		if err != nil {
			return
		}
		if wild {
			h = "*." + h
		}
		if !slices.Contains(out, h) {
			out = append(out, h)
		}
	}
	for _, h := range c.PublicHosts {
		add(h)
	}
	if c.TLS.CertFile != "" {
		if pair, err := tls.LoadX509KeyPair(c.Path(c.TLS.CertFile), c.Path(c.TLS.KeyFile)); err == nil && len(pair.Certificate) > 0 {
			if leaf, err := x509.ParseCertificate(pair.Certificate[0]); err == nil {
				for _, n := range leaf.DNSNames {
					add(n)
				}
			}
		}
	}
	for _, h := range c.TLS.ACME.Hosts {
		add(h)
	}
	return out
}

// RedirectAddresses are autodiscover.redirect_addresses keyed by their
// canonical form (internal/domainname), as Autodiscover looks them up.
// Build refuses an entry that is not a pair of addresses; such an entry
// is not here.
func (c *Config) RedirectAddresses() map[string]string {
	out := make(map[string]string, len(c.Autodiscover.RedirectAddresses))
	for from, to := range c.Autodiscover.RedirectAddresses {
		if a, err := domainname.Address(strings.TrimSpace(from)); err == nil {
			out[a] = strings.TrimSpace(to)
		}
	}
	return out
}

// OutboundConfig is the outbound section as internal/outbound reads it.
func (c *Config) OutboundConfig() outbound.Config {
	return outbound.Config{Proxy: strings.TrimSpace(c.Outbound.Proxy), NoProxy: c.Outbound.NoProxy}
}

// OutboundClient is the one outbound client every outbound call uses;
// Build refuses settings it cannot use, so after Build it does not fail.
func (c *Config) OutboundClient() (*outbound.Client, error) {
	return outbound.New(c.OutboundConfig())
}

// Resolver looks up domain proofs as configured.
func (c *Config) Resolver() *dnsproof.DNS {
	return &dnsproof.DNS{Servers: c.DNS.Resolvers, Authoritative: c.DNS.Authoritative, Timeout: time.Duration(c.DNS.Timeout)}
}

// Keys is where the federation certificates and their keys live.
func (c *Config) Keys() certs.Dir { return certs.Dir(filepath.Join(c.DataPath(), "keys")) }

// StoreLocation names the store for people: the SQLite file, or the
// PostgreSQL URL with its password hidden.
func (c *Config) StoreLocation() string {
	sc := c.StoreConfig()
	if sc.Driver == "sqlite" {
		return sc.DSN
	}
	return "(" + redactDSN(sc.DSN) + ")"
}

// redactDSN hides a password in a connection URL.
func redactDSN(dsn string) string {
	at := strings.LastIndex(dsn, "@")
	scheme := strings.Index(dsn, "://")
	if at < 0 || scheme < 0 {
		return dsn
	}
	userinfo := dsn[scheme+3 : at]
	if u, _, ok := strings.Cut(userinfo, ":"); ok {
		return dsn[:scheme+3] + u + ":***" + dsn[at:]
	}
	return dsn
}

// OpenStore opens the configured store, making the SQLite file's
// directory (mode 0700) when it does not exist yet. A store that cannot
// be opened is a Problem naming the setting that says where it is, at its
// line.
func (c *Config) OpenStore(ctx context.Context, log *slog.Logger) (*store.DB, error) {
	db, err := c.openStore(ctx, log)
	if err != nil {
		field := "store.dsn"
		if c.Store.DSN == "" {
			field = "data_dir"
		}
		return nil, Problem{Line: c.lines.Of(field), Field: field, Msg: fmt.Sprintf("cannot open the store %s: %v", c.StoreLocation(), err), Err: err}
	}
	return db, nil
}

func (c *Config) openStore(ctx context.Context, log *slog.Logger) (*store.DB, error) {
	sc := c.StoreConfig()
	sc.Logger = log
	if sc.Driver == "sqlite" {
		if err := os.MkdirAll(filepath.Dir(sc.DSN), 0o700); err != nil {
			return nil, err
		}
		// Created private before SQLite opens it: it holds the audit log
		// and the service accounts' secret hashes, and SQLite gives its
		// journal files the database file's mode.
		f, err := os.OpenFile(sc.DSN, os.O_RDONLY|os.O_CREATE, 0o600)
		if err != nil {
			return nil, err
		}
		f.Close()
	}
	return store.Open(ctx, sc)
}

// StoreConfig says where the store is.
func (c *Config) StoreConfig() store.Config {
	sc := store.Config{Driver: c.Store.Driver, DSN: c.Store.DSN, PollInterval: time.Duration(c.Store.PollInterval)}
	if sc.Driver == "" {
		sc.Driver = "sqlite"
	}
	if sc.Driver == "sqlite" {
		if sc.DSN == "" {
			sc.DSN = filepath.Join(c.DataPath(), "calfed.db")
		} else {
			sc.DSN = c.Path(sc.DSN)
		}
	}
	return sc
}

// ReadToken reads a bearer token file: one line, at least 32 characters,
// not readable by others.
func ReadToken(path string) (string, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return "", err
	}
	if fi.Mode().Perm()&0o077 != 0 {
		return "", fmt.Errorf("%s is readable by others (mode %v); chmod 600 it", path, fi.Mode().Perm())
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return "", err
	}
	tok := strings.TrimSpace(string(data))
	if len(tok) < 32 || strings.ContainsAny(tok, " \t\r\n") {
		return "", fmt.Errorf("%s must hold one token of at least 32 characters", path)
	}
	return tok, nil
}

// Calendar is the calendar source of the mailbox at address, in any of
// its spellings (domainname.Address), and the options it is read with;
// false when the directory has no such mailbox.
func (b *Built) Calendar(address string) (calendar.Source, calendar.Options, bool) {
	want, err := domainname.Address(strings.TrimSpace(address))
	if err != nil {
		return nil, calendar.Options{}, false // no address: no mailbox
	}
	for _, e := range b.Entries {
		if e.Mailbox.Address == want {
			return e.Source, calendar.Options{Location: e.Mailbox.Location, Owner: e.Mailbox.Address}, true
		}
	}
	return nil, calendar.Options{}, false
}

// Mailboxes describes the directory to the admin service.
func (b *Built) Mailboxes() []admin.Mailbox {
	out := make([]admin.Mailbox, len(b.Entries))
	for i, e := range b.Entries {
		l, ok := b.Sharing[e.Mailbox.Address]
		if !ok {
			l = orgrel.AvailabilityOnly
		}
		out[i] = admin.Mailbox{Address: e.Mailbox.Address, Groups: e.Mailbox.Groups, DefaultSharing: l}
	}
	return out
}

func parseWorkingHours(days []string, start, end string) (*calendar.WorkingHours, error) {
	wh := &calendar.WorkingHours{}
	if len(days) == 0 {
		days = []string{"Monday", "Tuesday", "Wednesday", "Thursday", "Friday"}
	}
	for _, d := range days {
		found := false
		for wd := time.Sunday; wd <= time.Saturday; wd++ {
			if strings.EqualFold(d, wd.String()) || strings.EqualFold(d, wd.String()[:3]) {
				wh.Days = append(wh.Days, wd)
				found = true
			}
		}
		if !found {
			return nil, fmt.Errorf("unknown day %q", d)
		}
	}
	var err error
	if wh.Start, err = clock(start); err != nil {
		return nil, fmt.Errorf("start: %w", err)
	}
	if wh.End, err = clock(end); err != nil {
		return nil, fmt.Errorf("end: %w", err)
	}
	if wh.End <= wh.Start {
		return nil, fmt.Errorf("end %s is not after start %s", end, start)
	}
	return wh, nil
}

func clock(s string) (time.Duration, error) {
	if s == "24:00" {
		return 24 * time.Hour, nil
	}
	t, err := time.Parse("15:04", s)
	if err != nil {
		return 0, fmt.Errorf("%q is not HH:MM", s)
	}
	return time.Duration(t.Hour())*time.Hour + time.Duration(t.Minute())*time.Minute, nil
}
