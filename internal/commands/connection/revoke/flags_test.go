package revoke

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

// parse runs `revoke argv` up to run, under a parent that wraps flag errors
// as the root command does, and returns the options it was given without
// the injected dependencies. The Deps given hold only IO: building the
// command must not need a config, a keyring or a network.
func parse(t *testing.T, argv []string) (*Options, error) {
	t.Helper()
	ios, _, _, _ := iostreams.Test()
	var got *Options
	cmd := NewCmd(&deps.Deps{IO: ios}, func(_ context.Context, o *Options) error {
		c := *o
		c.IO, c.Connections, c.Authz, c.Catalog = nil, nil, nil, nil
		got = &c
		return nil
	})
	return got, cmdtest.Execute(cmd, append([]string{"revoke"}, argv...))
}

func TestRevokeFlags(t *testing.T) {
	t.Parallel()
	tests := []struct {
		argv    []string
		want    Options
		export  bool
		wantErr string
		usage   bool // a flag error: exit 2 (app.Run maps argument counts and flag groups to 2)
	}{
		{argv: []string{"crm"}, want: Options{Name: "crm"}},
		{argv: []string{"crm", "--yes"}, want: Options{Name: "crm", Yes: true}},
		{argv: []string{"-y", "crm"}, want: Options{Name: "crm", Yes: true}},
		{argv: []string{"crm", "--yes=false"}, want: Options{Name: "crm"}},
		{argv: []string{"crm", "-y", "-o", "json"}, want: Options{Name: "crm", Yes: true}, export: true},
		{argv: []string{"crm", "-o", "json"}, want: Options{Name: "crm"}, export: true},
		{argv: []string{"crm", "--jq", ".status"}, want: Options{Name: "crm"}, export: true},
		{argv: []string{"crm", "-o", "table"}, want: Options{Name: "crm"}},
		{argv: []string{"crm", "-o", "xml"}, wantErr: `unknown output format "xml"`, usage: true},
		{argv: []string{"crm", "--jq", ".x", "-o", "yaml"}, wantErr: "--jq works on JSON output", usage: true},
		{argv: nil, wantErr: "accepts 1 arg(s), received 0"},
		{argv: []string{"a", "b"}, wantErr: "accepts 1 arg(s), received 2"},
		{argv: []string{"crm", "--force"}, wantErr: "unknown flag: --force", usage: true},
		{argv: []string{"crm", "-x"}, wantErr: "unknown shorthand flag: 'x'", usage: true},
		{argv: []string{"crm", "--yes=maybe"}, wantErr: `invalid argument "maybe"`, usage: true},
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
