// Package build holds what connctl knows about its own build: version, commit,
// commit date and Go version. Release builds set Version, Commit and Date with
// -ldflags -X (see .goreleaser.yaml and the Makefile); other builds (go install,
// go build, go run) fall back to what the Go toolchain recorded in the binary.
// It uses only the standard library and never prints.
package build

import (
	"runtime"
	"runtime/debug"
	"strings"
	"sync"
)

// Version, Commit and Date are set at link time, for example
//
//	-X github.com/connctl/connctl/internal/build.Version=1.2.3
//
// Version has no leading "v"; Date is RFC 3339 in UTC. Read them through
// [Info], which fills in what the linker left empty.
var (
	Version = "dev"
	Commit  = ""
	Date    = ""
)

// Details describes a connctl binary. The JSON field names are part of the
// machine-readable output of `connctl version -o json`.
type Details struct {
	Version   string `json:"version"`
	Commit    string `json:"commit"`
	Date      string `json:"date"`
	GoVersion string `json:"go_version"`
}

// Info returns the build details: the linker-set values where present,
// otherwise the module version and VCS stamps from [debug.ReadBuildInfo]
// (a `go install ...@v1.2.3` build reports 1.2.3). Fields that nothing
// recorded stay empty, except Version, which is then "dev". It is worked
// out once: every request's User-Agent asks for it, and reading the build
// info parses the whole module list.
func Info() Details { return info() }

var info = sync.OnceValue(func() Details {
	bi, _ := debug.ReadBuildInfo() // nil when the binary has no build info
	return resolve(Version, Commit, Date, bi)
})

// resolve is Info with its inputs made explicit, for tests.
func resolve(version, commit, date string, bi *debug.BuildInfo) Details {
	d := Details{
		Version:   strings.TrimPrefix(version, "v"),
		Commit:    commit,
		Date:      date,
		GoVersion: runtime.Version(),
	}
	if bi == nil {
		if d.Version == "" {
			d.Version = "dev"
		}
		return d
	}
	if d.Version == "" || d.Version == "dev" {
		d.Version = "dev"
		// "(devel)" is what go build reports for the main module when it
		// has no version control information to go on.
		if v := bi.Main.Version; v != "" && v != "(devel)" {
			d.Version = strings.TrimPrefix(v, "v")
		}
	}
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			if d.Commit == "" {
				d.Commit = s.Value
			}
		case "vcs.time":
			if d.Date == "" {
				d.Date = s.Value
			}
		}
	}
	if bi.GoVersion != "" {
		d.GoVersion = bi.GoVersion
	}
	return d
}
