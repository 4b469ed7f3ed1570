package exec

import (
	"context"
	"reflect"
	"strings"
	"testing"

	"github.com/connctl/connctl/internal/commands/cmdtest"
	"github.com/connctl/connctl/internal/deps"
	"github.com/connctl/connctl/internal/exitcode"
	"github.com/connctl/connctl/internal/iostreams"
)

// parse runs `exec argv` up to run and returns the options it was given
// without the injected dependencies. The Deps given hold only IO: building
// the command must not need a config, a keyring or a network.
func parse(t *testing.T, argv []string) (*Options, error) {
	t.Helper()
	ios, _, _, _ := iostreams.Test()
	var got *Options
	cmd := NewCmd(&deps.Deps{IO: ios}, func(_ context.Context, o *Options) error {
		c := *o
		c.IO, c.Authz, c.Environ, c.Notify, c.StopNotify = nil, nil, nil, nil, nil
		got = &c
		return nil
	})
	return got, cmdtest.Execute(cmd, append([]string{"exec"}, argv...))
}

func TestExecFlags(t *testing.T) {
	t.Parallel()
	tests := []struct {
		argv    []string
		want    Options
		wantErr string
	}{
		{argv: []string{"s3prod", "--", "aws", "s3", "ls"}, want: Options{Names: []string{"s3prod"}, Command: []string{"aws", "s3", "ls"}}},
		{argv: []string{"a", "b", "--refresh", "--", "env"}, want: Options{Names: []string{"a", "b"}, Command: []string{"env"}, Refresh: true}},
		{argv: []string{"--no-native", "a", "--", "env"}, want: Options{Names: []string{"a"}, Command: []string{"env"}, NoNative: true}},
		// Everything after -- is the command's, flags included.
		{argv: []string{"a", "--", "ls", "--refresh", "-l", "--", "x"}, want: Options{Names: []string{"a"}, Command: []string{"ls", "--refresh", "-l", "--", "x"}}},
		{argv: nil, wantErr: "name a connection and the command: connctl exec <name>... -- <command>"},
		{argv: []string{"a", "env"}, wantErr: "put -- between the connection names and the command: connctl exec a -- <command>"},
		{argv: []string{"--", "env"}, wantErr: "name at least one connection before --"},
		{argv: []string{"a", "--"}, wantErr: "give the command to run after --"},
		{argv: []string{"a", "--yes", "--", "env"}, wantErr: "unknown flag: --yes"},
		{argv: []string{"a", "--refresh=maybe", "--", "env"}, wantErr: `invalid argument "maybe"`},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.argv, " "), func(t *testing.T) {
			t.Parallel()
			got, err := parse(t, tt.argv)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error %v, want one containing %q", err, tt.wantErr)
				}
				if exitcode.FromError(err) != exitcode.Usage {
					t.Fatalf("exit code %d, want %d", exitcode.FromError(err), exitcode.Usage)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(*got, tt.want) {
				t.Errorf("options %+v, want %+v", *got, tt.want)
			}
		})
	}
}

func TestDashTyped(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		argv []string
		want bool
	}{
		{[]string{"connctl", "__complete", "exec", ""}, false},
		{[]string{"connctl", "__complete", "exec", "s3prod", "cr"}, false},
		{[]string{"connctl", "__complete", "exec", "s3prod", "--", ""}, true},
		{[]string{"connctl", "__complete", "exec", "s3prod", "--", "aws", "s"}, true},
		{[]string{"connctl", "__complete", "exec", "s3prod", "--"}, false}, // completing "--" itself
		{[]string{"connctl", "exec", "a", "--", "ls"}, false},              // not completing
	} {
		if got := dashTyped(tc.argv); got != tc.want {
			t.Errorf("%q: %v, want %v", tc.argv, got, tc.want)
		}
	}
}
