package status

import (
	"context"
	"io"
	"reflect"
	"strings"
	"testing"

	"github.com/connctl/connctl/internal/deps"
	"github.com/connctl/connctl/internal/iostreams"
)

// parse runs `status argv` up to run and returns the options it was given,
// without the injected dependencies.
func parse(t *testing.T, argv []string) (*Options, error) {
	t.Helper()
	ios, _, _, _ := iostreams.Test()
	var got *Options
	cmd := NewCmd(&deps.Deps{IO: ios}, func(_ context.Context, o *Options) error {
		c := *o
		c.LastSuccess = nil
		c.IO, c.Now, c.Authz, c.HTTP, c.Failed = nil, nil, nil, nil, nil
		c.Notifier = nil
		got = &c
		return nil
	})
	cmd.SetArgs(argv)
	cmd.SetOut(io.Discard)
	cmd.SetErr(io.Discard)
	cmd.SilenceUsage, cmd.SilenceErrors = true, true
	return got, cmd.Execute()
}

func TestStatusFlags(t *testing.T) {
	t.Parallel()
	tests := []struct {
		argv    []string
		want    Options
		export  bool
		wantErr string
	}{
		{argv: []string{}, want: Options{Concurrency: 4, Names: []string{}}},
		{argv: []string{"crm", "support"}, want: Options{Concurrency: 4, Names: []string{"crm", "support"}}},
		{argv: []string{"--offline", "-o", "json"}, want: Options{Concurrency: 4, Offline: true, Names: []string{}}, export: true},
		{argv: []string{"--concurrency", "1", "--jq", ".[].state"}, want: Options{Concurrency: 1, Names: []string{}}, export: true},
		{argv: []string{"--concurrency", "0"}, wantErr: "--concurrency must be at least 1"},
		{argv: []string{"--concurrency", "x"}, wantErr: "invalid argument"},
		{argv: []string{"-o", "xml"}, wantErr: "xml"},
		{argv: []string{"-o", "prometheus"}, want: Options{Concurrency: 4, Names: []string{}}, export: true},
		{argv: []string{"-o", "prometheus", "--jq", "."}, wantErr: "--jq works on JSON output and cannot be combined with -o prometheus"},
		{argv: []string{"--refresh", "crm"}, want: Options{Concurrency: 4, Refresh: true, Names: []string{"crm"}}},
		{argv: []string{"--refresh", "--offline"}, wantErr: "--refresh calls every provider and --offline none: give one of them"},
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
