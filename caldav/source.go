package caldav

import (
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/url"
	"path"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/emersion/go-webdav"
	webcaldav "github.com/emersion/go-webdav/caldav"

	"github.com/calfed/calfed/calendar"
)

// Source is one mailbox's calendars on a CalDAV server, kept in memory by
// the server's sync rounds: a calendar.Source.
type Source struct {
	srv     *Server
	address string
	url     *url.URL // as configured; nil: the account's own principal

	mu          sync.Mutex // one sync at a time
	home        *url.URL   // the calendar home, or the one calendar when single
	single      bool
	colls       map[string]*collection // by path
	gen         uint64
	failures    int
	nextAttempt time.Time

	state atomic.Pointer[snapshot]
}

// collection is one calendar as last synced.
type collection struct {
	url     *url.URL
	name    string
	ctag    string
	token   string // RFC 6578 sync token; empty when none
	noSync  bool   // the server refused sync-collection here: ctag and ETags
	objects map[string]object
}

type object struct {
	url  string
	etag string
	data []byte
}

// snapshot is what readers see: the last good copy, and how syncing goes.
type snapshot struct {
	files       []calendar.File
	stamp       string
	lastGood    time.Time
	lastAttempt time.Time
	err         error
	calendars   []Calendar
}

// Calendar describes one collection of the mailbox at its last sync.
type Calendar struct {
	URL     string `json:"url"`
	Name    string `json:"name,omitempty"`
	Objects int    `json:"objects"`
	// Sync is how changes are found: sync-collection or ctag+etag.
	Sync string `json:"sync,omitempty"`
	// Skipped says why the calendar is not counted; empty when it is.
	Skipped string `json:"skipped,omitempty"`
}

// String names the mailbox's server and its calendars' URL.
func (s *Source) String() string {
	if s.url == nil {
		return fmt.Sprintf("caldav %s %s (discovered)", s.srv.cfg.Name, s.srv.cfg.URL)
	}
	return fmt.Sprintf("caldav %s %s", s.srv.cfg.Name, s.url)
}

// StaleError fails a mailbox whose syncs have failed for longer than
// its server's MaxStaleness, or that never synced. It wraps
// calendar.ErrUnavailable and the cause.
type StaleError struct {
	Server   string
	LastGood time.Time // zero: never synced
	Bound    time.Duration
	Err      error // the last sync's error; nil when none was tried yet
}

func (e *StaleError) Error() string {
	if e.Err == nil {
		return fmt.Sprintf("caldav server %s: not synced yet", e.Server)
	}
	cause := e.Err.Error()
	if e.LastGood.IsZero() {
		return fmt.Sprintf("caldav server %s: no successful sync yet: %s", e.Server, cause)
	}
	return fmt.Sprintf("caldav server %s: last good sync %s, more than max_staleness %v ago: %s",
		e.Server, e.LastGood.UTC().Format(time.RFC3339), e.Bound, cause)
}

func (e *StaleError) Unwrap() []error {
	if e.Err == nil {
		return []error{calendar.ErrUnavailable}
	}
	return []error{calendar.ErrUnavailable, e.Err}
}

// Stamp changes when a sync changed the mailbox's calendars. While syncs
// fail it stays the last good one up to MaxStaleness, then fails with a
// *StaleError.
func (s *Source) Stamp(ctx context.Context) (string, error) {
	st := s.state.Load()
	if st.lastGood.IsZero() {
		return "", &StaleError{Server: s.srv.cfg.Name, Err: st.err}
	}
	if st.err != nil && s.srv.cfg.Now().Sub(st.lastGood) > s.srv.cfg.MaxStaleness {
		return "", &StaleError{Server: s.srv.cfg.Name, LastGood: st.lastGood, Bound: s.srv.cfg.MaxStaleness, Err: st.err}
	}
	return st.stamp, nil
}

// Read returns the last good copy: one file per calendar object, named
// by its URL. The data is shared; callers must not change it.
func (s *Source) Read(ctx context.Context) ([]calendar.File, error) {
	st := s.state.Load()
	if st.lastGood.IsZero() {
		return nil, &StaleError{Server: s.srv.cfg.Name, Err: st.err}
	}
	return st.files, nil
}

