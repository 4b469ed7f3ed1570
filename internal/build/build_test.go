package build

import (
	"encoding/json"
	"runtime"
	"runtime/debug"
	"testing"
)

func TestResolve(t *testing.T) {
	t.Parallel()
	stamped := &debug.BuildInfo{
		GoVersion: "go1.26.8",
		Main:      debug.Module{Path: "github.com/connctl/connctl", Version: "v1.4.0"},
		Settings: []debug.BuildSetting{
			{Key: "-trimpath", Value: "true"},
			{Key: "vcs", Value: "git"},
			{Key: "vcs.revision", Value: "0123456789abcdef0123456789abcdef01234567"},
			{Key: "vcs.time", Value: "2026-03-01T10:00:00Z"},
			{Key: "vcs.modified", Value: "false"},
		},
	}
	devel := &debug.BuildInfo{
		GoVersion: "go1.26.8",
		Main:      debug.Module{Path: "github.com/connctl/connctl", Version: "(devel)"},
	}
	tests := []struct {
		name                  string
		version, commit, date string
		bi                    *debug.BuildInfo
		want                  Details
	}{
		{
			name:    "ldflags win over build info",
			version: "2.0.0", commit: "abc1234", date: "2026-04-01T00:00:00Z",
			bi:   stamped,
			want: Details{Version: "2.0.0", Commit: "abc1234", Date: "2026-04-01T00:00:00Z", GoVersion: "go1.26.8"},
		},
		{
			name:    "go install falls back to module version and vcs stamps",
			version: "dev",
			bi:      stamped,
			want:    Details{Version: "1.4.0", Commit: "0123456789abcdef0123456789abcdef01234567", Date: "2026-03-01T10:00:00Z", GoVersion: "go1.26.8"},
		},
		{
			name:    "empty version set by ldflags counts as unset",
			version: "", commit: "abc1234",
			bi:   stamped,
			want: Details{Version: "1.4.0", Commit: "abc1234", Date: "2026-03-01T10:00:00Z", GoVersion: "go1.26.8"},
		},
		{
			name:    "leading v is dropped from an ldflags version",
			version: "v3.1.0",
			bi:      devel,
			want:    Details{Version: "3.1.0", GoVersion: "go1.26.8"},
		},
		{
			name:    "devel build without vcs info stays dev",
			version: "dev",
			bi:      devel,
			want:    Details{Version: "dev", GoVersion: "go1.26.8"},
		},
		{
			name:    "no build info at all",
			version: "",
			bi:      nil,
			want:    Details{Version: "dev", GoVersion: runtime.Version()},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := resolve(tt.version, tt.commit, tt.date, tt.bi)
			if got != tt.want {
				t.Errorf("resolve() = %+v\nwant        %+v", got, tt.want)
			}
		})
	}
}

func TestInfo(t *testing.T) {
	t.Parallel()
	got := Info()
	if got.Version == "" {
		t.Error("Info().Version is empty; want at least \"dev\"")
	}
	if got.GoVersion == "" {
		t.Error("Info().GoVersion is empty")
	}
}

// The JSON field names are a machine-output contract: renaming one breaks scripts.
func TestDetailsJSONFields(t *testing.T) {
	t.Parallel()
	b, err := json.Marshal(Details{Version: "1.0.0", Commit: "abc", Date: "2026-01-01T00:00:00Z", GoVersion: "go1.26.8"})
	if err != nil {
		t.Fatal(err)
	}
	const want = `{"version":"1.0.0","commit":"abc","date":"2026-01-01T00:00:00Z","go_version":"go1.26.8"}`
	if string(b) != want {
		t.Errorf("json = %s\nwant   %s", b, want)
	}
}
