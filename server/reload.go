package server

import (
	"context"
	"slices"
	"strings"
	"time"

	"github.com/calfed/calfed/config"
)

// Live are the settings Reload applies to the running server; every
// other change to the file applies at the next start.
var Live = []string{"log.level", "access_log.retention", "admin.pprof", "health.public"}

// Reload applies a configuration read again (on SIGHUP): it is validated
// as at start, and when valid the settings in Live take effect now, each
// logged with its new value; every other setting that changed is logged
// by name as waiting for a restart. The calendars are checked for
// changes at once. An invalid configuration changes nothing and is
// logged with its problems. It returns the settings applied and those
// left for a restart.
func (s *Server) Reload(ctx context.Context, next *config.Config) (applied, restart []string, err error) {
	if _, err := next.Build(); err != nil {
		s.log.Error("configuration not reloaded: it has problems; the running configuration stays in force",
			"file", next.File, "problems", strings.ReplaceAll(err.Error(), "\n", "; "))
		return nil, nil, err
	}
	for _, name := range config.Changed(s.Config, next) {
		if !slices.Contains(Live, name) {
			restart = append(restart, name)
			continue
		}
		applied = append(applied, name)
		switch name {
		case "log.level":
			l, _ := next.LogLevel() // Build checked it
			if s.level != nil {
				s.level.Set(l)
			}
			s.log.Info("reloaded: log.level", "value", l.String())
		case "access_log.retention":
			d := time.Duration(next.AccessLog.Retention)
			s.Access.SetRetention(d)
			s.log.Info("reloaded: access_log.retention", "value", d)
		case "admin.pprof":
			s.pprof.Store(next.Admin.Pprof)
			s.log.Info("reloaded: admin.pprof", "value", next.Admin.Pprof)
		case "health.public":
			s.publicHealth.Store(next.Health.Public)
			s.log.Info("reloaded: health.public", "value", next.Health.Public)
		}
		s.setLive(name, next)
	}
	if len(restart) > 0 {
		s.log.Warn("configuration changed where it applies only at the next start; restart calfed to apply it",
			"settings", strings.Join(restart, ", "))
	}
	s.log.Info("configuration reloaded", "file", next.File, "applied", len(applied), "waiting_for_restart", len(restart))
	if s.demo == nil {
		s.Directory.Reload(ctx)
	}
	return applied, restart, nil
}

// setLive copies a live setting into the running configuration, so that
// the next reload compares against what is in force.
func (s *Server) setLive(name string, next *config.Config) {
	switch name {
	case "log.level":
		s.Config.Log.Level = next.Log.Level
	case "access_log.retention":
		s.Config.AccessLog.Retention = next.AccessLog.Retention
	case "admin.pprof":
		s.Config.Admin.Pprof = next.Admin.Pprof
	case "health.public":
		s.Config.Health.Public = next.Health.Public
	}
}
