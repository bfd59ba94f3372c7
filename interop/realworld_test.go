package interop

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/calfed/calfed/calendar"
	"github.com/calfed/calfed/internal/testenv"
)

// The real-world corpus: calendars exported by Google, Outlook and
// Exchange, Apple, Lotus Notes, Confluence, SabreDAV and Nextcloud,
// Thunderbird, Plone and others, as published in the test suites of
// iCalendar libraries. calendar/testdata/realworld/SOURCES.md lists every
// file with where it came from, its licence and its SHA-256;
// DIFFERENCES.md lists every file where calfed and the reference
// expansion disagree, and why.
const (
	realworldDocs = "../calendar/testdata/realworld"
	// realworldEnv names a directory holding the corpus files when they
	// are not in realworldDocs itself.
	realworldEnv = "CALFED_REALWORLD_CORPUS"
)

// The kinds of difference DIFFERENCES.md may list.
const (
	diffCalfedRejects    = "calfed rejects"     // calendar.Parse fails, the reference reads the file
	diffReferenceRejects = "reference rejects"  // calfed reads the file, the reference does not
	diffBothReject       = "both reject"        // neither reads it
	diffQueryError       = "calfed query error" // calfed reads it but fails to answer a window
	diffInstances        = "instances differ"   // both read it; some window's busy instances differ
)

// realworldHorizon is calfed's pre-expanded horizon in the test: windows
// inside it are answered from stored instances, others by expanding on
// demand, so both paths meet the reference.
var realworldHorizon = [2]time.Time{
	time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC),
	time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC),
}

// fixedWindows are asked of every file: DST changes in Europe and North
// America (before and after the 2007 US change), leap days, year ends,
// month-long spans, and spans inside and across the horizon.
var fixedWindows = [][2]string{
	{"1999-12-27", "2000-01-10"},
	{"2003-03-24", "2003-04-07"},
	{"2005-10-24", "2005-11-07"},
	{"2008-03-01", "2008-04-01"},
	{"2010-06-01", "2010-07-01"},
	{"2012-02-27", "2012-03-05"},
	{"2015-10-19", "2015-11-09"},
	{"2019-01-01", "2019-02-01"},
	{"2020-02-24", "2020-03-09"},
	{"2021-03-08", "2021-03-29"},
	{"2022-12-19", "2023-01-09"},
	{"2024-02-26", "2024-03-04"},
	{"2025-03-24", "2025-04-07"},
	{"2025-12-22", "2026-01-12"}, // across the start of the horizon
	{"2026-01-01", "2026-02-01"}, // inside the horizon
	{"2026-03-23", "2026-03-30"},
	{"2026-10-19", "2026-11-09"},
	{"2027-06-01", "2027-07-01"},
}

// maxStartWindows bounds the windows taken around the files' own start
// dates (evenly spread over them); windowsPerFile is what a file gets in
// all when it has enough start dates or its first start is known.
const (
	maxStartWindows = 22
	windowsPerFile  = 40
)

// followDays are the distances, in days after a file's first start, of the
// windows that fill a file up to windowsPerFile: the next days and weeks,
// month and year ends, leap years, a decade on.
var followDays = []int{1, 2, 5, 6, 7, 13, 14, 20, 27, 28, 29, 30, 31, 59, 60, 90, 91, 181, 182, 364, 365, 366, 729, 1095, 1460, 1826, 3652}

// busyInstance is one instance a window shows as not free.
type busyInstance struct {
	Start, End int64
	Busy       string
}

func (b busyInstance) String() string {
	return fmt.Sprintf("%s–%s %s", time.Unix(b.Start, 0).UTC().Format("2006-01-02T15:04Z"),
		time.Unix(b.End, 0).UTC().Format("2006-01-02T15:04Z"), b.Busy)
}

// UnmarshalJSON reads the reference's [start, end, busy] triple.
func (b *busyInstance) UnmarshalJSON(data []byte) error {
	var v [3]json.RawMessage
	if err := json.Unmarshal(data, &v); err != nil {
		return err
	}
	if err := json.Unmarshal(v[0], &b.Start); err != nil {
		return err
	}
	if err := json.Unmarshal(v[1], &b.End); err != nil {
		return err
	}
	return json.Unmarshal(v[2], &b.Busy)
}

type referenceRequest struct {
	Files []referenceFile `json:"files"`
}

type referenceFile struct {
	Path    string     `json:"path"`
	Windows [][2]int64 `json:"windows"`
}

type referenceResult struct {
	Error   *string          `json:"error"`
	Windows [][]busyInstance `json:"windows"`
}

