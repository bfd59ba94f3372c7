package doctor

import (
	"fmt"
	"io"
	"strings"
)

// Status is a step's outcome.
type Status string

const (
	Pass Status = "pass"
	Fail Status = "fail"
	// Skip: the step could not run, because a step it needs failed or
	// what it needs was not given; the detail says which.
	Skip Status = "skip"
)

// Result is one step of a check.
type Result struct {
	Step   string `json:"step"`
	Status Status `json:"status"`
	// Detail is what the step found (on a pass), or why it was skipped.
	Detail string `json:"detail,omitempty"`
	// Error is the exact error of a failed step, and Fix what to do
	// about it.
	Error string `json:"error,omitempty"`
	Fix   string `json:"fix,omitempty"`
}

// Report is a whole check: what was checked and each step in order.
type Report struct {
	Subject string   `json:"subject"`
	Passed  bool     `json:"passed"` // no step failed
	Steps   []Result `json:"steps"`
}

// Step returns the result of the step named name, and whether there is
// one.
func (r *Report) Step(name string) (Result, bool) {
	for _, s := range r.Steps {
		if s.Step == name {
			return s, true
		}
	}
	return Result{}, false
}

// Failed returns the steps that failed.
func (r *Report) Failed() []Result {
	var out []Result
	for _, s := range r.Steps {
		if s.Status == Fail {
			out = append(out, s)
		}
	}
	return out
}

// WriteTable writes the report as rows of tab-separated columns (status,
// step, what it found or the error), a failed step followed by a row
// with its fix, and a last line summing it up.
func (r *Report) WriteTable(w io.Writer) {
	fmt.Fprintln(w, "RESULT\tSTEP\tDETAIL")
	for _, s := range r.Steps {
		text := s.Detail
		if s.Status == Fail {
			text = s.Error
		}
		fmt.Fprintf(w, "%s\t%s\t%s\n", strings.ToUpper(string(s.Status)), s.Step, oneLine(text))
		if s.Status == Fail && s.Fix != "" {
			fmt.Fprintf(w, "\t\tfix: %s\n", oneLine(s.Fix))
		}
	}
	if n := len(r.Failed()); n > 0 {
		fmt.Fprintf(w, "%s: %d of %d steps failed\n", r.Subject, n, len(r.Steps))
	} else {
		fmt.Fprintf(w, "%s: every step passed\n", r.Subject)
	}
}

// oneLine keeps a table row on one line.
func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

// steps collects a report's results as the checks run.
type steps struct{ r *Report }

func newSteps(subject string) *steps { return &steps{&Report{Subject: subject, Passed: true}} }

func (s *steps) pass(step, detail string) { s.add(Result{Step: step, Status: Pass, Detail: detail}) }

func (s *steps) skip(step, why string) { s.add(Result{Step: step, Status: Skip, Detail: why}) }

// fail records a failed step with its error and fix.
func (s *steps) fail(step string, err error, fix string) {
	s.add(Result{Step: step, Status: Fail, Error: err.Error(), Fix: fix})
}

func (s *steps) add(r Result) {
	if r.Status == Fail {
		s.r.Passed = false
	}
	s.r.Steps = append(s.r.Steps, r)
}

// failed reports whether step ran and failed or was skipped: the steps
// that need it cannot run.
func (s *steps) failed(step string) bool {
	r, ok := s.r.Step(step)
	return !ok || r.Status != Pass
}
