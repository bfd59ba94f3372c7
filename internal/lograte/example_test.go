package lograte_test

import (
	"context"
	"log/slog"
	"os"
	"time"

	"github.com/calfed/calfed/internal/lograte"
)

func Example() {
	now := time.Date(2026, 3, 24, 9, 0, 0, 0, time.UTC)
	text := slog.NewTextHandler(os.Stdout, &slog.HandlerOptions{ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
		if a.Key == slog.TimeKey {
			return slog.Attr{}
		}
		return a
	}})
	quiet := lograte.New(text, lograte.Options{Keys: []string{"cause"}, Now: func() time.Time { return now }})
	log := slog.New(quiet)
	for range 1235 {
		log.Warn("delegation token refused", "cause", "malformed", "remote", "192.0.2.1:4711")
	}
	now = now.Add(10 * time.Second)
	quiet.Flush(context.Background())
	// Output:
	// level=WARN msg="delegation token refused" cause=malformed remote=192.0.2.1:4711
	// level=WARN msg="delegation token refused … and 1,234 more in the last 10s" cause=malformed suppressed=1234 span=10s
}
