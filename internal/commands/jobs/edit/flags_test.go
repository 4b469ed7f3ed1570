package edit

import (
	"context"
	"io"
	"reflect"
	"strings"
	"testing"

	"github.com/connctl/connctl/internal/connection"
	"github.com/connctl/connctl/internal/deps"
	"github.com/connctl/connctl/internal/exitcode"
	"github.com/connctl/connctl/internal/iostreams"
)

// parse runs `jobs edit argv` up to run and returns the options it was
// given, without the injected dependencies.
func parse(t *testing.T, argv []string) (*Options, error) {
	t.Helper()
	ios, _, _, _ := iostreams.Test()
	var got *Options
	cmd := NewCmd(&deps.Deps{IO: ios}, func(_ context.Context, o *Options) error {
		c := *o
		c.IO, c.Jobs, c.Checkpoints = nil, nil, nil
		got = &c
		return nil
	})
	cmd.SetArgs(argv)
	cmd.SetOut(io.Discard)
	cmd.SetErr(io.Discard)
	cmd.SilenceUsage, cmd.SilenceErrors = true, true
	return got, cmd.Execute()
}

func TestEditFlags(t *testing.T) {
	t.Parallel()
	empty, daily, nov := "", "daily", "2026-11-01"
	tests := []struct {
		argv    []string
		want    Options
		wantErr string
		usage   bool
	}{
		{argv: []string{"tickets"}, want: Options{Name: "tickets"}},
		{argv: []string{"tickets", "--schedule", ""}, want: Options{Name: "tickets", Schedule: &empty}},
		{argv: []string{"tickets", "--schedule", "daily", "--full-refresh"}, want: Options{Name: "tickets", Schedule: &daily, FullRefresh: true}},
		{argv: []string{"t", "--param", "a=1", "--param", "b=", "--dest", "-", "--format", "csv", "--incremental", "--rename", "t2"},
			want: Options{Name: "t", Params: []connection.Assignment{{Key: "a", Value: "1"}, {Key: "b"}}, Dest: "-", Format: "csv", Incremental: true, Rename: "t2"}},
		{argv: []string{"t", "--notify-on", "always"}, want: Options{Name: "t", NotifyOn: "always"}},
		{argv: []string{"t", "--notify-on", "never"}, want: Options{Name: "t", NotifyOn: "never"}},
		{argv: []string{"t", "--notify-on", "failure"}, want: Options{Name: "t", NotifyOn: "failure"}},
		{argv: []string{"t", "--notify-on", "loudly"}, usage: true, wantErr: `--notify-on "loudly": choose failure, always or never`},
		{argv: []string{"t", "--notify-on", ""}, usage: true, wantErr: `--notify-on "": choose failure, always or never`},
		{argv: []string{"t", "--full-refresh", "--incremental"}, wantErr: "[full-refresh incremental] were all set"},
		{argv: []string{"t", "--checkpoint", "2026-11-01"}, want: Options{Name: "t", Checkpoint: &nov}},
		{argv: []string{"t", "--clear-checkpoint"}, want: Options{Name: "t", ClearCheckpoint: true}},
		{argv: []string{"t", "--checkpoint", " "}, usage: true, wantErr: "--checkpoint is empty: give a time such as 2026-11-01, or use --clear-checkpoint to forget it"},
		{argv: []string{"t", "--checkpoint", "2026-11-01", "--clear-checkpoint"}, wantErr: "[checkpoint clear-checkpoint] were all set"},
		{argv: []string{"t", "--param", "nokv"}, usage: true, wantErr: `--param "nokv" is not key=value`},
		{argv: nil, wantErr: "accepts 1 arg(s), received 0"},
		{argv: []string{"t", "--source", "x"}, wantErr: "unknown flag: --source"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.argv, " "), func(t *testing.T) {
			t.Parallel()
			got, err := parse(t, tt.argv)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error %v, want one containing %q", err, tt.wantErr)
				}
				if tt.usage && exitcode.FromError(err) != exitcode.Usage {
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