// corpusFile is one file of the corpus and what each side made of it.
type corpusFile struct {
	name    string
	path    string
	windows [][2]int64

	calfedErr string // calendar.Parse's error, or the first window's query error
	queryErr  bool   // calfedErr is a query error
	refErr    string

	kind   string // "" when both sides agree
	detail string // the error for a rejection; "N of M windows" for instances differ
	first  string // the first differing window, for an unlisted difference
}

// knownDifference is one row of DIFFERENCES.md.
type knownDifference struct {
	file, kind, detail, verdict string
	line                        int
}

func TestRealWorldCorpus(t *testing.T) {
	dir := realworldDir(t)
	sources := readSources(t, filepath.Join(realworldDocs, "SOURCES.md"))
	files := corpusFiles(t, dir, sources)
	known := readDifferences(t, filepath.Join(realworldDocs, "DIFFERENCES.md"))

	if out, err := exec.Command(debianPy, "-c", "import icalendar, recurring_ical_events").CombinedOutput(); err != nil {
		testenv.Missing(t, testenv.RecurringICalEvents, fmt.Sprintf("not importable by %s: %v: %s", debianPy, err, bytes.TrimSpace(out)),
			"apt-get install python3-recurring-ical-events python3-icalendar, or run ./test.sh, which installs them")
	}
	results := runReference(t, files)

	windows, loadedCalfed, loadedRef, exact := 0, 0, 0, 0
	for i, f := range files {
		windows += compareFile(f, results[i])
		if f.calfedErr == "" || f.queryErr {
			loadedCalfed++
		}
		if f.refErr == "" {
			loadedRef++
		}
		if f.kind == "" {
			exact++
		}
	}

	listed := 0
	for _, f := range files {
		k, ok := known[f.name]
		delete(known, f.name)
		switch {
		case f.kind == "" && ok:
			t.Errorf("DIFFERENCES.md:%d: %s now matches the reference; remove its entry (%s: %s)", k.line, f.name, k.kind, k.verdict)
		case f.kind == "":
		case !ok:
			t.Errorf("%s: unlisted difference: %s: %s%s\n  add to DIFFERENCES.md, once the cause is known:\n  | %s | %s | %s | calfed bug: … |",
				f.name, f.kind, f.detail, f.first, f.name, f.kind, f.detail)
		case k.kind != f.kind || !k.matches(f):
			t.Errorf("DIFFERENCES.md:%d: %s is listed as %s (%s) but now %s: %s%s; the entry is stale",
				k.line, f.name, k.kind, k.detail, f.kind, f.detail, f.first)
		default:
			listed++
			t.Logf("listed: %s: %s (%s): %s", f.name, f.kind, f.detail, k.verdict)
		}
	}
	for name, k := range known {
		t.Errorf("DIFFERENCES.md:%d: %s is not in the corpus", k.line, name)
	}
	t.Logf("real-world corpus: %d files, %d loaded by calfed (%.1f%%), %d loaded by the reference, %d exact matches, %d listed differences, %d windows compared",
		len(files), loadedCalfed, 100*float64(loadedCalfed)/float64(len(files)), loadedRef, exact, listed, windows)
}

// matches reports whether the observed difference is still the one the
// entry explains: the same rejection, or as many differing windows.
func (k knownDifference) matches(f *corpusFile) bool {
	if f.kind == diffInstances {
		return k.detail == f.detail
	}
	return strings.Contains(f.detail, k.detail)
}

func realworldDir(t *testing.T) string {
	t.Helper()
	dir := realworldDocs
	if env := os.Getenv(realworldEnv); env != "" {
		dir = env
	}
	names, _ := filepath.Glob(filepath.Join(dir, "*.ics"))
	if len(names) == 0 {
		testenv.Missing(t, testenv.RealWorldCorpus, fmt.Sprintf("no .ics files in %s", dir),
			"put the files calendar/testdata/realworld/SOURCES.md lists there, or set "+realworldEnv+" to the directory holding them")
	}
	return dir
}

// readSources returns SOURCES.md's file names with their SHA-256.
func readSources(t *testing.T, path string) map[string]string {
	t.Helper()
	rows := markdownRows(t, path, "file")
	sums := map[string]string{}
	for _, r := range rows {
		if len(r.cells) != 7 {
			t.Fatalf("%s:%d: want 7 columns (file, repository, path, commit, licence, producer, sha256), got %d", path, r.line, len(r.cells))
		}
		name, sum := strings.Trim(r.cells[0], "`"), strings.Trim(r.cells[6], "`")
		if _, dup := sums[name]; dup {
			t.Fatalf("%s:%d: %s is listed twice", path, r.line, name)
		}
		if r.cells[4] == "" {
			t.Fatalf("%s:%d: %s has no licence", path, r.line, name)
		}
		sums[name] = sum
	}
	return sums
}

