package caldav

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/calfed/calfed/calendar"
)

// Report is what calfed calendar check finds for a CalDAV mailbox: the
// calendar as calendar.Check reads it, and how its sync went.
type Report struct {
	calendar.Report
	Sync Status `json:"sync"`
}

// Check syncs src from its server now and checks what it got as the
// directory would read it; a failed sync is the report's Err.
func Check(ctx context.Context, src *Source, opt calendar.Options) Report {
	err := src.Sync(ctx)
	r := Report{Report: calendar.Check(ctx, src, opt), Sync: src.Status()}
	if err != nil {
		r.Err = err.Error()
	}
	return r
}

// WriteText writes the report for people: the server, the last sync and
// each calendar, then the problems and the verdict.
func (r Report) WriteText(w io.Writer) {
	fmt.Fprintf(w, "server: %s\n", r.Sync.Server)
	if !r.Sync.LastSync.IsZero() {
		fmt.Fprintf(w, "last sync: %s\n", r.Sync.LastSync.UTC().Format(time.RFC3339))
	}
	for _, c := range r.Sync.Calendars {
		name := c.Name
		if name == "" {
			name = "-"
		}
		if c.Skipped != "" {
			fmt.Fprintf(w, "calendar %s (%s): not counted: %s\n", c.URL, name, c.Skipped)
			continue
		}
		fmt.Fprintf(w, "calendar %s (%s): %d objects, changes found by %s\n", c.URL, name, c.Objects, c.Sync)
	}
	for _, p := range r.Problems {
		fmt.Fprintln(w, p)
	}
	if r.Err != "" {
		fmt.Fprintf(w, "%s: cannot be read: %s\n", r.Source, r.Err)
	} else {
		fmt.Fprintf(w, "%s: %d instances served, %d problems\n", r.Source, r.Instances, len(r.Problems))
	}
}
