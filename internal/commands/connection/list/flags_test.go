package list

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

// parse runs `list argv` up to run, under a parent that wraps flag errors
// as the root command does, and returns the options it was given without
// the injected dependencies. The Deps given hold only IO: building the
// command must not need a config, a keyring or a network.
func parse(t *testing.T, argv []string) (*Options, error) {
	t.Helper()
	ios, _, _, _ := iostreams.Test()
	var got *Options
	cmd := NewCmd(&deps.Deps{IO: ios}, func(_ context.Context, o *Options) error {
		c := *o
		c.IO, c.Config, c.Catalog, c.FailedLastDay, c.Now = nil, nil, nil, nil, nil
		got = &c
		return nil
	})
	return got, cmdtest.Execute(cmd, argv)
}

// The values of --status, --sort and --limit are checked by run (exit 2,
// see sort_test.go and status_test.go); here only their parsing.
func TestListFlags(t *testing.T) {
	t.Parallel()
	tests := []struct {
		argv    []string
		want    Options
		export  bool
		wantErr string
		usage   bool // a flag error: exit 2 (app.Run maps argument counts and flag groups to 2)
	}{
		{argv: []string{"list"}, want: Options{Sort: "name"}},
		{argv: []string{"ls"}, want: Options{Sort: "name"}},
		{argv: []string{"list", "--search", "prod"}, want: Options{Search: "prod", Sort: "name"}},
		{argv: []string{"list", "--connector", "sfdc"}, want: Options{Connector: "sfdc", Sort: "name"}},
		{argv: []string{"list", "--status", "revoked"}, want: Options{Status: "revoked", Sort: "name"}},
		{argv: []string{"list", "--sort", "failed"}, want: Options{Sort: "failed"}},
		{argv: []string{"list", "--sort", "size"}, want: Options{Sort: "size"}},
		{argv: []string{"list", "--limit", "5"}, want: Options{Sort: "name", Limit: 5}},
		{argv: []string{"list", "--limit=-1"}, want: Options{Sort: "name", Limit: -1}},
		{argv: []string{"list", "--search", "a", "--connector", "jira", "--status", "authorized", "--sort", "created", "--limit", "2", "-o", "json"},
			want: Options{Search: "a", Connector: "jira", Status: "authorized", Sort: "created", Limit: 2}, export: true},
		{argv: []string{"list", "--expiring", "14d"}, want: Options{Sort: "name", Expiring: "14d"}},
		{argv: []string{"list", "--jq", ".[].name"}, want: Options{Sort: "name"}, export: true},
		{argv: []string{"list", "-o", "tsv"}, want: Options{Sort: "name"}, export: true},
		{argv: []string{"list", "crm"}, wantErr: `unknown command "crm" for "connctl list"`},
		{argv: []string{"list", "--limit", "many"}, wantErr: `invalid argument "many" for "--limit" flag`, usage: true},
		{argv: []string{"list", "--search"}, wantErr: "flag needs an argument: --search", usage: true},
		{argv: []string{"list", "-o", "xml"}, wantErr: `unknown output format "xml"`, usage: true},
		{argv: []string{"list", "--jq", ".", "-o", "csv"}, wantErr: "--jq works on JSON output", usage: true},
		{argv: []string{"list", "--yes"}, wantErr: "unknown flag: --yes", usage: true},
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
