package delete

import (
	"context"
	"io"
	"reflect"
	"strings"
	"testing"

	"github.com/connctl/connctl/internal/deps"
	"github.com/connctl/connctl/internal/exitcode"
	"github.com/connctl/connctl/internal/iostreams"
)

// parse runs `jobs delete argv` up to run and returns the options it was
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

func TestDeleteFlags(t *testing.T) {
	t.Parallel()
	tests := []struct {
		argv    []string
		want    Options
		wantErr string
		usage   bool
	}{
		{argv: []string{"tickets"}, want: Options{Names: []string{"tickets"}}},
		{argv: []string{"a", "b", "--yes"}, want: Options{Names: []string{"a", "b"}, Yes: true}},
		{argv: []string{"-y", "a"}, want: Options{Names: []string{"a"}, Yes: true}},
		{argv: nil, usage: true, wantErr: "give the name of the job to delete (see `connctl jobs list`)"},
		{argv: []string{"a", "--cascade"}, wantErr: "unknown flag: --cascade"},
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
