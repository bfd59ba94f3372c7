package cli

import (
	"fmt"
	"runtime/debug"
	"strings"
)

// Version describes the build from the information Go records in the
// binary: the module's version ("(devel)" when built from a checkout), the
// VCS revision and its time, whether the tree had uncommitted changes, and
// the Go version. ldflags, when the build sets it (-X main.version=…),
// comes first.
func Version(program, ldflags string) string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return fmt.Sprintf("%s %s (no build information)", program, orDev(ldflags))
	}
	return versionOf(program, ldflags, bi)
}

func versionOf(program, ldflags string, bi *debug.BuildInfo) string {
	v := bi.Main.Version
	if ldflags != "" && ldflags != "dev" {
		v = ldflags
	}
	if v == "" {
		v = "(devel)"
	}
	settings := map[string]string{}
	for _, s := range bi.Settings {
		settings[s.Key] = s.Value
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s", program, v)
	if bi.Main.Path != "" {
		fmt.Fprintf(&b, "\n  module:   %s", bi.Main.Path)
	}
	if rev := settings["vcs.revision"]; rev != "" {
		fmt.Fprintf(&b, "\n  revision: %s", rev)
		if settings["vcs.modified"] == "true" {
			b.WriteString(" (modified)")
		}
		if t := settings["vcs.time"]; t != "" {
			fmt.Fprintf(&b, "\n  time:     %s", t)
		}
	} else {
		b.WriteString("\n  revision: unknown (built without VCS information)")
	}
	fmt.Fprintf(&b, "\n  go:       %s", bi.GoVersion)
	if os, arch := settings["GOOS"], settings["GOARCH"]; os != "" {
		fmt.Fprintf(&b, " %s/%s", os, arch)
	}
	if cgo, ok := settings["CGO_ENABLED"]; ok {
		fmt.Fprintf(&b, ", CGO_ENABLED=%s", cgo)
	}
	return b.String()
}

func orDev(v string) string {
	if v == "" {
		return "dev"
	}
	return v
}
