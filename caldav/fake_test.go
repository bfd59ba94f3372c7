package caldav

import (
	"encoding/xml"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// fakeDAV is a small CalDAV server for unit tests: calendar homes with
// calendars, sync-collection with numbered tokens (unless noSync), ctag,
// ETags and calendar-multiget.
type fakeDAV struct {
	mu       sync.Mutex
	version  int
	homes    map[string]bool
	cals     map[string]*fakeCal
	noSync   bool
	auth     string         // the Authorization header required
	requests map[string]int // by method and report
	srv      *httptest.Server
}

type fakeCal struct {
	name        string
	transparent bool
	tasksOnly   bool
	objs        map[string]*fakeObj
	deleted     map[string]int
}

type fakeObj struct {
	data    string
	version int
}

func newFakeDAV(t *testing.T) *fakeDAV {
	f := &fakeDAV{homes: map[string]bool{}, cals: map[string]*fakeCal{}, requests: map[string]int{}}
	f.srv = httptest.NewServer(f)
	t.Cleanup(f.srv.Close)
	return f
}

// calendar adds the calendar at path (its home is the parent).
func (f *fakeDAV) calendar(path, name string) *fakeCal {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.homes[path[:strings.LastIndex(strings.TrimSuffix(path, "/"), "/")+1]] = true
	c := &fakeCal{name: name, objs: map[string]*fakeObj{}, deleted: map[string]int{}}
	f.version++
	f.cals[path] = c
	return c
}

func (f *fakeDAV) put(path, data string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.version++
	c := f.cals[path[:strings.LastIndex(path, "/")+1]]
	c.objs[path] = &fakeObj{data: data, version: f.version}
	delete(c.deleted, path)
}

func (f *fakeDAV) del(path string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.version++
	c := f.cals[path[:strings.LastIndex(path, "/")+1]]
	delete(c.objs, path)
	c.deleted[path] = f.version
}

func (f *fakeDAV) count(what string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.requests[what]
}

func (c *fakeCal) ctag() int {
	n := 0
	for _, o := range c.objs {
		n = max(n, o.version)
	}
	for _, v := range c.deleted {
		n = max(n, v)
	}
	return n
}

func event(uid, start string) string {
	return "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nBEGIN:VEVENT\r\nUID:" + uid + "\r\nDTSTART:" + start + "\r\nDURATION:PT1H\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
}

func (f *fakeDAV) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	body, _ := io.ReadAll(r.Body)
	what := r.Method
	if r.Method == "REPORT" {
		if strings.Contains(string(body), "sync-collection") {
			what = "REPORT sync-collection"
		} else {
			what = "REPORT calendar-multiget"
		}
	}
	f.requests[what]++
	if f.auth != "" && r.Header.Get("Authorization") != f.auth {
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	var out strings.Builder
	resp := func(href, props string) {
		fmt.Fprintf(&out, `<d:response><d:href>%s</d:href><d:propstat><d:prop>%s</d:prop><d:status>HTTP/1.1 200 OK</d:status></d:propstat></d:response>`, href, props)
	}
	calProps := func(path string, c *fakeCal) string {
		p := `<d:resourcetype><d:collection/><c:calendar/></d:resourcetype><d:displayname>` + c.name + `</d:displayname><cs:getctag>"` + strconv.Itoa(c.ctag()) + `"</cs:getctag>`
		if !f.noSync {
			p += `<d:sync-token>tok-` + strconv.Itoa(f.version) + `</d:sync-token>`
		}
		if c.transparent {
			p += `<c:schedule-calendar-transp><c:transparent/></c:schedule-calendar-transp>`
		}
		if c.tasksOnly {
			p += `<c:supported-calendar-component-set><c:comp name="VTODO"/></c:supported-calendar-component-set>`
		}
		return p
	}
	switch {
	case r.Method == "PROPFIND" && f.homes[r.URL.Path]:
		resp(r.URL.Path, `<d:resourcetype><d:collection/></d:resourcetype><c:calendar-home-set><d:href>`+r.URL.Path+`</d:href></c:calendar-home-set>`)
		if r.Header.Get("Depth") == "1" {
			for _, p := range sortedKeys(f.cals) {
				if strings.HasPrefix(p, r.URL.Path) {
					resp(p, calProps(p, f.cals[p]))
				}
			}
		}
	case r.Method == "PROPFIND" && f.cals[r.URL.Path] != nil:
		c := f.cals[r.URL.Path]
		resp(r.URL.Path, calProps(r.URL.Path, c))
		if r.Header.Get("Depth") == "1" {
			for _, p := range sortedKeys(c.objs) {
				resp(p, `<d:getetag>"v`+strconv.Itoa(c.objs[p].version)+`"</d:getetag>`)
			}
		}
	case what == "REPORT sync-collection" && f.cals[r.URL.Path] != nil:
		if f.noSync {
			w.WriteHeader(http.StatusForbidden)
			return
		}
		var req struct {
			Token string `xml:"sync-token"`
		}
		xml.Unmarshal(body, &req)
		since := 0
		if req.Token != "" {
			n, err := strconv.Atoi(strings.TrimPrefix(req.Token, "tok-"))
			if err != nil || !strings.HasPrefix(req.Token, "tok-") {
				w.WriteHeader(http.StatusForbidden)
				io.WriteString(w, `<?xml version="1.0"?><d:error xmlns:d="DAV:"><d:valid-sync-token/></d:error>`)
				return
			}
			since = n
		}
		c := f.cals[r.URL.Path]
		for _, p := range sortedKeys(c.objs) {
			if c.objs[p].version > since {
				resp(p, `<d:getetag>"v`+strconv.Itoa(c.objs[p].version)+`"</d:getetag>`)
			}
		}
		for _, p := range sortedKeys(c.deleted) {
			if since > 0 && c.deleted[p] > since {
				fmt.Fprintf(&out, `<d:response><d:href>%s</d:href><d:status>HTTP/1.1 404 Not Found</d:status></d:response>`, p)
			}
		}
		fmt.Fprintf(&out, `<d:sync-token>tok-%d</d:sync-token>`, f.version)
	case what == "REPORT calendar-multiget" && f.cals[r.URL.Path] != nil:
		var req struct {
			Hrefs []string `xml:"href"`
		}
		xml.Unmarshal(body, &req)
		c := f.cals[r.URL.Path]
		for _, h := range req.Hrefs {
			o := c.objs[h]
			if o == nil {
				fmt.Fprintf(&out, `<d:response><d:href>%s</d:href><d:status>HTTP/1.1 404 Not Found</d:status></d:response>`, h)
				continue
			}
			var data strings.Builder
			xml.EscapeText(&data, []byte(o.data))
			resp(h, `<d:getetag>"v`+strconv.Itoa(o.version)+`"</d:getetag><c:calendar-data>`+data.String()+`</c:calendar-data>`)
		}
	default:
		w.WriteHeader(http.StatusNotFound)
		return
	}
	w.Header().Set("Content-Type", "application/xml; charset=utf-8")
	w.WriteHeader(http.StatusMultiStatus)
	fmt.Fprintf(w, `<?xml version="1.0" encoding="utf-8"?><d:multistatus xmlns:d="DAV:" xmlns:c="urn:ietf:params:xml:ns:caldav" xmlns:cs="http://calendarserver.org/ns/">%s</d:multistatus>`, out.String())
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