// Status is how a mailbox's syncing goes.
type Status struct {
	Server      string     `json:"server"`
	URL         string     `json:"url,omitempty"`
	LastSync    time.Time  `json:"last_sync,omitzero"` // the last successful sync
	LastAttempt time.Time  `json:"last_attempt,omitzero"`
	Error       string     `json:"error,omitempty"` // why the last attempt failed
	Calendars   []Calendar `json:"calendars"`
}

// Status reports the last sync.
func (s *Source) Status() Status {
	st := s.state.Load()
	out := Status{Server: s.srv.String(), LastSync: st.lastGood, LastAttempt: st.lastAttempt, Calendars: st.calendars}
	if s.url != nil {
		out.URL = s.url.String()
	}
	if st.err != nil {
		out.Error = st.err.Error()
	}
	if out.Calendars == nil {
		out.Calendars = []Calendar{}
	}
	return out
}

// Sync syncs the mailbox now, outside the server's rounds (calfed
// calendar check).
func (s *Source) Sync(ctx context.Context) error {
	auth, err := s.srv.cfg.Credentials.header()
	if err != nil {
		s.mu.Lock()
		s.record(err, s.srv.cfg.Now(), nil, false)
		s.mu.Unlock()
		return err
	}
	return s.sync(ctx, auth)
}

// due reports whether a round should sync the mailbox: its backoff after
// failures has passed.
func (s *Source) due(now time.Time) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return !now.Before(s.nextAttempt)
}

// fail records a failed attempt that did not reach the server, without
// logging it: the server logs its own outage once for all its mailboxes.
func (s *Source) fail(err error, now time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.record(err, now, nil, true)
}

// record publishes an attempt's outcome, with the calendars a successful
// one found; s.mu is held. A failure is logged when it differs from the
// last, unless quiet.
func (s *Source) record(err error, now time.Time, cals []Calendar, quiet bool) {
	prev := s.state.Load()
	next := *prev
	next.lastAttempt = now
	next.err = err
	if err != nil {
		if !quiet && (prev.err == nil || prev.err.Error() != err.Error()) {
			s.srv.log.Warn("caldav sync failed", "mailbox", s.address, "server", s.srv.cfg.Name, "err", err)
		}
		s.nextAttempt = now.Add(s.srv.backoff(&s.failures))
		s.state.Store(&next)
		return
	}
	if prev.err != nil {
		s.srv.log.Info("caldav sync recovered", "mailbox", s.address, "server", s.srv.cfg.Name)
	}
	s.failures, s.nextAttempt = 0, time.Time{}
	next.lastGood = now
	next.calendars = cals
	if next.stamp != strconv.FormatUint(s.gen, 10) {
		next.stamp = strconv.FormatUint(s.gen, 10)
		next.files = s.files()
	}
	s.state.Store(&next)
}

// files is the mailbox's objects, ordered by URL; s.mu is held.
func (s *Source) files() []calendar.File {
	var out []calendar.File
	for _, c := range s.colls {
		for _, o := range c.objects {
			out = append(out, calendar.File{Name: o.url, Data: o.data})
		}
	}
	slices.SortFunc(out, func(a, b calendar.File) int { return strings.Compare(a.Name, b.Name) })
	if out == nil {
		out = []calendar.File{}
	}
	return out
}

// sync brings the mailbox up to date, all or nothing: a failure leaves
// the last good copy and sync state as they were.
func (s *Source) sync(ctx context.Context, auth string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	start := s.srv.cfg.Now()
	cals, err := s.syncLocked(ctx, auth)
	s.record(err, start, cals, ctx.Err() != nil) // a sync cut short by shutdown is no news
	return err
}

