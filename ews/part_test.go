package ews

import (
	"bytes"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/calfed/calfed/calendar"
	"github.com/calfed/calfed/freebusy"
	"github.com/calfed/calfed/internal/identity"
	"github.com/calfed/calfed/orgrel"
)

// bigFixture serves mailboxes with n one-hour events each from 1 March
// 2026, every item with its own subject, detailed to partner.example.
func bigFixture(n int, mailboxes ...string) *Handler {
	dir := &fakeDirectory{mailboxes: map[string]*calendar.Mailbox{}, events: map[string][]calendar.Event{}}
	access := fakeAccess{}
	start := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	for _, addr := range mailboxes {
		dir.mailboxes[addr] = &calendar.Mailbox{Address: addr, Location: time.UTC}
		access[addr] = orgrel.LimitedDetails
		for i := range n {
			at := start.Add(time.Duration(i) * 90 * time.Second)
			dir.events[addr] = append(dir.events[addr], calendar.Event{Start: at, End: at.Add(time.Hour),
				Item: calendar.Item{Busy: calendar.Busy}.WithText(fmt.Sprintf("%s meeting %d <&>", addr, i), "Room "+strconv.Itoa(i%7))})
		}
	}
	return New(Options{FreeBusy: freebusy.New(freebusy.Options{Directory: dir, Access: access, MaxResultSet: 100000})})
}

func askBig(t *testing.T, h http.Handler, mailboxes ...string) *httptest.ResponseRecorder {
	t.Helper()
	body := envelopeWith("", availability(mailboxes, "2026-03-01T00:00:00", "2026-04-01T00:00:00", "30", "DetailedMerged"))
	req := httptest.NewRequest(http.MethodPost, "/EWS/Exchange.asmx", strings.NewReader(body))
	req = req.WithContext(identity.NewContext(req.Context(), partner))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != http.StatusOK {
		t.Fatalf("status %d: %.500s", rec.Code, rec.Body.String())
	}
	return rec
}

// An answer up to streamAfter is sent whole with its Content-Length; a
// larger one is sent as it is written, without, and arrives whole.
func TestLargeAnswersStream(t *testing.T) {
	for _, c := range []struct {
		events int
		stream bool
	}{{10, false}, {1000, false}, {8000, true}} {
		rec := askBig(t, bigFixture(c.events, "a@example.com"), "a@example.com")
		body := rec.Body.Bytes()
		length := rec.Header().Get("Content-Length")
		if c.stream != (len(body) > streamAfter) {
			t.Fatalf("%d events make %d bytes: the case is wrong", c.events, len(body))
		}
		switch {
		case c.stream && length != "":
			t.Errorf("%d events, %d bytes: Content-Length %s on a streamed answer", c.events, len(body), length)
		case !c.stream && length != strconv.Itoa(len(body)):
			t.Errorf("%d events, %d bytes: Content-Length %q", c.events, len(body), length)
		}
		if got := bytes.Count(body, []byte("<CalendarEvent>")); got != c.events {
			t.Errorf("%d events: %d in the answer", c.events, got)
		}
		if !bytes.HasSuffix(body, []byte("</s:Envelope>")) || rec.Header().Get("Content-Type") == "" {
			t.Errorf("%d events: answer cut or without its type: …%s", c.events, body[max(0, len(body)-100):])
		}
	}
}

// Mailboxes rendered apart and joined give, for each mailbox, what it
// answers alone, in request order, whether the whole streams or not.
func TestMailboxesJoinInOrder(t *testing.T) {
	for _, n := range []int{3, 2500} {
		boxes := []string{"a@example.com", "b@example.com", "c@example.com"}
		h := bigFixture(n, boxes...)
		var want []byte
		for _, b := range boxes {
			alone := askBig(t, h, b).Body.Bytes()
			start := bytes.Index(alone, []byte("<FreeBusyResponse>"))
			end := bytes.LastIndex(alone, []byte("</FreeBusyResponse>"))
			want = append(want, alone[start:end+len("</FreeBusyResponse>")]...)
		}
		rec := askBig(t, h, boxes...)
		got := rec.Body.Bytes()
		start := bytes.Index(got, []byte("<FreeBusyResponse>"))
		end := bytes.LastIndex(got, []byte("</FreeBusyResponse>"))
		if start < 0 || !bytes.Equal(got[start:end+len("</FreeBusyResponse>")], want) {
			t.Errorf("%d events each: the joined answer (%d bytes) is not the three answers in order", n, len(got))
		}
		if streamed := rec.Header().Get("Content-Length") == ""; streamed != (len(got) > streamAfter) {
			t.Errorf("%d events each, %d bytes: streamed %v", n, len(got), streamed)
		}
	}
}

// A connection that fails while a large answer streams costs the rest of
// the writes, nothing else.
func TestStreamingStopsWritingToAFailedConnection(t *testing.T) {
	h := bigFixture(8000, "a@example.com")
	body := envelopeWith("", availability([]string{"a@example.com"}, "2026-03-01T00:00:00", "2026-04-01T00:00:00", "30", "DetailedMerged"))
	req := httptest.NewRequest(http.MethodPost, "/EWS/Exchange.asmx", strings.NewReader(body))
	req = req.WithContext(identity.NewContext(req.Context(), partner))
	w := &failingWriter{header: http.Header{}, failAfter: 2}
	h.ServeHTTP(w, req)
	if w.status != http.StatusOK || w.writes != 3 {
		t.Errorf("status %d after %d writes, want 200 and no write after the failing one", w.status, w.writes)
	}
}

type failingWriter struct {
	header            http.Header
	status            int
	writes, failAfter int
}

func (w *failingWriter) Header() http.Header { return w.header }
func (w *failingWriter) WriteHeader(s int)   { w.status = s }
func (w *failingWriter) Write(p []byte) (int, error) {
	w.writes++
	if w.writes > w.failAfter {
		return 0, errors.New("connection reset")
	}
	return len(p), nil
}
