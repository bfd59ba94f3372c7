package calendar

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
	"unsafe"
)

var (
	london = mustLoc("Europe/London")
	utc    = time.UTC
)

func mustLoc(name string) *time.Location {
	loc, err := time.LoadLocation(name)
	if err != nil {
		panic(err)
	}
	return loc
}

func ics(events ...string) []byte {
	return []byte("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\n" + strings.Join(events, "") + "END:VCALENDAR\r\n")
}

func ev(lines ...string) string {
	return "BEGIN:VEVENT\r\n" + strings.Join(lines, "\r\n") + "\r\nEND:VEVENT\r\n"
}

func parse(t *testing.T, data []byte, opt Options) *Calendar {
	t.Helper()
	if opt.Location == nil {
		opt.Location = london
	}
	if opt.HorizonFrom.IsZero() {
		opt.HorizonFrom = time.Date(2026, 1, 1, 0, 0, 0, 0, utc)
		opt.HorizonTo = time.Date(2027, 1, 1, 0, 0, 0, 0, utc)
	}
	cal, err := Parse([]File{{Name: "test.ics", Data: data}}, opt)
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	return cal
}

type span struct {
	start, end string // RFC 3339
	busy       BusyType
}

func spans(t *testing.T, cal *Calendar, from, to time.Time) []span {
	t.Helper()
	evs, err := cal.Events(from, to)
	if err != nil {
		t.Fatalf("Events: %v", err)
	}
	var out []span
	for _, e := range evs {
		out = append(out, span{e.Start.UTC().Format(time.RFC3339), e.End.UTC().Format(time.RFC3339), e.Item.Busy})
	}
	return out
}

func equalSpans(a, b []span) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestRecurrenceWithMovedCancelledAndExcludedOccurrences(t *testing.T) {
	data := ics(
		ev("UID:standup", "SUMMARY:Stand-up", "DTSTART;TZID=Europe/London:20260323T093000",
			"DTEND;TZID=Europe/London:20260323T094500", "RRULE:FREQ=DAILY;COUNT=10", "EXDATE;TZID=Europe/London:20260325T093000,20260326T093000"),
		// The 27th moves to the afternoon; the 30th is cancelled.
		ev("UID:standup", "RECURRENCE-ID;TZID=Europe/London:20260327T093000", "SUMMARY:Stand-up (moved)",
			"DTSTART;TZID=Europe/London:20260327T140000", "DTEND;TZID=Europe/London:20260327T141500"),
		ev("UID:standup", "RECURRENCE-ID;TZID=Europe/London:20260330T093000", "STATUS:CANCELLED",
			"DTSTART;TZID=Europe/London:20260330T093000", "DTEND;TZID=Europe/London:20260330T094500"),
	)
	cal := parse(t, data, Options{})
	from := time.Date(2026, 3, 23, 0, 0, 0, 0, utc)
	got := spans(t, cal, from, from.AddDate(0, 0, 9))
	want := []span{
		{"2026-03-23T09:30:00Z", "2026-03-23T09:45:00Z", Busy},
		{"2026-03-24T09:30:00Z", "2026-03-24T09:45:00Z", Busy},
		{"2026-03-27T14:00:00Z", "2026-03-27T14:15:00Z", Busy},
		{"2026-03-28T09:30:00Z", "2026-03-28T09:45:00Z", Busy},
		// 29 March: clocks go forward in London; wall time stays 09:30.
		{"2026-03-29T08:30:00Z", "2026-03-29T08:45:00Z", Busy},
		{"2026-03-31T08:30:00Z", "2026-03-31T08:45:00Z", Busy},
	}
	if !equalSpans(got, want) {
		t.Fatalf("Events = %v\nwant %v", got, want)
	}
	evs, _ := cal.Events(time.Date(2026, 3, 27, 0, 0, 0, 0, utc), time.Date(2026, 3, 28, 0, 0, 0, 0, utc))
	if len(evs) != 1 || !evs[0].Exception || !evs[0].Recurring || evs[0].Item.Subject() != "Stand-up (moved)" {
		t.Fatalf("moved occurrence = %+v", evs)
	}
}