func (s *Source) syncLocked(ctx context.Context, auth string) ([]Calendar, error) {
	if s.home == nil {
		if err := s.discover(ctx, auth); err != nil {
			return nil, err
		}
	}
	depth := "1"
	if s.single {
		depth = "0"
	}
	ms, err := s.srv.do(ctx, auth, "PROPFIND", s.home, depth, propfindCalendars)
	if err != nil {
		var he *HTTPError
		if errors.As(err, &he) && (he.Status == http.StatusNotFound || he.Status == http.StatusMovedPermanently) && s.url == nil {
			s.home = nil // discovered once, gone now: discover again next time
		}
		return nil, err
	}
	next := make(map[string]*collection, len(s.colls))
	var cals []Calendar
	changed := false
	for _, r := range ms.Responses {
		if len(r.Hrefs) == 0 {
			continue
		}
		u, err := resolve(s.home, r.Hrefs[0])
		if err != nil {
			return nil, err
		}
		p := r.ok()
		if p.ResourceType == nil || p.ResourceType.Calendar == nil {
			continue
		}
		info := Calendar{URL: u.String(), Name: p.DisplayName}
		if why := s.srv.skip(u, p); why != "" {
			info.Skipped = why
			cals = append(cals, info)
			continue
		}
		prev := s.colls[u.Path]
		c, ch, err := s.syncCollection(ctx, auth, u, p, prev)
		if err != nil {
			return nil, err
		}
		changed = changed || ch
		next[u.Path] = c
		info.Objects, info.Sync = len(c.objects), "sync-collection"
		if c.noSync || c.token == "" {
			info.Sync = "ctag+etag"
		}
		cals = append(cals, info)
	}
	if len(next) != len(s.colls) {
		changed = true
	}
	if len(next) == 0 {
		return nil, fmt.Errorf("caldav: %s: no calendar counts for free/busy (%d found); an empty calendar would show the mailbox free", s.home, len(cals))
	}
	s.colls = next
	if changed || s.gen == 0 {
		s.gen++
	}
	return cals, nil
}

// skip says why a calendar is not counted; empty when it is.
func (srv *Server) skip(u *url.URL, p prop) string {
	if p.Components != nil {
		events := false
		for _, c := range p.Components.Comps {
			events = events || strings.EqualFold(c.Name, "VEVENT")
		}
		if !events {
			return "holds no events (supported-calendar-component-set)"
		}
	}
	if len(srv.cfg.Calendars) > 0 {
		seg := path.Base(strings.TrimSuffix(u.Path, "/"))
		if !slices.ContainsFunc(srv.cfg.Calendars, func(n string) bool { return n == seg || n == p.DisplayName }) {
			return "not listed in calendars"
		}
	} else if p.Transp != nil && p.Transp.Transparent != nil && !srv.cfg.IncludeTransparent {
		return "transparent (schedule-calendar-transp)"
	}
	return ""
}

// discover finds the mailbox's calendar home: the configured URL is a
// calendar (the one counted), a principal (its calendar-home-set) or a
// home; without one, the account's own principal is found from the
// server's context path (RFC 6764 §5-6).
func (s *Source) discover(ctx context.Context, auth string) error {
	if s.url != nil {
		ms, err := s.srv.do(ctx, auth, "PROPFIND", s.url, "0", propfindHome)
		if err != nil {
			return err
		}
		s.home, s.single = s.url, false
		if len(ms.Responses) > 0 {
			p := ms.Responses[0].ok()
			switch {
			case p.ResourceType != nil && p.ResourceType.Calendar != nil:
				s.single = true
			case p.CalendarHomeSet != nil && len(p.CalendarHomeSet.Hrefs) > 0:
				h, err := resolve(s.url, p.CalendarHomeSet.Hrefs[0])
				if err != nil {
					return err
				}
				s.home = h
			}
		}
		return nil
	}
	base := s.srv.cfg.URL
	ctxURL, err := s.wellKnown(ctx, auth)
	if err != nil {
		return err
	}
	hc := &authClient{srv: s.srv, auth: auth}
	wc, err := webdav.NewClient(hc, ctxURL.String())
	if err != nil {
		return err
	}
	principal, err := wc.FindCurrentUserPrincipal(ctx)
	if err != nil {
		return fmt.Errorf("caldav: %s: finding the account's principal (current-user-principal, RFC 5397): %w", ctxURL, err)
	}
	cc, err := webcaldav.NewClient(hc, base.Scheme+"://"+base.Host)
	if err != nil {
		return err
	}
	home, err := cc.FindCalendarHomeSet(ctx, principal)
	if err != nil {
		return fmt.Errorf("caldav: %s: finding the calendar home (calendar-home-set, RFC 4791 §6.2.1): %w", principal, err)
	}
	if s.home, err = resolve(base, home); err != nil {
		return err
	}
	s.single = false
	return nil
}

