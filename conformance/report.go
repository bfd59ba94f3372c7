package conformance

import (
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"
	"time"
)

// Summary counts the outcomes.
type Summary struct {
	Cases  int `json:"cases"`
	Equal  int `json:"equal"`
	Differ int `json:"differ"`
	Errors int `json:"errors"`
}

// Summarize counts results by outcome.
func Summarize(results []Result) Summary {
	s := Summary{Cases: len(results)}
	for _, r := range results {
		switch r.Outcome {
		case Equal:
			s.Equal++
		case Differ:
			s.Differ++
		default:
			s.Errors++
		}
	}
	return s
}

// WriteTable writes one line per case and, under each case that differs,
// its differences.
func WriteTable(w io.Writer, results []Result) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "CASE\tOUTCOME\tTIME\tSOURCE")
	for _, r := range results {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", r.Case, r.Outcome, r.Duration.Round(time.Millisecond), r.Source)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	for _, r := range results {
		if r.Outcome == Equal {
			continue
		}
		fmt.Fprintf(w, "\n%s (%s):\n", r.Case, r.Source)
		if r.Error != "" {
			fmt.Fprintf(w, "  error: %s\n", r.Error)
		}
		for _, d := range r.Differences {
			fmt.Fprintf(w, "  %s\n", d)
		}
	}
	s := Summarize(results)
	_, err := fmt.Fprintf(w, "\n%d cases: %d equal, %d differ, %d errors\n", s.Cases, s.Equal, s.Differ, s.Errors)
	return err
}

// WriteJSON writes the summary and every result.
func WriteJSON(w io.Writer, results []Result) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(struct {
		Summary Summary  `json:"summary"`
		Results []Result `json:"results"`
	}{Summarize(results), results})
}

// WriteJUnitFile writes the results' JUnit XML report (WriteJUnit) into
// the file path.
func WriteJUnitFile(path, suite string, results []Result) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	err = WriteJUnit(f, suite, results)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// WriteJUnit writes the results as a JUnit XML report: a difference is a
// failure, a case that could not run an error.
func WriteJUnit(w io.Writer, suite string, results []Result) error {
	type failure struct {
		Message string `xml:"message,attr"`
		Text    string `xml:",chardata"`
	}
	type testcase struct {
		Name      string   `xml:"name,attr"`
		Classname string   `xml:"classname,attr"`
		Time      float64  `xml:"time,attr"`
		Failure   *failure `xml:"failure,omitempty"`
		Error     *failure `xml:"error,omitempty"`
	}
	type testsuite struct {
		XMLName  xml.Name   `xml:"testsuite"`
		Name     string     `xml:"name,attr"`
		Tests    int        `xml:"tests,attr"`
		Failures int        `xml:"failures,attr"`
		Errors   int        `xml:"errors,attr"`
		Cases    []testcase `xml:"testcase"`
	}
	s := Summarize(results)
	ts := testsuite{Name: suite, Tests: s.Cases, Failures: s.Differ, Errors: s.Errors}
	for _, r := range results {
		tc := testcase{Name: r.Case, Classname: suite, Time: r.Duration.Seconds()}
		switch r.Outcome {
		case Differ:
			var lines []string
			for _, d := range r.Differences {
				lines = append(lines, d.String())
			}
			tc.Failure = &failure{Message: fmt.Sprintf("%d differences (%s)", len(r.Differences), r.Source), Text: strings.Join(lines, "\n")}
		case Failed:
			tc.Error = &failure{Message: r.Error, Text: r.Source}
		}
		ts.Cases = append(ts.Cases, tc)
	}
	if _, err := io.WriteString(w, xml.Header); err != nil {
		return err
	}
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	if err := enc.Encode(ts); err != nil {
		return err
	}
	_, err := io.WriteString(w, "\n")
	return err
}