// Queries outside the pre-expanded horizon take the on-demand path and must
// give the same answer.
func TestHorizonFastAndSlowPathsAgree(t *testing.T) {
	data := ics(
		ev("UID:weekly", "DTSTART;TZID=W. Europe Standard Time:20250106T100000", "DURATION:PT1H", "RRULE:FREQ=WEEKLY;BYDAY=MO,WE"),
		ev("UID:weekly", "RECURRENCE-ID;TZID=W. Europe Standard Time:20260311T100000", "DTSTART;TZID=W. Europe Standard Time:20260312T160000", "DURATION:PT2H"),
		ev("UID:once", "DTSTART:20260310T120000Z", "DTEND:20260310T130000Z", "TRANSP:TRANSPARENT"),
	)
	inside := parse(t, data, Options{})
	outside := parse(t, data, Options{HorizonFrom: time.Date(2030, 1, 1, 0, 0, 0, 0, utc), HorizonTo: time.Date(2031, 1, 1, 0, 0, 0, 0, utc)})
	from, to := time.Date(2026, 3, 1, 0, 0, 0, 0, utc), time.Date(2026, 4, 1, 0, 0, 0, 0, utc)
	a, b := spans(t, inside, from, to), spans(t, outside, from, to)
	if !equalSpans(a, b) || len(a) != 10 {
		t.Fatalf("fast path %v\nslow path %v", a, b)
	}
}

func TestAllDayAndFloatingTimesUseMailboxZone(t *testing.T) {
	data := ics(
		ev("UID:leave", "DTSTART;VALUE=DATE:20260401", "DTEND;VALUE=DATE:20260403", "X-MICROSOFT-CDO-BUSYSTATUS:OOF"),
		ev("UID:float", "DTSTART:20260401T230000", "DTEND:20260402T010000"),
		ev("UID:oneday", "DTSTART;VALUE=DATE:20260405"),
	)
	cal := parse(t, data, Options{Location: mustLoc("America/New_York")})
	got := spans(t, cal, time.Date(2026, 3, 31, 0, 0, 0, 0, utc), time.Date(2026, 4, 7, 0, 0, 0, 0, utc))
	want := []span{
		{"2026-04-01T04:00:00Z", "2026-04-03T04:00:00Z", OOF},
		{"2026-04-02T03:00:00Z", "2026-04-02T05:00:00Z", Busy},
		{"2026-04-05T04:00:00Z", "2026-04-06T04:00:00Z", Busy},
	}
	if !equalSpans(got, want) {
		t.Fatalf("Events = %v\nwant %v", got, want)
	}
}

func TestBusyType(t *testing.T) {
	tests := []struct {
		lines []string
		want  BusyType
	}{
		{nil, Busy},
		{[]string{"X-MICROSOFT-CDO-BUSYSTATUS:FREE", "TRANSP:OPAQUE"}, Free},
		{[]string{"X-MICROSOFT-CDO-BUSYSTATUS:TENTATIVE"}, Tentative},
		{[]string{"X-MICROSOFT-CDO-BUSYSTATUS:OOF"}, OOF},
		{[]string{"X-MICROSOFT-CDO-BUSYSTATUS:WORKINGELSEWHERE"}, WorkingElsewhere},
		{[]string{"X-MICROSOFT-CDO-BUSYSTATUS:BUSY", "TRANSP:TRANSPARENT"}, Busy},
		{[]string{"X-MICROSOFT-CDO-BUSYSTATUS:WEIRD", "TRANSP:TRANSPARENT"}, Free},
		{[]string{"TRANSP:OPAQUE", "STATUS:TENTATIVE"}, Busy},
		{[]string{"STATUS:TENTATIVE"}, Tentative},
		{[]string{"STATUS:CONFIRMED"}, Busy},
		{[]string{"ATTENDEE;PARTSTAT=NEEDS-ACTION:mailto:Owner@Example.org"}, Tentative},
		{[]string{"ATTENDEE;PARTSTAT=DECLINED:mailto:owner@example.org", "TRANSP:OPAQUE"}, Free},
		{[]string{"ATTENDEE;PARTSTAT=NEEDS-ACTION:mailto:someone@example.org"}, Busy},
		{[]string{"ATTENDEE;PARTSTAT=NEEDS-ACTION:MAILTO:owner@EXAMPLE.org."}, Tentative},
		{[]string{"ATTENDEE;PARTSTAT=DECLINED:mailto:\u212Aowner@example.org"}, Busy}, // not the owner's address
	}
	for _, tt := range tests {
		lines := append([]string{"UID:x", "DTSTART:20260401T090000Z", "DTEND:20260401T100000Z"}, tt.lines...)
		cal := parse(t, ics(ev(lines...)), Options{Owner: "owner@example.org"})
		evs, _ := cal.Events(time.Date(2026, 4, 1, 0, 0, 0, 0, utc), time.Date(2026, 4, 2, 0, 0, 0, 0, utc))
		if len(evs) != 1 || evs[0].Item.Busy != tt.want {
			t.Errorf("busy for %v = %v, want %v", tt.lines, evs, tt.want)
		}
	}
}

