package create

import (
	"context"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/connctl/connctl/internal/commands/cmdtest"
	"github.com/connctl/connctl/internal/commands/secretflags"
	"github.com/connctl/connctl/internal/deps"
	"github.com/connctl/connctl/internal/exitcode"
	"github.com/connctl/connctl/internal/iostreams"
)

// parse runs `create argv` up to run, under a parent that wraps flag errors
// as the root command does, and returns the options it was given without
// the injected dependencies. The Deps given hold only IO: building the
// command must not need a config, a keyring or a network.
func parse(t *testing.T, argv []string) (*Options, error) {
	t.Helper()
	ios, _, _, _ := iostreams.Test()
	var got *Options
	cmd := NewCmd(&deps.Deps{IO: ios}, func(_ context.Context, o *Options) error {
		c := *o
		c.IO, c.Getenv, c.Catalog, c.Connections, c.Authz = nil, nil, nil, nil, nil
		c.Creds, c.RecordFailedAuthorization, c.CreateDefaults = nil, nil, nil
		got = &c
		return nil
	})
	return got, cmdtest.Execute(cmd, append([]string{"create"}, argv...))
}

// A missing --connector, unknown connectors and bad field=value pairs are
// run's to refuse (exit 2, create_test.go and cmd/connctl/testdata); here
// only the parsing.
func TestCreateFlags(t *testing.T) {
	t.Parallel()
	const dflt = 5 * time.Minute
	tests := []struct {
		argv    []string
		want    Options
		secret  secretflags.Flags
		export  bool
		wantErr string
		usage   bool // a flag error: exit 2 (app.Run maps argument counts and flag groups to 2)
	}{
		{argv: nil, want: Options{Timeout: dflt}},
		{argv: []string{"--connector", "freshdesk"}, want: Options{Connector: "freshdesk", Timeout: dflt}},
		{argv: []string{"-c", "sfdc", "-n", "crm"}, want: Options{Connector: "sfdc", Name: "crm", Timeout: dflt}},
		{argv: []string{"-c", "s3", "--name", "archive", "--set", "bucket=x", "-s", "endpoint=https://h:9000,b"},
			want: Options{Connector: "s3", Name: "archive", Set: []string{"bucket=x", "endpoint=https://h:9000,b"}, Timeout: dflt}},
		{argv: []string{"-c", "jira", "--auth", "api_token"}, want: Options{Connector: "jira", Auth: "api_token", Timeout: dflt}},
		{argv: []string{"-c", "freshdesk", "--no-verify"}, want: Options{Connector: "freshdesk", NoVerify: true, Timeout: dflt}},
		{argv: []string{"-c", "jira", "--default-jobs"}, want: Options{Connector: "jira", DefaultJobs: true, Timeout: dflt}},
		{argv: []string{"-c", "sfdc", "--no-authorize"}, want: Options{Connector: "sfdc", NoAuthorize: true, Timeout: dflt}},
		{argv: []string{"-c", "sfdc", "--no-browser", "--timeout", "90s"}, want: Options{Connector: "sfdc", NoBrowser: true, Timeout: 90 * time.Second}},
		{argv: []string{"-c", "freshdesk", "--secret-stdin"}, want: Options{Connector: "freshdesk", Timeout: dflt}, secret: secretflags.Flags{Stdin: true}},
		{argv: []string{"-c", "bigquery", "--secret-file", "key.json"}, want: Options{Connector: "bigquery", Timeout: dflt}, secret: secretflags.Flags{File: "key.json"}},
		{argv: []string{"-c", "s3", "--secret-env", "AWS_SECRET_ACCESS_KEY", "--secret-field", "secret_access_key"}, want: Options{Connector: "s3", Timeout: dflt},
			secret: secretflags.Flags{Env: "AWS_SECRET_ACCESS_KEY", Field: "secret_access_key"}},
		{argv: []string{"-c", "freshdesk", "-o", "yaml"}, want: Options{Connector: "freshdesk", Timeout: dflt}, export: true},
		{argv: []string{"-c", "freshdesk", "--jq", ".id"}, want: Options{Connector: "freshdesk", Timeout: dflt}, export: true},
		// cobra returns flag-group errors and argument counts unwrapped:
		// app.Run maps them to exit 2 by their text.
		{argv: []string{"-c", "x", "--secret-stdin", "--secret-env", "K"}, wantErr: "[secret-env secret-stdin] were all set"},
		{argv: []string{"-c", "x", "--secret-file", "f", "--secret-stdin"}, wantErr: "[secret-file secret-stdin] were all set"},
		{argv: []string{"-c", "x", "--secret-file", "f", "--secret-env", "K"}, wantErr: "[secret-env secret-file] were all set"},
		{argv: []string{"freshdesk"}, wantErr: `unknown command "freshdesk" for "connctl create"`},
		{argv: []string{"-c", "sfdc", "--timeout", "soon"}, wantErr: `invalid argument "soon" for "--timeout" flag`, usage: true},
		{argv: []string{"-c"}, wantErr: "flag needs an argument: 'c' in -c", usage: true},
		{argv: []string{"-c", "x", "--secret", "k"}, wantErr: "unknown flag: --secret", usage: true},
		{argv: []string{"-c", "x", "--rename", "y"}, wantErr: "unknown flag: --rename", usage: true},
		{argv: []string{"-c", "x", "--no-verify=maybe"}, wantErr: `invalid argument "maybe"`, usage: true},
		{argv: []string{"-c", "x", "-o", "xml"}, wantErr: `unknown output format "xml"`, usage: true},
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
			if *got.Secret != tt.secret {
				t.Errorf("secret flags %+v, want %+v", *got.Secret, tt.secret)
			}
			got.Export, got.Secret = nil, nil
			if !reflect.DeepEqual(*got, tt.want) {
				t.Errorf("options %+v, want %+v", *got, tt.want)
			}
		})
	}
}
