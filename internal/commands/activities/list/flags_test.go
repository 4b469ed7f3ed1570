package list

import (
	"context"
	"io"
	"reflect"
	"strings"
	"testing"

	"github.com/connctl/connctl/internal/deps"
	"github.com/connctl/connctl/internal/iostreams"
)

// parse runs `activities argv` up to run and returns the options it was
// given, without the injected dependencies.
func parse(t *testing.T, argv []string) (*Options, error) {
	t.Helper()
	ios, _, _, _ := iostreams.Test()
	var got *Options
	cmd := NewCmd(&deps.Deps{IO: ios}, func(_ context.Context, o *Options) error {
		c := *o
		c.IO, c.Config, c.Activities, c.Now = nil, nil, nil, nil
		got = &c
		return nil
	})
	cmd.SetArgs(argv)
	cmd.SetOut(io.Discard)
	cmd.SetErr(io.Discard)
	cmd.SilenceUsage, cmd.SilenceErrors = true, true
	return got, cmd.Execute()
}

func TestListFlags(t *testing.T) {
	t.Parallel()
	tests := []struct {
		argv    []string
		want    Options
		export  bool
		wantErr string
	}{
		{argv: nil, want: Options{Limit: 50}},
		{argv: []string{"--connection", "support", "--job", "tickets"}, want: Options{Connection: "support", Job: "tickets", Limit: 50}},
		{argv: []string{"--type", "update", "--status", "failed", "--failed"}, want: Options{Type: "update", Status: "failed", Failed: true, Limit: 50}},
		{argv: []string{"--type", "execution", "--since", "24h", "--limit", "0"}, want: Options{Type: "execution", Since: "24h"}},
		{argv: []string{"--since", "2026-11-26", "-o", "json"}, want: Options{Since: "2026-11-26", Limit: 50}, export: true},
		{argv: []string{"--type", "run"}, wantErr: `--type "run": choose execution or update`},
		{argv: []string{"--limit", "-1"}, wantErr: "--limit must be 0 or more"},
		{argv: []string{"--limit", "many"}, wantErr: `invalid argument "many" for "--limit"`},
		{argv: []string{"support"}, wantErr: `unknown command "support"`},
		{argv: []string{"--older-than", "90d"}, wantErr: "unknown flag: --older-than"},
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
			if (got.Export != nil) != tt.export {
				t.Errorf("export %v, want %v", got.Export != nil, tt.export)
			}
			got.Export = nil
			if !reflect.DeepEqual(*got, tt.want) {
				t.Errorf("options %+v, want %+v", *got, tt.want)
			}
		})
	}
}
