// Package buildinfo reports the build's version, the same way in every
// binary (worker -version, hookserver -version and its admin /readyz,
// starter version).
package buildinfo

import (
	"runtime/debug"
	"strings"
)

// Version is this build's version: the main module's version ("(devel)"
// without one) and, when the build recorded them and the version does not
// already say them, the VCS revision's first 12 characters and "+dirty" for
// a modified tree (runtime/debug.ReadBuildInfo). It is "unknown" without build information.
func Version() string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return "unknown"
	}
	return format(bi)
}

func format(bi *debug.BuildInfo) string {
	v := bi.Main.Version
	if v == "" {
		v = "(devel)"
	}
	var rev string
	dirty := false
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			dirty = s.Value == "true"
		}
	}
	// Since Go 1.24 a build from a checkout has a pseudo-version that
	// already holds the revision (and +dirty): not repeated then.
	if short := rev[:min(12, len(rev))]; short != "" && !strings.Contains(v, short) {
		v += " " + short
		if dirty {
			v += "+dirty"
		}
	}
	return v
}
