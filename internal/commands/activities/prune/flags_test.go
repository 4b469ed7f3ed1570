package prune

import (
	"context"
	"io"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/connctl/connctl/internal/deps"
	"github.com/connctl/connctl/internal/iostreams"
)

// parse runs `activities prune argv` up to run and returns the options it
// was given, without the injected dependencies.
func parse(t *testing.T, argv []string) (*Options, error) {
	t.Helper()
	ios, _, _, _ := iostreams.Test()
	var got *Options
	cmd := NewCmd(&deps.Deps{IO: ios}, func(_ context.Context, o *Options) error {
		c := *o
		c.IO, c.Activities, c.Now = nil, nil, nil
		got = &c
		return nil
	})
	cmd.SetArgs(argv)
	cmd.SetOut(io.Discard)
	cmd.SetErr(io.Discard)
	cmd.SilenceUsage, cmd.SilenceErrors = true, true
	return got, cmd.Execute()
}

func TestPruneFlags(t *testing.T) {
	t.Parallel()
	tests := []struct {
		argv    []string
		want    Options
		wantErr string
	}{
		{argv: []string{"--older-than", "90d"}, want: Options{OlderThan: "90d", Age: 90 * 24 * time.Hour}},
		{argv: []string{"--older-than", "720h"}, want: Options{OlderThan: "720h", Age: 720 * time.Hour}},
		{argv: []string{"--older-than", "0d"}, want: Options{OlderThan: "0d"}},
		{argv: nil, wantErr: "--older-than is required, e.g. --older-than 90d"},
		{argv: []string{"--older-than", "soon"}, wantErr: `--older-than "soon" is not a duration such as 90d or 720h`},
		{argv: []string{"--older-than", "-1d"}, wantErr: `--older-than "-1d" is not a duration`},
		{argv: []string{"90d"}, wantErr: `unknown command "90d"`},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.argv, " "), func(t *testing.T) {
			t.Parallel()
			got, err := parse(t, tt.argv)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error %v, want one containing %q", err, tt.wantErr)
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