// An owner whose domain is internationalised is found however an
// attendee writes that domain.
func TestBusyTypeInternationalOwner(t *testing.T) {
	for _, tt := range []struct {
		attendee string
		want     BusyType
	}{
		{"mailto:OWNER@Bücher.example", Free},
		{"mailto:owner@xn--bcher-kva.example.", Free},
		{"mailto:owner@bucher.example", Busy},
		{"mailto:owner2@bücher.example", Busy},
	} {
		lines := []string{"UID:x", "DTSTART:20260401T090000Z", "DTEND:20260401T100000Z", "ATTENDEE;PARTSTAT=DECLINED:" + tt.attendee}
		cal := parse(t, ics(ev(lines...)), Options{Owner: "owner@bücher.example"})
		evs, _ := cal.Events(time.Date(2026, 4, 1, 0, 0, 0, 0, utc), time.Date(2026, 4, 2, 0, 0, 0, 0, utc))
		if len(evs) != 1 || evs[0].Item.Busy != tt.want {
			t.Errorf("busy for %s = %v, want %v", tt.attendee, evs, tt.want)
		}
	}
}

func TestItemFlags(t *testing.T) {
	data := ics(ev("UID:p", "SUMMARY:Dentist", "LOCATION:Town", "CLASS:PRIVATE", "DTSTART:20260401T090000Z", "DTEND:20260401T100000Z",
		"ORGANIZER:mailto:a@example.org", "BEGIN:VALARM", "ACTION:DISPLAY", "TRIGGER:-PT15M", "END:VALARM"))
	cal := parse(t, data, Options{})
	evs, _ := cal.Events(time.Date(2026, 4, 1, 0, 0, 0, 0, utc), time.Date(2026, 4, 2, 0, 0, 0, 0, utc))
	if len(evs) != 1 {
		t.Fatalf("got %d events", len(evs))
	}
	it := evs[0].Item
	if !it.Private || !it.Meeting || !it.Reminder || it.Subject() != "Dentist" || it.Location() != "Town" {
		t.Errorf("item = %+v", it)
	}
	if evs[0].ID() == "" || evs[0].ID() != strings.ToUpper(evs[0].ID()) {
		t.Errorf("ID() = %q", evs[0].ID())
	}
}

func TestCustomVTIMEZONE(t *testing.T) {
	tz := "BEGIN:VTIMEZONE\r\nTZID:Custom Berlin\r\n" +
		"BEGIN:STANDARD\r\nDTSTART:16011028T030000\r\nRRULE:FREQ=YEARLY;BYDAY=-1SU;BYMONTH=10\r\nTZOFFSETFROM:+0200\r\nTZOFFSETTO:+0100\r\nEND:STANDARD\r\n" +
		"BEGIN:DAYLIGHT\r\nDTSTART:16010325T020000\r\nRRULE:FREQ=YEARLY;BYDAY=-1SU;BYMONTH=3\r\nTZOFFSETFROM:+0100\r\nTZOFFSETTO:+0200\r\nEND:DAYLIGHT\r\nEND:VTIMEZONE\r\n"
	data := ics(tz + ev("UID:a", `DTSTART;TZID="Custom Berlin":20260701T100000`, `DTEND;TZID="Custom Berlin":20260701T110000`) +
		ev("UID:b", `DTSTART;TZID="Custom Berlin":20260110T100000`, `DTEND;TZID="Custom Berlin":20260110T110000`))
	cal := parse(t, data, Options{})
	got := spans(t, cal, time.Date(2026, 1, 1, 0, 0, 0, 0, utc), time.Date(2026, 12, 1, 0, 0, 0, 0, utc))
	want := []span{{"2026-01-10T09:00:00Z", "2026-01-10T10:00:00Z", Busy}, {"2026-07-01T08:00:00Z", "2026-07-01T09:00:00Z", Busy}}
	if !equalSpans(got, want) {
		t.Fatalf("Events = %v\nwant %v", got, want)
	}
}

