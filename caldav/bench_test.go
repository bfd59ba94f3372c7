package caldav

import (
	"context"
	"flag"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/calfed/calfed/calendar"
	"github.com/calfed/calfed/internal/radicaletest"
)

// The sync benchmarks' size; CI runs them small, once. The figures in
// docs come from -caldav.mailboxes=1000 -caldav.events=500.
var (
	benchMailboxes = flag.Int("caldav.mailboxes", 5, "mailboxes in the CalDAV sync benchmarks")
	benchEvents    = flag.Int("caldav.events", 50, "events per mailbox in the CalDAV sync benchmarks")
)

// benchEvent is event i of a mailbox's calendar: half-hour meetings
// spread over March 2026; rev changes its time.
func benchEvent(user string, i, rev int) string {
	day, hour := 1+i%28, 8+(i/28)%9
	return fmt.Sprintf("BEGIN:VEVENT\r\nUID:%s-%d\r\nDTSTAMP:20260101T000000Z\r\nDTSTART:202603%02dT%02d%02d00Z\r\nDURATION:PT30M\r\nSUMMARY:Meeting %d of %s\r\nEND:VEVENT\r\n",
		user, i, day, hour, rev%30, i, user)
}

func benchObject(user string, i, rev int) string {
	return "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//calfed//bench//EN\r\n" + benchEvent(user, i, rev) + "END:VCALENDAR\r\n"
}

// heldBytes is the heap in use after a collection.
func heldBytes() uint64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

// benchSync measures a first sync of every mailbox, then a round after
// 1% of the events changed (change makes the changes, untimed):
// time, requests sent and the heap the synced copies hold.
func benchSync(b *testing.B, base string, cred Credentials, users []string, change func(rev int)) {
	newServer := func() *Server {
		u, _ := url.Parse(base)
		srv := NewServer(Config{Name: "bench", URL: u, Credentials: cred, Timeout: 5 * time.Minute})
		for _, user := range users {
			h, _ := url.Parse(base + user + "/")
			srv.Mailbox(user+"@contoso.example", h)
		}
		return srv
	}
	check := func(b *testing.B, srv *Server) {
		for _, src := range srv.Sources() {
			if st := src.Status(); st.Error != "" {
				b.Fatalf("%s: %s", src.address, st.Error)
			}
		}
	}
	b.Run("initial", func(b *testing.B) {
		b.ReportAllocs()
		var requests int64
		var held uint64
		for range b.N {
			before := heldBytes()
			srv := newServer()
			srv.Round(context.Background(), true)
			b.StopTimer()
			check(b, srv)
			requests += srv.Requests()
			held += heldBytes() - min(before, heldBytes())
			runtime.KeepAlive(srv)
			b.StartTimer()
		}
		b.ReportMetric(float64(requests)/float64(b.N), "requests/op")
		b.ReportMetric(float64(held)/float64(b.N)/(1<<20), "MiB-held/op")
		b.ReportMetric(float64(len(users)), "mailboxes")
	})
	b.Run("incremental-1%", func(b *testing.B) {
		srv := newServer()
		srv.Round(context.Background(), true)
		check(b, srv)
		b.ReportAllocs()
		b.ResetTimer()
		var requests int64
		for i := range b.N {
			b.StopTimer()
			change(i + 1)
			before := srv.Requests()
			b.StartTimer()
			srv.Round(context.Background(), true)
			b.StopTimer()
			requests += srv.Requests() - before
			check(b, srv)
			b.StartTimer()
		}
		b.ReportMetric(float64(requests)/float64(b.N), "requests/op")
	})
}

func benchUsers() []string {
	users := make([]string, *benchMailboxes)
	for i := range users {
		users[i] = fmt.Sprintf("user%04d", i)
	}
	return users
}

// changed reports whether event i changes in a 1% change: every
// hundredth event, at least one a mailbox.
func changed(i int) bool { return i%100 == 0 }

