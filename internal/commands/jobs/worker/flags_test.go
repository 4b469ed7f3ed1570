package worker

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

// parse runs `worker argv` up to Run and returns the options it was given,
// without the injected dependencies.
func parse(t *testing.T, argv []string) (*Options, error) {
	t.Helper()
	ios, _, _, _ := iostreams.Test()
	var got *Options
	cmd := NewCmd(&deps.Deps{IO: ios}, func(_ context.Context, o *Options) error {
		c := *o
		c.IO, c.Config, c.Runner, c.Now, c.Notify, c.StopNotify, c.After = nil, nil, nil, nil, nil, nil, nil
		got = &c
		return nil
	})
	cmd.SetArgs(argv)
	cmd.SetOut(io.Discard)
	cmd.SetErr(io.Discard)
	cmd.SilenceUsage, cmd.SilenceErrors = true, true
	return got, cmd.Execute()
}

func TestWorkerFlags(t *testing.T) {
	t.Parallel()
	twoHours := 2 * time.Hour
	def := Options{Poll: 30 * time.Second, Grace: 30 * time.Second}
	with := func(f func(o *Options)) Options { o := def; f(&o); return o }
	tests := []struct {
		argv    []string
		want    Options
		wantErr string
		usage   bool
	}{
		{argv: nil, want: def},
		{argv: []string{"--once"}, want: with(func(o *Options) { o.Once = true })},
		{argv: []string{"--poll", "5s", "--grace", "2m"}, want: with(func(o *Options) { o.Poll, o.Grace = 5*time.Second, 2*time.Minute })},
		{argv: []string{"--grace", "0"}, want: with(func(o *Options) { o.Grace = 0 })},
		{argv: []string{"--timeout", "2h"}, want: with(func(o *Options) { o.Timeout = &twoHours })},
		{argv: []string{"--poll", "0"}, usage: true, wantErr: "--poll 0s must be positive"},
		{argv: []string{"--poll=-1s"}, usage: true, wantErr: "--poll -1s must be positive"},
		{argv: []string{"--grace=-1s"}, usage: true, wantErr: "--grace -1s is negative"},
		{argv: []string{"--poll", "often"}, wantErr: `invalid argument "often" for "--poll"`},
		{argv: []string{"tickets"}, wantErr: "unknown command"},
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