// corpusFiles reads the corpus directory, checking it holds exactly the
// files SOURCES.md lists, byte for byte, and gives each file its windows.
func corpusFiles(t *testing.T, dir string, sums map[string]string) []*corpusFile {
	t.Helper()
	names, err := filepath.Glob(filepath.Join(dir, "*.ics"))
	if err != nil {
		t.Fatal(err)
	}
	var files []*corpusFile
	for _, p := range names {
		name := filepath.Base(p)
		want, ok := sums[name]
		if !ok {
			t.Errorf("%s is not listed in SOURCES.md", p)
			continue
		}
		delete(sums, name)
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		if sum := sha256.Sum256(data); hex.EncodeToString(sum[:]) != want {
			t.Errorf("%s: SHA-256 %x, SOURCES.md says %s: the corpus keeps files as published", p, sum, want)
			continue
		}
		abs, err := filepath.Abs(p)
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, &corpusFile{name: name, path: abs, windows: fileWindows(data)})
	}
	for name := range sums {
		t.Errorf("%s is listed in SOURCES.md but missing from %s", name, dir)
	}
	if t.Failed() {
		t.FailNow()
	}
	return files
}

var startValue = regexp.MustCompile(`(?i)^(?:DTSTART|RECURRENCE-ID)(?:;.*)?[:,](\d{8})(?:T\d{6}Z?)?\s*$`)

// fileWindows returns the fixed windows; around up to maxStartWindows of
// the events' own start dates, the day before to the day after; and, up to
// windowsPerFile, three days at each of followDays after the first start.
func fileWindows(data []byte) [][2]int64 {
	var out [][2]int64
	for _, w := range fixedWindows {
		from, _ := time.Parse(time.DateOnly, w[0])
		to, _ := time.Parse(time.DateOnly, w[1])
		out = append(out, [2]int64{from.Unix(), to.Unix()})
	}
	days := map[string]bool{}
	depth := 0
	for _, line := range unfold(data) {
		upper := strings.ToUpper(strings.TrimSpace(line))
		switch {
		case upper == "BEGIN:VEVENT":
			depth++
		case upper == "END:VEVENT":
			depth--
		case depth == 1:
			if m := startValue.FindStringSubmatch(line); m != nil {
				days[m[1]] = true
			}
		}
	}
	sorted := make([]string, 0, len(days))
	for d := range days {
		sorted = append(sorted, d)
	}
	sort.Strings(sorted)
	var first time.Time
	n := min(len(sorted), maxStartWindows)
	for i := range n {
		d, err := time.Parse("20060102", sorted[i*len(sorted)/n])
		if err != nil || d.Year() < 1800 || d.Year() >= 2200 {
			continue // a VTIMEZONE-style epoch or a typo, not a date anyone meets on
		}
		if first.IsZero() {
			first = d
		}
		out = append(out, [2]int64{d.AddDate(0, 0, -1).Unix(), d.AddDate(0, 0, 2).Unix()})
	}
	// A file with few events gets windows at growing distances after its
	// first start instead, where its series recur.
	for _, days := range followDays {
		if first.IsZero() || len(out) >= windowsPerFile {
			break
		}
		d := first.AddDate(0, 0, days)
		out = append(out, [2]int64{d.Unix(), d.AddDate(0, 0, 3).Unix()})
	}
	return out
}

// unfold returns the content lines of data (RFC 5545 §3.1), for finding
// start dates only.
func unfold(data []byte) []string {
	var lines []string
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(nil, len(data)+1)
	for sc.Scan() {
		line := strings.TrimRight(sc.Text(), "\r")
		if len(lines) > 0 && (strings.HasPrefix(line, " ") || strings.HasPrefix(line, "\t")) {
			lines[len(lines)-1] += line[1:]
			continue
		}
		lines = append(lines, line)
	}
	return lines
}

