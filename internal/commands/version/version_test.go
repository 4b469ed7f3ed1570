package version

import (
	"context"
	"testing"

	"github.com/connctl/connctl/internal/build"
	"github.com/connctl/connctl/internal/deps"
	"github.com/connctl/connctl/internal/iostreams"
)

var release = build.Details{
	Version:   "1.2.3",
	Commit:    "0123456789abcdef0123456789abcdef01234567",
	Date:      "2026-11-01T10:00:00Z",
	GoVersion: "go1.26.8",
}

// execute runs `connctl version args...` through NewCmd and run, with info
// as the build, on a terminal or not.
func execute(t *testing.T, info build.Details, tty bool, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	ios, _, out, errOut := iostreams.Test()
	ios.SetTTY(tty, tty, tty)
	cmd := NewCmd(&deps.Deps{IO: ios}, func(ctx context.Context, o *Options) error {
		o.Info = func() build.Details { return info }
		o.Backends = func() (deps.Backends, error) { return deps.Backends{Store: "file", Secrets: "keyring"}, nil }
		return run(ctx, o)
	})
	cmd.SetArgs(args)
	cmd.SetOut(out)
	cmd.SetErr(errOut)
	cmd.SilenceErrors, cmd.SilenceUsage = true, true
	err = cmd.ExecuteContext(context.Background())
	return out.String(), errOut.String(), err
}

func TestRun(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		info build.Details
		args []string
		want string
	}{
		{
			name: "release build",
			info: release,
			want: `connctl 1.2.3
commit:  0123456789abcdef0123456789abcdef01234567
date:    2026-11-01T10:00:00Z
go:      go1.26.8
store:   file
secrets: keyring
`,
		},
		{
			name: "dev build leaves out what it does not know",
			info: build.Details{Version: "dev", GoVersion: "go1.26.8"},
			want: `connctl dev
go:      go1.26.8
store:   file
secrets: keyring
`,
		},
		{
			name: "json",
			info: release,
			args: []string{"-o", "json"},
			want: `{
  "version": "1.2.3",
  "commit": "0123456789abcdef0123456789abcdef01234567",
  "date": "2026-11-01T10:00:00Z",
  "go_version": "go1.26.8",
  "store": "file",
  "secrets": "keyring"
}
`,
		},
		{
			name: "json keeps unknown fields as empty strings",
			info: build.Details{Version: "dev", GoVersion: "go1.26.8"},
			args: []string{"-o", "json"},
			want: `{
  "version": "dev",
  "commit": "",
  "date": "",
  "go_version": "go1.26.8",
  "store": "file",
  "secrets": "keyring"
}
`,
		},
		{
			name: "jq",
			info: release,
			args: []string{"--jq", ".commit"},
			want: "0123456789abcdef0123456789abcdef01234567\n",
		},
		{
			name: "tsv in field order",
			info: release,
			args: []string{"-o", "tsv"},
			want: "version\tcommit\tdate\tgo_version\tstore\tsecrets\n1.2.3\t0123456789abcdef0123456789abcdef01234567\t2026-11-01T10:00:00Z\tgo1.26.8\tfile\tkeyring\n",
		},
	}
	for _, tt := range tests {
		for _, tty := range []bool{true, false} {
			name := tt.name + map[bool]string{true: "/tty", false: "/pipe"}[tty]
			t.Run(name, func(t *testing.T) {
				t.Parallel()
				stdout, stderr, err := execute(t, tt.info, tty, tt.args...)
				if err != nil {
					t.Fatalf("error: %v", err)
				}
				if stdout != tt.want {
					t.Errorf("stdout:\n%s\nwant:\n%s", stdout, tt.want)
				}
				if stderr != "" {
					t.Errorf("stderr: %q, want nothing", stderr)
				}
			})
		}
	}
}

func TestFlags(t *testing.T) {
	t.Parallel()
	t.Run("no flags: table", func(t *testing.T) {
		t.Parallel()
		ios, _, _, _ := iostreams.Test()
		var got *Options
		cmd := NewCmd(&deps.Deps{IO: ios}, func(_ context.Context, o *Options) error { got = o; return nil })
		cmd.SetArgs(nil)
		if err := cmd.Execute(); err != nil {
			t.Fatal(err)
		}
		if got.Export != nil {
			t.Error("Export is set without -o")
		}
		if got.Info == nil || got.IO != ios {
			t.Error("Info or IO not wired from deps")
		}
	})
}
