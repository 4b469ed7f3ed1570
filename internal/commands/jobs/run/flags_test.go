package run

import (
	"context"
	"io"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/connctl/connctl/internal/deps"
	"github.com/connctl/connctl/internal/exitcode"
	"github.com/connctl/connctl/internal/iostreams"
)

// parse runs `jobs run argv` up to run and returns the options it was
// given, without the injected dependencies.
func parse(t *testing.T, argv []string) (*Options, error) {
	t.Helper()
	ios, _, _, _ := iostreams.Test()
	var got *Options
	cmd := NewCmd(&deps.Deps{IO: ios}, func(_ context.Context, o *Options) error {
		c := *o
		c.IO, c.Config, c.Runner = nil, nil, nil
		got = &c
		return nil
	})
	cmd.SetArgs(argv)
	cmd.SetOut(io.Discard)
	cmd.SetErr(io.Discard)
	cmd.SilenceUsage, cmd.SilenceErrors = true, true
	return got, cmd.Execute()
}

func TestRunFlags(t *testing.T) {
	t.Parallel()
	twoHours, zero, negative := 2*time.Hour, time.Duration(0), -time.Minute
	tests := []struct {
		argv    []string
		want    Options
		wantErr string
		usage   bool
	}{
		{argv: []string{"tickets"}, want: Options{Names: []string{"tickets"}}},
		{argv: []string{"a", "b", "--full-refresh"}, want: Options{Names: []string{"a", "b"}, Full: true}},
		{argv: []string{"--due"}, want: Options{Names: []string{}, Due: true}},
		{argv: []string{"backfill", "--timeout", "2h"}, want: Options{Names: []string{"backfill"}, Timeout: &twoHours}},
		{argv: []string{"backfill", "--timeout", "0"}, want: Options{Names: []string{"backfill"}, Timeout: &zero}},
		// A negative limit is refused by run, which names the setting's
		// alternative; the flag itself parses.
		{argv: []string{"backfill", "--timeout=-1m"}, want: Options{Names: []string{"backfill"}, Timeout: &negative}},
		{argv: nil, usage: true, wantErr: "give job names or --due (not both)"},
		{argv: []string{"tickets", "--due"}, usage: true, wantErr: "give job names or --due (not both)"},
		{argv: []string{"tickets", "--timeout", "soon"}, wantErr: `invalid argument "soon" for "--timeout"`},
		{argv: []string{"tickets", "-o", "json"}, wantErr: "unknown shorthand flag: 'o'"},
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