// runReference asks python/expand_reference.py about every file at once.
func runReference(t *testing.T, files []*corpusFile) []referenceResult {
	t.Helper()
	var req referenceRequest
	for _, f := range files {
		req.Files = append(req.Files, referenceFile{Path: f.path, Windows: f.windows})
	}
	body, err := json.Marshal(req)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(debianPy, "python/expand_reference.py")
	cmd.Stdin = bytes.NewReader(body)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("expand_reference.py: %v\n%s", err, stderr.String())
	}
	var resp struct {
		Results []referenceResult `json:"results"`
	}
	if err := json.Unmarshal(out, &resp); err != nil {
		t.Fatalf("expand_reference.py: %v", err)
	}
	if len(resp.Results) != len(files) {
		t.Fatalf("expand_reference.py answered %d files, asked %d", len(resp.Results), len(files))
	}
	for i, r := range resp.Results {
		if r.Error == nil && len(r.Windows) != len(files[i].windows) {
			t.Fatalf("expand_reference.py answered %d windows of %s, asked %d", len(r.Windows), files[i].name, len(files[i].windows))
		}
	}
	return resp.Results
}

// compareFile reads f with calfed and sets what differs from the
// reference. It returns the number of windows compared.
func compareFile(f *corpusFile, ref referenceResult) int {
	data, err := os.ReadFile(f.path)
	if err != nil {
		f.calfedErr = err.Error()
	}
	var cal *calendar.Calendar
	if err == nil {
		cal, err = calendar.Parse([]calendar.File{{Name: f.name, Data: data}}, calendar.Options{
			Location:    time.UTC,
			HorizonFrom: realworldHorizon[0],
			HorizonTo:   realworldHorizon[1],
		})
		if err != nil {
			f.calfedErr = err.Error()
		}
	}
	if ref.Error != nil {
		f.refErr = *ref.Error
	}
	switch {
	case f.calfedErr != "" && f.refErr != "":
		f.kind, f.detail = diffBothReject, f.calfedErr
		f.first = "\n  the reference: " + f.refErr
		return 0
	case f.calfedErr != "":
		f.kind, f.detail = diffCalfedRejects, f.calfedErr
		return 0
	case f.refErr != "":
		f.kind, f.detail = diffReferenceRejects, f.refErr
		return 0
	}
	differing := 0
	for i, w := range f.windows {
		events, err := cal.Events(time.Unix(w[0], 0), time.Unix(w[1], 0))
		if err != nil {
			f.calfedErr, f.queryErr = err.Error(), true
			f.kind, f.detail = diffQueryError, err.Error()
			return i
		}
		got := map[busyInstance]bool{}
		for _, e := range events {
			if e.Item.Busy != calendar.Free {
				got[busyInstance{e.Start.Unix(), e.End.Unix(), e.Item.Busy.String()}] = true
			}
		}
		want := map[busyInstance]bool{}
		for _, b := range ref.Windows[i] {
			want[b] = true
		}
		onlyCalfed, onlyRef := setMinus(got, want), setMinus(want, got)
		if len(onlyCalfed) == 0 && len(onlyRef) == 0 {
			continue
		}
		differing++
		if f.first == "" {
			f.first = fmt.Sprintf("\n  first in window %s–%s: only calfed %v; only the reference %v",
				time.Unix(w[0], 0).UTC().Format(time.DateOnly), time.Unix(w[1], 0).UTC().Format(time.DateOnly),
				head(onlyCalfed, 4), head(onlyRef, 4))
		}
	}
	if differing > 0 {
		f.kind, f.detail = diffInstances, fmt.Sprintf("%d of %d windows", differing, len(f.windows))
	}
	return len(f.windows)
}

func setMinus(a, b map[busyInstance]bool) []busyInstance {
	var out []busyInstance
	for x := range a {
		if !b[x] {
			out = append(out, x)
		}
	}
	slices.SortFunc(out, func(x, y busyInstance) int {
		if x.Start != y.Start {
			return int(x.Start - y.Start)
		}
		return int(x.End - y.End)
	})
	return out
}

func head(s []busyInstance, n int) []busyInstance {
	if len(s) > n {
		return s[:n]
	}
	return s
}