// BenchmarkSyncRadicale syncs from a real Radicale (internal/radicaletest).
func BenchmarkSyncRadicale(b *testing.B) {
	users := benchUsers()
	dav := radicaletest.Start(b, users...)
	start := time.Now()
	for _, u := range users {
		var cal strings.Builder
		cal.WriteString("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//calfed//bench//EN\r\n")
		for i := range *benchEvents {
			cal.WriteString(benchEvent(u, i, 0))
		}
		cal.WriteString("END:VCALENDAR\r\n")
		dav.PutCalendar(u, u+"/calendar/", []byte(cal.String()))
	}
	b.Logf("radicale: %d mailboxes × %d events stored in %v", len(users), *benchEvents, time.Since(start).Round(time.Millisecond))
	pw := filepath.Join(b.TempDir(), "pw")
	if err := os.WriteFile(pw, []byte(dav.Password(radicaletest.Reader)), 0o600); err != nil {
		b.Fatal(err)
	}
	benchSync(b, dav.URL, Credentials{Username: radicaletest.Reader, PasswordFile: pw}, users, func(rev int) {
		for _, u := range users {
			for i := range *benchEvents {
				if changed(i) {
					dav.PutRaw(u, fmt.Sprintf("%s/calendar/%s-%d.ics", u, u, i), []byte(benchObject(u, i, rev)))
				}
			}
		}
	})
}

// BenchmarkSyncFake syncs from the in-process server of the unit tests:
// calfed's own cost, without a real server's.
func BenchmarkSyncFake(b *testing.B) {
	users := benchUsers()
	f := newFakeDAV(&testing.T{})
	b.Cleanup(f.srv.Close)
	for _, u := range users {
		f.calendar("/"+u+"/calendar/", "Calendar")
		for i := range *benchEvents {
			f.put(fmt.Sprintf("/%s/calendar/%s-%d.ics", u, u, i), benchObject(u, i, 0))
		}
	}
	benchSync(b, f.srv.URL+"/", Credentials{}, users, func(rev int) {
		for _, u := range users {
			for i := range *benchEvents {
				if changed(i) {
					f.put(fmt.Sprintf("/%s/calendar/%s-%d.ics", u, u, i), benchObject(u, i, rev))
				}
			}
		}
	})
}

// BenchmarkAnswerPath asks a mailbox's events over a week from a CalDAV
// source and from a file source of the same events: both are read from
// the same in-memory calendar.
func BenchmarkAnswerPath(b *testing.B) {
	f := newFakeDAV(&testing.T{})
	b.Cleanup(f.srv.Close)
	f.calendar("/alice/calendar/", "Calendar")
	var all strings.Builder
	all.WriteString("BEGIN:VCALENDAR\r\nVERSION:2.0\r\n")
	for i := range 500 {
		f.put(fmt.Sprintf("/alice/calendar/e%d.ics", i), benchObject("alice", i, 0))
		all.WriteString(benchEvent("alice", i, 0))
	}
	all.WriteString("END:VCALENDAR\r\n")
	u, _ := url.Parse(f.srv.URL + "/")
	srv := NewServer(Config{Name: "bench", URL: u})
	h, _ := url.Parse(f.srv.URL + "/alice/")
	dav := srv.Mailbox("alice@contoso.example", h)
	srv.Round(context.Background(), true)
	now := func() time.Time { return time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC) }
	from, to := time.Date(2026, 3, 9, 0, 0, 0, 0, time.UTC), time.Date(2026, 3, 16, 0, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name string
		src  calendar.Source
	}{
		{"caldav", dav},
		{"file", calendar.StaticSource{Name: "alice.ics", Data: []byte(all.String())}},
	} {
		b.Run(tc.name, func(b *testing.B) {
			d, err := calendar.NewDirectory(context.Background(), []calendar.Entry{{Mailbox: calendar.Mailbox{Address: "alice@contoso.example"}, Source: tc.src}},
				calendar.DirectoryOptions{Now: now})
			if err != nil {
				b.Fatal(err)
			}
			evs, err := d.Events(context.Background(), "alice@contoso.example", from, to)
			if err != nil || len(evs) == 0 {
				b.Fatalf("Events = %d, %v", len(evs), err)
			}
			b.ReportAllocs()
			b.ResetTimer()
			var buf []calendar.Event
			for range b.N {
				buf, _ = d.AppendEvents(context.Background(), buf[:0], "alice@contoso.example", from, to)
			}
			b.ReportMetric(float64(len(evs)), "events")
		})
	}
}
