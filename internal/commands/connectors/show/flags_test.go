package show

import (
	"context"
	"io"
	"reflect"
	"strings"
	"testing"

	"github.com/connctl/connctl/internal/deps"
	"github.com/connctl/connctl/internal/iostreams"
)

// parse runs `connectors show argv` up to run and returns the options it
// was given, without the injected dependencies.
func parse(t *testing.T, argv []string) (*Options, error) {
	t.Helper()
	ios, _, _, _ := iostreams.Test()
	var got *Options
	cmd := NewCmd(&deps.Deps{IO: ios}, func(_ context.Context, o *Options) error {
		c := *o
		c.IO, c.Catalog = nil, nil
		got = &c
		return nil
	})
	cmd.SetArgs(argv)
	cmd.SetOut(io.Discard)
	cmd.SetErr(io.Discard)
	cmd.SilenceUsage, cmd.SilenceErrors = true, true
	return got, cmd.Execute()
}

func TestShowFlags(t *testing.T) {
	t.Parallel()
	tests := []struct {
		argv    []string
		want    Options
		export  bool
		wantErr string
	}{
		{argv: []string{"freshdesk"}, want: Options{ID: "freshdesk"}},
		// An unknown id is run's to refuse, with the closest one.
		{argv: []string{"fresh"}, want: Options{ID: "fresh"}},
		{argv: []string{"px", "-o", "json"}, want: Options{ID: "px"}, export: true},
		{argv: []string{"sfdc", "--jq", ".auth_methods[].id"}, want: Options{ID: "sfdc"}, export: true},
		{argv: nil, wantErr: "accepts 1 arg(s), received 0"},
		{argv: []string{"sfdc", "zoho"}, wantErr: "accepts 1 arg(s), received 2"},
		{argv: []string{"sfdc", "-o", "html"}, wantErr: "html"},
		{argv: []string{"sfdc", "--all"}, wantErr: "unknown flag: --all"},
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
