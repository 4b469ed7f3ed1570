package edit

import (
	"context"
	"reflect"
	"strings"
	"testing"

	"github.com/connctl/connctl/internal/commands/cmdtest"
	"github.com/connctl/connctl/internal/commands/secretflags"
	"github.com/connctl/connctl/internal/deps"
	"github.com/connctl/connctl/internal/exitcode"
	"github.com/connctl/connctl/internal/iostreams"
)

// parse runs `edit argv` up to run, under a parent that wraps flag errors
// as the root command does, and returns the options it was given without
// the injected dependencies. The Deps given hold only IO: building the
// command must not need a config, a keyring or a network.
func parse(t *testing.T, argv []string) (*Options, error) {
	t.Helper()
	ios, _, _, _ := iostreams.Test()
	var got *Options
	cmd := NewCmd(&deps.Deps{IO: ios}, func(_ context.Context, o *Options) error {
		c := *o
		c.IO, c.Getenv, c.Connections, c.Catalog, c.Creds = nil, nil, nil, nil, nil
		got = &c
		return nil
	})
	return got, cmdtest.Execute(cmd, append([]string{"edit"}, argv...))
}

// "Nothing to change" and bad field=value pairs are run's to refuse (exit
// 2, see cmd/connctl/testdata); here only the parsing.
func TestEditFlags(t *testing.T) {
	t.Parallel()
	tests := []struct {
		argv    []string
		want    Options
		secret  secretflags.Flags
		export  bool
		wantErr string
		usage   bool // a flag error: exit 2 (app.Run maps argument counts and flag groups to 2)
	}{
		{argv: []string{"crm"}, want: Options{Name: "crm"}},
		{argv: []string{"crm", "--set", "domain=acme", "-s", "region=eu"}, want: Options{Name: "crm", Set: []string{"domain=acme", "region=eu"}}},
		// A value with a comma stays whole (StringArray, not StringSlice).
		{argv: []string{"crm", "--set", "scopes=a,b"}, want: Options{Name: "crm", Set: []string{"scopes=a,b"}}},
		{argv: []string{"crm", "--unset", "endpoint", "--unset", "region"}, want: Options{Name: "crm", Unset: []string{"endpoint", "region"}}},
		{argv: []string{"crm", "--rename", "crm-eu"}, want: Options{Name: "crm", Rename: "crm-eu"}},
		{argv: []string{"crm", "--no-verify"}, want: Options{Name: "crm", NoVerify: true}},
		{argv: []string{"crm", "--secret-stdin"}, want: Options{Name: "crm"}, secret: secretflags.Flags{Stdin: true}},
		{argv: []string{"crm", "--secret-file", "k.json"}, want: Options{Name: "crm"}, secret: secretflags.Flags{File: "k.json"}},
		{argv: []string{"crm", "--secret-env", "KEY", "--secret-field", "session_token"}, want: Options{Name: "crm"},
			secret: secretflags.Flags{Env: "KEY", Field: "session_token"}},
		{argv: []string{"crm", "-o", "json", "--rename", "x"}, want: Options{Name: "crm", Rename: "x"}, export: true},
		{argv: []string{"crm", "--jq", ".fields"}, want: Options{Name: "crm"}, export: true},
		// cobra returns flag-group errors unwrapped: app.Run maps them to
		// exit 2 by their text, as it does argument counts.
		{argv: []string{"crm", "--secret-stdin", "--secret-file", "k"},
			wantErr: "if any flags in the group [secret-stdin secret-file secret-env] are set none of the others can be; [secret-file secret-stdin] were all set"},
		{argv: []string{"crm", "--secret-env", "K", "--secret-stdin"}, wantErr: "[secret-env secret-stdin] were all set"},
		{argv: []string{"crm", "--secret-file", "k", "--secret-env", "K"}, wantErr: "[secret-env secret-file] were all set"},
		{argv: nil, wantErr: "accepts 1 arg(s), received 0"},
		{argv: []string{"a", "b"}, wantErr: "accepts 1 arg(s), received 2"},
		{argv: []string{"crm", "--rename"}, wantErr: "flag needs an argument: --rename", usage: true},
		{argv: []string{"crm", "--secret", "k"}, wantErr: "unknown flag: --secret", usage: true},
		{argv: []string{"crm", "--auth", "api_key"}, wantErr: "unknown flag: --auth", usage: true},
		{argv: []string{"crm", "--no-verify=maybe"}, wantErr: `invalid argument "maybe"`, usage: true},
		{argv: []string{"crm", "-o", "xml"}, wantErr: `unknown output format "xml"`, usage: true},
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