// readDifferences reads DIFFERENCES.md's table: one row per file, its kind
// of difference, the detail that identifies it (a piece of the error for a
// rejection, "N of M windows" for instances), and the verdict, which is
// "calfed bug: …" or cites the RFC section that makes the file or the
// reference the one that is wrong.
func readDifferences(t *testing.T, path string) map[string]knownDifference {
	t.Helper()
	verdict := regexp.MustCompile(`^(calfed bug: .+|(reference wrong|invalid file): RFC \d+ §\d+(\.\d+)* .+)$`)
	kinds := []string{diffCalfedRejects, diffReferenceRejects, diffBothReject, diffQueryError, diffInstances}
	known := map[string]knownDifference{}
	for _, r := range markdownRows(t, path, "file") {
		if len(r.cells) != 4 {
			t.Fatalf("%s:%d: want 4 columns (file, difference, detail, verdict), got %d", path, r.line, len(r.cells))
		}
		k := knownDifference{file: strings.Trim(r.cells[0], "`"), kind: r.cells[1], detail: strings.Trim(r.cells[2], "`"), verdict: r.cells[3], line: r.line}
		switch {
		case !slices.Contains(kinds, k.kind):
			t.Fatalf("%s:%d: difference %q is none of %q", path, r.line, k.kind, kinds)
		case k.detail == "":
			t.Fatalf("%s:%d: %s has no detail", path, r.line, k.file)
		case !verdict.MatchString(k.verdict):
			t.Fatalf("%s:%d: verdict %q must be \"calfed bug: …\", \"reference wrong: RFC n §x.y …\" or \"invalid file: RFC n §x.y …\"", path, r.line, k.verdict)
		}
		if _, dup := known[k.file]; dup {
			t.Fatalf("%s:%d: %s is listed twice", path, r.line, k.file)
		}
		known[k.file] = k
	}
	return known
}

type markdownRow struct {
	cells []string
	line  int
}

// markdownRows returns the body rows of the Markdown table in path whose
// first header cell is first.
func markdownRows(t *testing.T, path, first string) []markdownRow {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var rows []markdownRow
	inTable := false
	for i, line := range strings.Split(string(data), "\n") {
		line = strings.TrimSpace(line)
		if !strings.HasPrefix(line, "|") {
			inTable = false
			continue
		}
		var cells []string
		for _, c := range strings.Split(strings.Trim(line, "|"), "|") {
			cells = append(cells, strings.TrimSpace(c))
		}
		switch {
		case !inTable && cells[0] == first:
			inTable = true
		case inTable && strings.HasPrefix(cells[0], "---"):
		case inTable:
			rows = append(rows, markdownRow{cells: cells, line: i + 1})
		}
	}
	return rows
}

func TestFileWindows(t *testing.T) {
	data := []byte("BEGIN:VCALENDAR\r\nBEGIN:VTIMEZONE\r\nTZID:X\r\nBEGIN:STANDARD\r\nDTSTART:19701025T030000\r\nEND:STANDARD\r\nEND:VTIMEZONE\r\n" +
		"BEGIN:VEVENT\r\nDTSTART;TZID=X:2024010\r\n 5T090000\r\nEND:VEVENT\r\n" +
		"BEGIN:VEVENT\r\nDTSTART;VALUE=DATE:20240301\r\nRECURRENCE-ID:20240302T000000Z\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n")
	day := func(s string) int64 {
		d, err := time.Parse(time.DateOnly, s)
		if err != nil {
			t.Fatal(err)
		}
		return d.Unix()
	}
	got := fileWindows(data)
	starts := got[len(fixedWindows) : len(fixedWindows)+3]
	want := [][2]int64{{day("2024-01-04"), day("2024-01-07")}, {day("2024-02-29"), day("2024-03-03")}, {day("2024-03-01"), day("2024-03-04")}}
	if !slices.Equal(starts, want) {
		t.Errorf("fileWindows() around start dates = %v, want %v (folded DTSTART read, RECURRENCE-ID taken, VTIMEZONE's 1970 left out)", starts, want)
	}
	if next := got[len(fixedWindows)+3]; next != [2]int64{day("2024-01-06"), day("2024-01-09")} {
		t.Errorf("fileWindows() first window after the start dates = %v, want the day after the first start", next)
	}
	if len(got) != windowsPerFile {
		t.Errorf("fileWindows() = %d windows, want %d", len(got), windowsPerFile)
	}
}

func TestDifferenceMatches(t *testing.T) {
	tests := []struct {
		known, observed string
		kind            string
		want            bool
	}{
		{"3 of 40 windows", "3 of 40 windows", diffInstances, true},
		{"3 of 40 windows", "2 of 40 windows", diffInstances, false},
		{"RDATE: PERIOD values", "calendar: a.ics:3: VEVENT UID=x: RDATE: PERIOD values are not supported", diffCalfedRejects, true},
		{"RDATE: PERIOD values", "calendar: a.ics:3: DTSTART is missing", diffCalfedRejects, false},
	}
	for _, tt := range tests {
		k := knownDifference{kind: tt.kind, detail: tt.known}
		if got := k.matches(&corpusFile{kind: tt.kind, detail: tt.observed}); got != tt.want {
			t.Errorf("knownDifference{%q}.matches(%q) = %v, want %v", tt.known, tt.observed, got, tt.want)
		}
	}
}