// wellKnown asks /.well-known/caldav for the context path (RFC 6764 §5):
// a redirect's target on the same server, or the server URL itself when
// there is none.
func (s *Source) wellKnown(ctx context.Context, auth string) (*url.URL, error) {
	base := s.srv.cfg.URL
	wk := base.ResolveReference(&url.URL{Path: "/.well-known/caldav"})
	ctx, cancel := context.WithTimeout(ctx, s.srv.cfg.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, "PROPFIND", wk.String(), strings.NewReader(propfindHome))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Depth", "0")
	req.Header.Set("Content-Type", "application/xml; charset=utf-8")
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	s.srv.requests.Add(1)
	resp, err := s.srv.http.Do(req)
	if err != nil {
		return nil, &transportError{err}
	}
	resp.Body.Close()
	if loc := resp.Header.Get("Location"); resp.StatusCode/100 == 3 && loc != "" {
		return resolve(wk, loc)
	}
	return base, nil
}

// authClient is the webdav.HTTPClient discovery hands go-webdav: the
// server's client with its credentials and count.
type authClient struct {
	srv  *Server
	auth string
}

func (c *authClient) Do(req *http.Request) (*http.Response, error) {
	ctx, cancel := context.WithTimeout(req.Context(), c.srv.cfg.Timeout)
	req = req.WithContext(ctx)
	if c.auth != "" {
		req.Header.Set("Authorization", c.auth)
	}
	c.srv.requests.Add(1)
	resp, err := c.srv.http.Do(req)
	if err != nil {
		cancel()
		return nil, &transportError{err}
	}
	resp.Body = &cancelBody{io.LimitReader(resp.Body, c.srv.cfg.MaxResponseBytes), resp.Body, cancel}
	return resp, nil
}

// cancelBody is an answer's body, read up to MaxResponseBytes, that ends
// its request's timeout when closed.
type cancelBody struct {
	r      io.Reader
	body   io.Closer
	cancel context.CancelFunc
}

func (b *cancelBody) Read(p []byte) (int, error) { return b.r.Read(p) }
func (b *cancelBody) Close() error {
	err := b.body.Close()
	b.cancel()
	return err
}

// syncCollection brings one calendar up to date from prev (nil for a new
// one) and reports whether its objects changed. p is the calendar's
// properties as just listed.
func (s *Source) syncCollection(ctx context.Context, auth string, u *url.URL, p prop, prev *collection) (*collection, bool, error) {
	if prev != nil && (p.CTag != "" || p.SyncToken != "") && p.CTag == prev.ctag && p.SyncToken == prev.token {
		return prev, false, nil // calendarserver ctag / RFC 6578 §4: nothing changed
	}
	c := &collection{url: u, name: p.DisplayName, ctag: p.CTag, objects: map[string]object{}}
	if prev != nil {
		c.noSync = prev.noSync
		c.objects = maps.Clone(prev.objects)
	}
	var fetch []string
	done := false
	if !c.noSync && p.SyncToken != "" {
		token := ""
		if prev != nil {
			token = prev.token
		}
		members, removed, newToken, err := s.syncReport(ctx, auth, u, token)
		var he *HTTPError
		switch {
		case errors.As(err, &he) && he.Precondition == "valid-sync-token" && token != "":
			// RFC 6578 §3.2: the token is no longer valid; start over.
			members, removed, newToken, err = s.syncReport(ctx, auth, u, "")
			token = ""
		case errors.As(err, &he) && (he.Status >= 400 && he.Status < 500 && he.Status != http.StatusUnauthorized || he.Status == http.StatusNotImplemented):
			c.noSync = true // not offered after all: ctag and ETags
			err = nil
		}
		if err != nil {
			return nil, false, err
		}
		if !c.noSync {
			if token == "" {
				for k := range c.objects {
					if _, ok := members[k]; !ok {
						delete(c.objects, k)
					}
				}
			}
			for _, k := range removed {
				delete(c.objects, k)
			}
			for k, m := range members {
				if o, ok := c.objects[k]; !ok || m.etag == "" || o.etag != m.etag {
					fetch = append(fetch, k)
				}
			}
			c.token = newToken
			done = true
		}
	}
	if !done {
		members, err := s.listETags(ctx, auth, u)
		if err != nil {
			return nil, false, err
		}
		for k := range c.objects {
			if _, ok := members[k]; !ok {
				delete(c.objects, k)
			}
		}
		for k, m := range members {
			if o, ok := c.objects[k]; !ok || m.etag == "" || o.etag != m.etag {
				fetch = append(fetch, k)
			}
		}
		c.token = ""
	}
	slices.Sort(fetch)
	for i := 0; i < len(fetch); i += s.srv.cfg.MultigetBatch {
		if err := s.multiget(ctx, auth, u, fetch[i:min(i+s.srv.cfg.MultigetBatch, len(fetch))], c.objects); err != nil {
			return nil, false, err
		}
	}
	changed := prev == nil || len(fetch) > 0 || len(c.objects) != len(prev.objects)
	return c, changed, nil
}

