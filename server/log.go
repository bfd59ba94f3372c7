package server

import (
	"context"
	"io"
	stdlog "log"
	"log/slog"
	"strings"
	"time"

	"github.com/calfed/calfed/config"
	"github.com/calfed/calfed/internal/lograte"
)

// Quiet bounds what outsiders can make the servers log at WARN and above
// — refused tokens, refused sign-ins, failed TLS handshakes, unreadable
// requests: per kind (message and cause) one line every 10s, then how
// many more there were. now is the clock (nil: time.Now); the caller runs
// the handler's Run.
func Quiet(log *slog.Logger, now func() time.Time) *lograte.Handler {
	return lograte.New(log.Handler(), lograte.Options{Keys: []string{"cause"}, Now: now})
}

// serverErrorLog is an http.Server's ErrorLog writing to h: each line a
// WARN record, a failed TLS handshake as "TLS handshake failed" with its
// remote address and reason apart, so that they are one kind, not one per
// client address.
func serverErrorLog(h slog.Handler) *stdlog.Logger {
	return stdlog.New(serverLogWriter{h}, "", 0)
}

type serverLogWriter struct{ h slog.Handler }

func (w serverLogWriter) Write(p []byte) (int, error) {
	ctx := context.Background()
	if !w.h.Enabled(ctx, slog.LevelWarn) {
		return len(p), nil
	}
	line := strings.TrimSpace(string(p))
	var r slog.Record
	if rest, ok := strings.CutPrefix(line, "http: TLS handshake error from "); ok {
		remote, reason, _ := strings.Cut(rest, ": ")
		r = slog.NewRecord(time.Now(), slog.LevelWarn, "TLS handshake failed", 0)
		r.AddAttrs(slog.String("remote", remote), slog.String("reason", reason))
	} else {
		r = slog.NewRecord(time.Now(), slog.LevelWarn, "HTTP server", 0)
		r.AddAttrs(slog.String("err", line))
	}
	return len(p), w.h.Handle(ctx, r)
}

// NewLogger is the server's logger as the configuration has it
// (log.format, log.level), writing to w; level is set to log.level and a
// reload may change it.
func NewLogger(cfg *config.Config, w io.Writer, level *slog.LevelVar) (*slog.Logger, error) {
	l, err := cfg.LogLevel()
	if err != nil {
		return nil, err
	}
	level.Set(l)
	h, err := cfg.NewLogHandler(w, level)
	if err != nil {
		return nil, err
	}
	return slog.New(h), nil
}