func TestParseErrorsNameFileAndLine(t *testing.T) {
	tests := []struct {
		name    string
		data    string
		line    int
		skipped bool // leniently: the event is left out (else repaired)
	}{
		{"missing DTSTART", string(ics(ev("UID:a", "DTSTART:20260101T100000Z"), ev("UID:b", "SUMMARY:x"))), 8, true},
		{"bad date", string(ics(ev("UID:a", "DTSTART:2026-01-01"))), 4, true},
		{"unknown zone", string(ics(ev("UID:a", "DTSTART;TZID=Mars/Olympus:20260101T100000"))), 4, false},
		{"end before start", string(ics(ev("UID:a", "DTSTART:20260101T100000Z", "DTEND:20260101T090000Z"))), 4, false},
		{"bad rrule", string(ics(ev("UID:a", "DTSTART:20260101T100000Z", "RRULE:FREQ=SOMETIMES"))), 4, true},
		{"unterminated", "BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nUID:a\r\nEND:VCALENDAR\r\n", 4, false},
		{"no colon", "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nGARBAGE LINE\r\nEND:VCALENDAR\r\n", 3, false},
	}
	for _, tt := range tests {
		// Strict: the first problem fails the calendar, naming its place.
		_, err := Parse([]File{{Name: "alice.ics", Data: []byte(tt.data)}}, Options{Strict: true})
		var pe *ParseError
		if !errors.As(err, &pe) || !errors.Is(err, ErrParse) {
			t.Errorf("%s: strict Parse error = %v, want a ParseError", tt.name, err)
			continue
		}
		if pe.File != "alice.ics" || pe.Line != tt.line {
			t.Errorf("%s: error at %s:%d, want alice.ics:%d (%v)", tt.name, pe.File, pe.Line, tt.line, err)
		}
		// Lenient: served, with the problem at the same place; only a
		// file that cannot be read at all still fails.
		cal, err := Parse([]File{{Name: "alice.ics", Data: []byte(tt.data)}}, Options{})
		if tt.name == "unterminated" {
			if err == nil {
				t.Errorf("%s: a truncated file was served", tt.name)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: lenient Parse: %v", tt.name, err)
			continue
		}
		ps := cal.Problems()
		if len(ps) != 1 || ps[0].File != "alice.ics" || ps[0].Line != tt.line || ps[0].Skipped != tt.skipped {
			t.Errorf("%s: problems %+v, want one at alice.ics:%d skipped=%v", tt.name, ps, tt.line, tt.skipped)
		}
	}
}

func TestDirectoryReloadAndIsolation(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good.ics")
	bad := filepath.Join(dir, "bad.ics")
	write := func(p string, data []byte) {
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write(good, ics(ev("UID:1", "DTSTART:20260401T090000Z", "DTEND:20260401T100000Z")))
	write(bad, []byte("BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\n"))
	d, err := NewDirectory(t.Context(), []Entry{
		{Mailbox: Mailbox{Address: "Good@Example.org"}, Source: FileSource{good}},
		{Mailbox: Mailbox{Address: "bad@example.org"}, Source: FileSource{bad}},
		{Mailbox: Mailbox{Address: "gone@example.org"}, Source: FileSource{filepath.Join(dir, "missing.ics")}},
	}, DirectoryOptions{})
	if err != nil {
		t.Fatal(err)
	}
	from, to := time.Date(2026, 4, 1, 0, 0, 0, 0, utc), time.Date(2026, 4, 2, 0, 0, 0, 0, utc)
	if evs, err := d.Events(t.Context(), "good@EXAMPLE.org", from, to); err != nil || len(evs) != 1 {
		t.Fatalf("good: %v, %v", evs, err)
	}
	for _, addr := range []string{"bad@example.org", "gone@example.org"} {
		if _, err := d.Events(t.Context(), addr, from, to); !errors.Is(err, ErrUnavailable) {
			t.Errorf("%s: err = %v, want ErrUnavailable", addr, err)
		}
	}
	if _, err := d.Events(t.Context(), "nobody@example.org", from, to); !errors.Is(err, ErrUnknownMailbox) {
		t.Errorf("unknown: err = %v", err)
	}
	// Change both files; a reload picks them up.
	write(good, ics(ev("UID:1", "DTSTART:20260401T090000Z", "DTEND:20260401T100000Z"), ev("UID:2", "DTSTART:20260401T110000Z", "DTEND:20260401T120000Z", "EXTRA:long enough to change the size")))
	write(bad, ics())
	d.Reload(t.Context())
	if evs, err := d.Events(t.Context(), "good@example.org", from, to); err != nil || len(evs) != 2 {
		t.Fatalf("good after reload: %v, %v", evs, err)
	}
	if evs, err := d.Events(t.Context(), "bad@example.org", from, to); err != nil || len(evs) != 0 {
		t.Fatalf("bad after repair: %v, %v", evs, err)
	}
}

func TestDirectorySource(t *testing.T) {
	dir := t.TempDir()
	for i, body := range []string{
		string(ics(ev("UID:1", "DTSTART:20260401T090000Z", "DTEND:20260401T100000Z"))),
		string(ics(ev("UID:2", "DTSTART:20260401T110000Z", "DTEND:20260401T120000Z"))),
	} {
		os.WriteFile(filepath.Join(dir, string(rune('a'+i))+".ics"), []byte(body), 0o644)
	}
	os.WriteFile(filepath.Join(dir, "notes.txt"), []byte("not a calendar"), 0o644)
	files, err := FileSource{dir}.Read(t.Context())
	if err != nil || len(files) != 2 {
		t.Fatalf("Read = %d files, %v", len(files), err)
	}
}

func TestTruncatedFileIsAnError(t *testing.T) {
	for _, data := range []string{"BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\n", string(ics()) + "BEGIN:VCALENDAR\r\n"} {
		if _, err := Parse([]File{{Name: "t.ics", Data: []byte(data)}}, Options{}); !errors.Is(err, ErrParse) {
			t.Errorf("Parse(%q) = %v, want ErrParse", data, err)
		}
	}
	// Nothing, or something other than iCalendar, is no calendar: read as
	// one without events it would show its owner free.
	for _, data := range []string{"", "\r\n", "<html>404</html>", "hello\n"} {
		if _, err := Parse([]File{{Name: "x.ics", Data: []byte(data)}}, Options{}); !errors.Is(err, ErrNotCalendar) || !errors.Is(err, ErrParse) {
			t.Errorf("Parse(%q) = %v, want ErrNotCalendar", data, err)
		}
	}
	if _, err := Parse([]File{{Name: "none.ics", Data: ics()}}, Options{}); err != nil {
		t.Errorf("a calendar without events: %v", err)
	}
}

// The directory compares addresses in their canonical form
// (internal/domainname): a U-label domain is its A-label, a local part's
// ASCII letters match without regard to case, and a spelling that folds
// onto another address (KELVIN SIGN for K) names no mailbox.
func TestDirectoryCanonicalAddresses(t *testing.T) {
	d, err := NewDirectory(t.Context(), []Entry{
		{Mailbox: Mailbox{Address: "Kim@Bücher.example"}, Source: StaticSource{Name: "kim", Data: ics()}},
	}, DirectoryOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for addr, want := range map[string]bool{
		"kim@xn--bcher-kva.example": true, "KIM@bücher.example": true, " kim@Bücher.example. ": true,
		"\u212Aim@bücher.example": false, "kim@BÜCHER.example": false, "kim@bucher.example": false,
	} {
		if mb, ok := d.Lookup(addr); ok != want || ok && mb.Address != "kim@xn--bcher-kva.example" {
			t.Errorf("Lookup(%q) = %+v, %v, want %v", addr, mb, ok, want)
		}
	}
	if got := d.Domains(); len(got) != 1 || got[0] != "xn--bcher-kva.example" {
		t.Errorf("Domains() = %v", got)
	}
	if _, err := NewDirectory(t.Context(), []Entry{{Mailbox: Mailbox{Address: "kim@\u212Aelvin.example"}, Source: StaticSource{Name: "kim", Data: ics()}}}, DirectoryOptions{}); err == nil {
		t.Error("NewDirectory took an address with no canonical form")
	}
}

// readRegular reads a file whole whatever its size against its buffer's,
// after what the buffer holds, which stays as it was, whether the buffer
// has the room or not.
func TestReadRegularWhole(t *testing.T) {
	dir := t.TempDir()
	held := []byte("held")
	for _, n := range []int{0, 1, 511, 512, 513, 4096, 262145} {
		want := bytes.Repeat([]byte("BEGIN:VCALENDAR\r\n"), n/17+1)[:n]
		name := filepath.Join(dir, fmt.Sprint(n))
		if err := os.WriteFile(name, want, 0o644); err != nil {
			t.Fatal(err)
		}
		for _, room := range []int{0, 4, 600, 300000} {
			buf := append(make([]byte, 0, len(held)+room), held...)
			got, grown, err := readRegular(name, buf)
			if err != nil || !bytes.Equal(got, want) {
				t.Errorf("%d bytes, room %d: read %d, %v", n, room, len(got), err)
			}
			if !bytes.Equal(buf, held) || len(got) > 0 && &grown[len(grown)-1] != &got[len(got)-1] {
				t.Errorf("%d bytes, room %d: the buffer holds %q, the file not at the end of the one returned", n, room, buf)
			}
			if cap(got) != len(got) {
				t.Errorf("%d bytes, room %d: the file has room to grow into what follows", n, room)
			}
		}
	}
}

// Every instance names the occurrence it is by its original start,
// however far it moved, whether the query falls inside the pre-expanded
// horizon or outside it.
func TestRecurrenceIDs(t *testing.T) {
	data := ics(
		ev("UID:d", "DTSTART:20260302T090000Z", "DURATION:PT30M", "RRULE:FREQ=DAILY;COUNT=6"),
		ev("UID:d", "RECURRENCE-ID:20260303T090000Z", "DTSTART:20260303T150000Z", "DURATION:PT30M"),
		ev("UID:d", "RECURRENCE-ID;RANGE=THISANDFUTURE:20260305T090000Z", "DTSTART:20260305T100000Z", "DURATION:PT30M"),
		ev("UID:lone", "RECURRENCE-ID:20260301T080000Z", "DTSTART:20260302T120000Z", "DURATION:PT1H"),
		ev("UID:s", "DTSTART:20260304T120000Z", "DURATION:PT1H"))
	day := func(d, h int) int64 { return time.Date(2026, 3, d, h, 0, 0, 0, utc).Unix() }
	want := map[int64]int64{ // start: RECURRENCE-ID
		day(2, 9): day(2, 9), day(2, 12): day(1, 8), day(3, 15): day(3, 9), day(4, 9): day(4, 9),
		day(4, 12): 0, day(5, 10): day(5, 9), day(6, 10): day(6, 9), day(7, 10): day(7, 9),
	}
	for _, horizon := range []struct {
		name     string
		from, to time.Time
	}{
		{"inside", time.Date(2026, 2, 1, 0, 0, 0, 0, utc), time.Date(2026, 5, 1, 0, 0, 0, 0, utc)},
		{"outside", time.Date(2025, 1, 1, 0, 0, 0, 0, utc), time.Date(2025, 2, 1, 0, 0, 0, 0, utc)},
	} {
		cal := parse(t, data, Options{HorizonFrom: horizon.from, HorizonTo: horizon.to})
		slid, err := cal.withHorizon(horizon.from.AddDate(0, 0, 1), horizon.to.AddDate(0, 0, 1)) // as the clock moves
		if err != nil {
			t.Fatal(err)
		}
		for i, c := range []*Calendar{cal, slid} {
			evs, err := c.Events(time.Date(2026, 3, 1, 0, 0, 0, 0, utc), time.Date(2026, 3, 10, 0, 0, 0, 0, utc))
			if err != nil {
				t.Fatal(err)
			}
			if len(evs) != len(want) {
				t.Errorf("%s (slid %d): %d events, want %d", horizon.name, i, len(evs), len(want))
			}
			for _, e := range evs {
				if rid, ok := want[e.Start.Unix()]; !ok || e.RecurrenceID != rid || e.Recurring != (rid != 0) {
					t.Errorf("%s (slid %d): event at %v: RecurrenceID %d (recurring %v), want %d", horizon.name, i, e.Start, e.RecurrenceID, e.Recurring, rid)
				}
			}
		}
	}
}

// An event's id is its item's id in upper-case hex, then, for an
// occurrence, its RECURRENCE-ID's Unix seconds in hex, appended after
// whatever the buffer holds.
func TestEventAppendID(t *testing.T) {
	it := &Item{id: itemID("uid-1@example.org", "", 0)}
	for _, rid := range []int64{0, 1, 15, 16, 1774342800, -1} {
		for _, recurring := range []bool{false, true} {
			e := Event{Item: it, RecurrenceID: rid, Recurring: recurring}
			want := fmt.Sprintf("prefix:%X", it.id[:])
			if recurring {
				want += fmt.Sprintf("%X", uint64(rid))
			}
			if got := string(e.AppendID([]byte("prefix:"))); got != want {
				t.Errorf("AppendID(rid %d, recurring %v) = %s, want %s", rid, recurring, got, want)
			}
		}
	}
	if got := (Event{Item: &Item{}, RecurrenceID: 255, Recurring: true}).ID(); got != "FF" {
		t.Errorf("an item made outside Parse: ID() = %q, want FF", got)
	}
}

// TestItemText checks that an item's subject and location come back as
// given, whichever is empty, and after keepItems shares their texts.
func TestItemText(t *testing.T) {
	cases := [][2]string{{"", ""}, {"Clinic", ""}, {"", "Ward 7"}, {"Ward round", "Ward 7"}, {"Ward", " round"}, {"Ward r", "ound"}}
	c := &Calendar{}
	for _, tc := range cases {
		it := Item{}.WithText(tc[0], tc[1])
		if it.Subject() != tc[0] || it.Location() != tc[1] {
			t.Errorf("WithText(%q, %q): subject %q, location %q", tc[0], tc[1], it.Subject(), it.Location())
		}
		c.items = append(c.items, *it)
	}
	t2 := &itemTable{}
	for i := range c.items {
		it := &c.items[i]
		it.subject, it.location = t2.texts.add(it.Subject()), t2.texts.add(it.Location())
	}
	c.keepItems(t2)
	for i, tc := range cases {
		if it := &c.items[i]; it.Subject() != tc[0] || it.Location() != tc[1] {
			t.Errorf("kept %q, %q: subject %q, location %q", tc[0], tc[1], it.Subject(), it.Location())
		}
	}
	if n := unsafe.Sizeof(Item{}); n != 40 {
		t.Errorf("an Item is %d bytes, want 40: a mailbox holds hundreds", n)
	}
}

// TestCheckSize refuses files together longer than an item's texts can
// address, without reading them.
func TestCheckSize(t *testing.T) {
	// Address space only, never touched: only its length is read. (A
	// slice longer than its allocation fails the race detector's pointer
	// checks.)
	big, err := syscall.Mmap(-1, 0, maxCalendarBytes/2+1, syscall.PROT_NONE, syscall.MAP_ANON|syscall.MAP_PRIVATE|syscall.MAP_NORESERVE)
	if err != nil {
		t.Fatal(err)
	}
	defer syscall.Munmap(big)
	if err := checkSize([]File{{Data: big}}); err != nil {
		t.Fatalf("half the bound: %v", err)
	}
	if err := checkSize([]File{{Data: big}, {Data: big}}); err == nil || !strings.Contains(err.Error(), "at most 4294967295") {
		t.Fatalf("over the bound: %v", err)
	}
}