// member is an object listed by a sync report or a PROPFIND.
type member struct{ etag string }

// syncReport runs RFC 6578 sync-collection from token, following
// truncated answers (507 on the collection, §3.6), and returns the
// members changed (all of them for an empty token), those removed, and
// the new token.
func (s *Source) syncReport(ctx context.Context, auth string, u *url.URL, token string) (map[string]member, []string, string, error) {
	members := map[string]member{}
	var removed []string
	for range 1000 {
		ms, err := s.srv.do(ctx, auth, "REPORT", u, "", syncCollectionBody(token))
		if err != nil {
			return nil, nil, "", err
		}
		more := false
		for _, r := range ms.Responses {
			if len(r.Hrefs) == 0 {
				continue
			}
			m, err := resolve(u, r.Hrefs[0])
			if err != nil {
				return nil, nil, "", err
			}
			if m.Path == u.Path || m.Path == strings.TrimSuffix(u.Path, "/") {
				more = more || statusCode(r.Status) == http.StatusInsufficientStorage
				continue
			}
			if statusCode(r.Status) == http.StatusNotFound {
				delete(members, m.Path)
				removed = append(removed, m.Path)
				continue
			}
			p := r.ok()
			if p.ResourceType != nil && p.ResourceType.Calendar == nil && strings.HasSuffix(m.Path, "/") {
				continue // a sub-collection
			}
			members[m.Path] = member{etag: p.ETag}
		}
		if ms.SyncToken == "" {
			return nil, nil, "", fmt.Errorf("caldav: REPORT sync-collection %s: the answer has no sync-token (RFC 6578 §6.4)", u)
		}
		token = ms.SyncToken
		if !more {
			return members, removed, token, nil
		}
	}
	return nil, nil, "", fmt.Errorf("caldav: REPORT sync-collection %s: still truncated after 1000 answers", u)
}

// listETags lists the calendar's objects with their ETags (PROPFIND
// Depth 1), for servers without sync-collection.
func (s *Source) listETags(ctx context.Context, auth string, u *url.URL) (map[string]member, error) {
	ms, err := s.srv.do(ctx, auth, "PROPFIND", u, "1", propfindETags)
	if err != nil {
		return nil, err
	}
	out := map[string]member{}
	for _, r := range ms.Responses {
		if len(r.Hrefs) == 0 {
			continue
		}
		m, err := resolve(u, r.Hrefs[0])
		if err != nil {
			return nil, err
		}
		p := r.ok()
		if m.Path == u.Path || m.Path == strings.TrimSuffix(u.Path, "/") || (p.ResourceType != nil && strings.HasSuffix(m.Path, "/")) {
			continue
		}
		out[m.Path] = member{etag: p.ETag}
	}
	return out, nil
}

// multiget fetches the objects at paths into objs (RFC 4791 §7.9); one
// gone meanwhile (404) is removed. An object the answer leaves out fails
// the sync, to be tried again.
func (s *Source) multiget(ctx context.Context, auth string, u *url.URL, paths []string, objs map[string]object) error {
	hrefs := make([]string, len(paths))
	for i, p := range paths {
		hrefs[i] = (&url.URL{Path: p}).EscapedPath()
	}
	ms, err := s.srv.do(ctx, auth, "REPORT", u, "1", multigetBody(hrefs))
	if err != nil {
		return err
	}
	got := make(map[string]bool, len(paths))
	for _, r := range ms.Responses {
		for _, h := range r.Hrefs {
			m, err := resolve(u, h)
			if err != nil {
				return err
			}
			got[m.Path] = true
			if statusCode(r.Status) == http.StatusNotFound {
				delete(objs, m.Path)
				continue
			}
			p := r.ok()
			if p.CalendarData == nil {
				delete(objs, m.Path)
				continue
			}
			objs[m.Path] = object{url: m.String(), etag: p.ETag, data: []byte(*p.CalendarData)}
		}
	}
	for _, p := range paths {
		if !got[p] {
			return fmt.Errorf("caldav: REPORT calendar-multiget %s: the answer left out %s", u, p)
		}
	}
	return nil
}
