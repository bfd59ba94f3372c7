package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/calfed/calfed/caldav"
	"github.com/calfed/calfed/calendar"
	"github.com/calfed/calfed/internal/cli"
)

// runCalendarCheck exits 0 when the calendar is served as written, 2
// when something was repaired or skipped or it cannot be read at all, 1
// when it could not be checked (no such mailbox, no configuration). A
// CalDAV mailbox is synced from its server first, and its server, sync
// and calendars are shown.
func runCalendarCheck(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fl := newFlags("calendar check")
	var configPath string
	configFlag(fl, &configPath, "configuration naming the mailbox, when ADDRESS is given")
	output := fl.String("o", "table", "table or json")
	pos, err := parseArgs(fl, args, "FILE|DIR|ADDRESS")
	if err != nil {
		return report(stdout, stderr, "calendar check", err)
	}
	src, opt := calendar.Source(calendar.FileSource{Path: pos[0]}), calendar.Options{}
	if _, statErr := os.Stat(pos[0]); statErr != nil && strings.Contains(pos[0], "@") {
		cfg, err := loadConfig(configPath)
		if err != nil {
			return report(stdout, stderr, "calendar check", err)
		}
		b, err := cfg.Build()
		if err != nil {
			return report(stdout, stderr, "calendar check", err)
		}
		var ok bool
		if src, opt, ok = b.Calendar(pos[0]); !ok {
			return report(stdout, stderr, "calendar check", fmt.Errorf("%s: no such mailbox in %s", pos[0], cfg.File))
		}
	}
	if cs, ok := src.(*caldav.Source); ok {
		r := caldav.Check(ctx, cs, opt)
		cli.Show(stdout, *output, r, r.WriteText)
		return checkExit(r.Report)
	}
	r := calendar.Check(ctx, src, opt)
	cli.Show(stdout, *output, r, r.WriteText)
	return checkExit(r)
}

// checkExit is calendar check's exit code for a report: 2 when the check
// found anything (cli.ExitRule).
func checkExit(r calendar.Report) int {
	if r.Err != "" || len(r.Problems) > 0 {
		return exitFailed
	}
	return exitOK
}
