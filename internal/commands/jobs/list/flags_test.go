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

// parse runs `jobs list argv` up to run and returns the options it was
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
		{argv: nil, want: Options{Sort: "name"}},
		{argv: []string{"--connection", "support", "--search", "tick", "--sort", "last-run", "--limit", "3"},
			want: Options{Connection: "support", Search: "tick", Sort: "last-run", Limit: 3}},
		{argv: []string{"-o", "json"}, want: Options{Sort: "name"}, export: true},
		{argv: []string{"--jq", ".[].name"}, want: Options{Sort: "name"}, export: true},
		{argv: []string{"--limit", "x"}, wantErr: `invalid argument "x" for "--limit"`},
		{argv: []string{"-o", "xml"}, wantErr: `xml`},
		{argv: []string{"extra"}, wantErr: `unknown command "extra"`},
		{argv: []string{"--bogus"}, wantErr: "unknown flag: --bogus"},
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
