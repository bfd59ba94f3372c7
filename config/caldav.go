package config

import (
	"bufio"
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/calfed/calfed/caldav"
	"github.com/calfed/calfed/calendar"
)

// CalDAVConfig is one CalDAV server mailboxes' calendars sync from
// (docs/protocol.md §9). Secrets are never written here: name files.
type CalDAVConfig struct {
	// Name is what mailboxes' caldav.server refers to. Required.
	Name string `yaml:"name"`
	// URL is the server's base URL, such as https://dav.contoso.example/.
	// Required; https:// unless the server is on this machine.
	URL string `yaml:"url"`
	// CalendarURL is where a mailbox's calendars are, with {user} for the
	// address's local part and {address} for the whole address, such as
	// https://dav.contoso.example/dav/calendars/{user}/ (or a path on the
	// server): a calendar home, a principal, or one calendar collection.
	// Without it (and without a mailbox's own caldav.url), the calendars
	// of the account that signs in are discovered from URL.
	CalendarURL string `yaml:"calendar_url"`
	// Username and PasswordFile sign in with HTTP Basic; BearerTokenFile
	// sends a bearer token instead. The files hold the secret on one line
	// and must be private to their owner (chmod 600); they are read again
	// at every sync round.
	Username        string `yaml:"username"`
	PasswordFile    string `yaml:"password_file"`
	BearerTokenFile string `yaml:"bearer_token_file"`
	// Password and BearerToken are refused: a secret does not belong in
	// the configuration file.
	Password    string `yaml:"password"`
	BearerToken string `yaml:"bearer_token"`
	// TLS: CAFile (PEM) holds the certificate authorities the server's
	// certificate must chain to instead of the system's; MinVersion is 1.2
	// (default) or 1.3.
	TLS struct {
		CAFile     string `yaml:"ca_file"`
		MinVersion string `yaml:"min_version"`
	} `yaml:"tls"`
	SyncInterval Duration `yaml:"sync_interval"` // between sync rounds; default 1m
	// MaxStaleness is how long a mailbox answers from its last good copy
	// while syncs fail; after it the mailbox fails
	// (ErrorFreeBusyGenerationFailed). Default 15m; at least twice
	// sync_interval.
	MaxStaleness Duration `yaml:"max_staleness"`
	Timeout      Duration `yaml:"timeout"`     // one request; default 30s
	MaxBackoff   Duration `yaml:"max_backoff"` // retry wait of a failing mailbox or server; default 10m
	Concurrency  int      `yaml:"concurrency"` // mailboxes synced at once; default 4
	// FirstSyncWait is how long calfed serve waits for the first sync
	// round before it starts listening; a longer round goes on, and the
	// mailboxes it has not reached yet fail until it does. Default 1m.
	FirstSyncWait Duration `yaml:"first_sync_wait"`
	// Calendars, when set, counts only the calendars with these names
	// (last path segment or display name). Default: every calendar of the
	// mailbox not marked transparent (schedule-calendar-transp).
	Calendars []string `yaml:"calendars"`
	// IncludeTransparent counts transparent calendars too. Default false.
	IncludeTransparent bool `yaml:"include_transparent"`
	// Mailboxes is a directory of mailboxes on this server that share
	// their settings: with calendar_url, 10,000 users are one stanza.
	Mailboxes *CalDAVDirectory `yaml:"mailboxes"`
}

// CalDAVDirectory lists mailboxes whose calendars are on one server, at
// the server's calendar_url.
type CalDAVDirectory struct {
	Addresses []string `yaml:"addresses"`
	// AddressesFile holds one address a line, optionally followed by the
	// user name that fills calendar_url's {user} when it is not the
	// address's local part (alice.smith@contoso.example asmith); blank
	// lines and lines starting with # are ignored.
	AddressesFile   string              `yaml:"addresses_file"`
	Kind            string              `yaml:"kind"`
	TimeZone        string              `yaml:"time_zone"`
	ExternalSharing string              `yaml:"external_sharing"`
	Groups          []string            `yaml:"groups"`
	WorkingHours    *WorkingHoursConfig `yaml:"working_hours"`
}

// MailboxCalDAV takes a mailbox's calendar from a CalDAV server.
type MailboxCalDAV struct {
	Server string `yaml:"server"` // the name of a caldav entry; required
	// URL is the mailbox's calendar home, principal or calendar (absolute
	// or a path on the server). Default: the server's calendar_url for
	// this address.
	URL string `yaml:"url"`
	// User fills {user} in the URL; default the address's local part.
	User string `yaml:"user"`
}

// mailboxItem is a mailbox to build, with where it was configured.
type mailboxItem struct {
	where string
	m     MailboxConfig
}

// mailboxList is the mailboxes section followed by the mailboxes of the
// caldav servers' directories.
func (c *Config) mailboxList(bad func(string, ...any)) []mailboxItem {
	var out []mailboxItem
	for i, m := range c.Mailboxes {
		out = append(out, mailboxItem{fmt.Sprintf("mailboxes[%d]", i), m})
	}
	for i, s := range c.CalDAV {
		d := s.Mailboxes
		if d == nil {
			continue
		}
		where := fmt.Sprintf("caldav[%d].mailboxes", i)
		if s.Name != "" {
			where = fmt.Sprintf("caldav[%d] (%s).mailboxes", i, s.Name)
		}
		if s.CalendarURL == "" {
			bad("%s: a directory needs calendar_url (such as https://dav.contoso.example/dav/calendars/{user}/) to find each mailbox's calendars", where)
		}
		add := func(w, a, user string) {
			out = append(out, mailboxItem{w, MailboxConfig{Address: a, Kind: d.Kind, TimeZone: d.TimeZone, ExternalSharing: d.ExternalSharing,
				Groups: d.Groups, WorkingHours: d.WorkingHours, CalDAV: &MailboxCalDAV{Server: s.Name, User: user}}})
		}
		for j, a := range d.Addresses {
			add(fmt.Sprintf("%s.addresses[%d]", where, j), a, "")
		}
		if d.AddressesFile != "" {
			data, err := os.ReadFile(c.Path(d.AddressesFile))
			if err != nil {
				bad("%s.addresses_file: %v", where, err)
				continue
			}
			sc := bufio.NewScanner(bytes.NewReader(data))
			for n := 1; sc.Scan(); n++ {
				line := strings.TrimSpace(sc.Text())
				if line == "" || strings.HasPrefix(line, "#") {
					continue
				}
				f := strings.Fields(line)
				at := fmt.Sprintf("%s:%d", c.Path(d.AddressesFile), n)
				if len(f) > 2 {
					bad("%s: %q: want an address, optionally followed by its user name", at, line)
					continue
				}
				user := ""
				if len(f) == 2 {
					user = f[1]
				}
				add(at, f[0], user)
			}
		}
		if len(d.Addresses) == 0 && d.AddressesFile == "" {
			bad("%s: list addresses or name an addresses_file", where)
		}
	}
	return out
}

// buildCalDAV validates the caldav servers and adds them to b, keyed by
// name for the mailboxes; a server with problems is left out.
func (c *Config) buildCalDAV(b *Built, bad func(string, ...any)) map[string]*caldav.Server {
	out := map[string]*caldav.Server{}
	named := map[string]bool{}
	for i, s := range c.CalDAV {
		where := fmt.Sprintf("caldav[%d]", i)
		problems := 0
		fail := func(format string, args ...any) {
			problems++
			bad(format, args...)
		}
		if s.Name == "" {
			fail("%s.name: required; mailboxes refer to the server by it", where)
		} else {
			where = fmt.Sprintf("caldav[%d] (%s)", i, s.Name)
			if named[s.Name] {
				fail("%s.name: another caldav server has this name", where)
			}
			named[s.Name] = true
		}
		u, err := url.Parse(s.URL)
		switch {
		case s.URL == "":
			fail("%s.url: required, such as https://dav.contoso.example/", where)
		case err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "":
			fail("%s.url: %q is not an http(s) URL such as https://dav.contoso.example/", where, s.URL)
		case u.User != nil:
			fail("%s.url: %q carries credentials; give username and password_file instead, never a secret in this file", where, u.Redacted())
		case u.Scheme == "http" && !loopbackHost(u.Hostname()):
			fail("%s.url: %q is plain HTTP to another machine, which would send the credentials and calendars in the clear; use https://", where, s.URL)
		}
		if s.Password != "" {
			fail("%s.password: a secret is never written in the configuration; put it in a file (chmod 600) and name it with password_file", where)
		}
		if s.BearerToken != "" {
			fail("%s.bearer_token: a secret is never written in the configuration; put it in a file (chmod 600) and name it with bearer_token_file", where)
		}
		cred := caldav.Credentials{Username: s.Username, PasswordFile: c.Path(s.PasswordFile), BearerTokenFile: c.Path(s.BearerTokenFile)}
		switch {
		case s.PasswordFile != "" && s.BearerTokenFile != "":
			fail("%s: password_file and bearer_token_file are two ways to sign in; give one", where)
		case s.PasswordFile != "" && s.Username == "":
			fail("%s.username: required with password_file", where)
		case s.Username != "" && s.PasswordFile == "":
			fail("%s.password_file: required with username (a file holding the password, chmod 600)", where)
		}
		for _, f := range []struct{ name, path string }{{"password_file", cred.PasswordFile}, {"bearer_token_file", cred.BearerTokenFile}} {
			if f.path == "" {
				continue
			}
			if fi, err := os.Stat(f.path); err != nil {
				fail("%s.%s: %v", where, f.name, err)
			} else if fi.Mode().Perm()&0o077 != 0 {
				fail("%s.%s: %s is readable by others (mode %v); chmod 600 it", where, f.name, f.path, fi.Mode().Perm())
			}
		}
		if s.CalendarURL != "" {
			if _, err := expandCalendarURL(u, s.CalendarURL, "user@example.org", ""); err != nil {
				fail("%s.calendar_url: %v", where, err)
			}
		}
		if s.Concurrency < 0 {
			fail("%s.concurrency: %d is negative; leave it out for the default, 4", where, s.Concurrency)
		}
		interval, stale := time.Duration(s.SyncInterval), time.Duration(s.MaxStaleness)
		if interval <= 0 {
			interval = time.Minute
		}
		if stale <= 0 {
			stale = 15 * time.Minute
		}
		if stale < 2*interval {
			fail("%s.max_staleness: %v is less than two sync intervals (%v), so one slow round would fail every mailbox; raise it to at least %v", where, stale, interval, 2*interval)
		}
		client, err := calDAVClient(c.Path(s.TLS.CAFile), s.TLS.MinVersion, s.Concurrency)
		if err != nil {
			fail("%s.tls: %v", where, err)
		}
		if problems > 0 {
			continue
		}
		srv := caldav.NewServer(caldav.Config{
			Name: s.Name, URL: u, Credentials: cred, HTTP: client,
			SyncInterval: interval, MaxStaleness: stale, Timeout: time.Duration(s.Timeout), MaxBackoff: time.Duration(s.MaxBackoff),
			FirstSyncWait: time.Duration(s.FirstSyncWait),
			Concurrency:   s.Concurrency, Calendars: s.Calendars, IncludeTransparent: s.IncludeTransparent,
		})
		out[s.Name] = srv
		b.CalDAV = append(b.CalDAV, srv)
	}
	return out
}

// calDAVSource is the mailbox's source on its caldav server.
func (c *Config) calDAVSource(servers map[string]*caldav.Server, where, addr string, m MailboxConfig, bad func(string, ...any)) calendar.Source {
	var cfg *CalDAVConfig
	for i := range c.CalDAV {
		if c.CalDAV[i].Name == m.CalDAV.Server {
			cfg = &c.CalDAV[i]
		}
	}
	if cfg == nil {
		bad("%s.caldav.server: %q is not the name of a caldav server", where, m.CalDAV.Server)
		return nil
	}
	srv, ok := servers[cfg.Name]
	if !ok || addr == "" {
		return nil // its problems are reported already
	}
	base, _ := url.Parse(cfg.URL)
	tmpl := cfg.CalendarURL
	if m.CalDAV.URL != "" {
		tmpl = m.CalDAV.URL
	}
	if tmpl == "" {
		return srv.Mailbox(addr, nil)
	}
	u, err := expandCalendarURL(base, tmpl, strings.TrimSpace(m.Address), m.CalDAV.User)
	if err != nil {
		bad("%s.caldav.url: %v", where, err)
		return nil
	}
	return srv.Mailbox(addr, u)
}

// expandCalendarURL fills {user} (user, or else the address's local
// part) and {address} into a calendar URL template and resolves it
// against the server's URL; it must stay on that server, where the
// credentials go.
func expandCalendarURL(base *url.URL, tmpl, address, user string) (*url.URL, error) {
	if user == "" {
		user = address
		if at := strings.LastIndexByte(address, '@'); at >= 0 {
			user = address[:at]
		}
	}
	s := strings.NewReplacer("{user}", url.PathEscape(user), "{address}", url.PathEscape(address)).Replace(tmpl)
	if strings.ContainsAny(s, "{}") {
		return nil, fmt.Errorf("%q: only {user} and {address} are filled in", tmpl)
	}
	ref, err := url.Parse(s)
	if err != nil {
		return nil, fmt.Errorf("%q: %v", tmpl, err)
	}
	u := base.ResolveReference(ref)
	if u.Scheme != base.Scheme || u.Host != base.Host || u.User != nil {
		return nil, fmt.Errorf("%q is not on the server %s://%s, where the credentials go; name another caldav server for it", tmpl, base.Scheme, base.Host)
	}
	return u, nil
}

// calDAVClient is the HTTP client for one CalDAV server.
func calDAVClient(caFile, minVersion string, concurrency int) (*http.Client, error) {
	tc := &tls.Config{MinVersion: tls.VersionTLS12}
	switch minVersion {
	case "", "1.2":
	case "1.3":
		tc.MinVersion = tls.VersionTLS13
	default:
		return nil, fmt.Errorf("min_version: %q (want 1.2 or 1.3)", minVersion)
	}
	if caFile != "" {
		pem, err := os.ReadFile(caFile)
		if err != nil {
			return nil, fmt.Errorf("ca_file: %v", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("ca_file: %s holds no PEM certificate", caFile)
		}
		tc.RootCAs = pool
	}
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.TLSClientConfig = tc
	t.MaxIdleConnsPerHost = max(concurrency, 4)
	return &http.Client{Transport: t}, nil
}

// loopbackHost reports whether a URL's host is this machine.
func loopbackHost(h string) bool {
	if h == "localhost" {
		return true
	}
	ip := net.ParseIP(h)
	return ip != nil && ip.IsLoopback()
}
