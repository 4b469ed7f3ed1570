package authorize

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

// parse runs `authorize argv` (or `reauthorize argv` when re) up to run,
// under a parent that wraps flag errors as the root command does, and
// returns the options it was given without the injected dependencies. The
// Deps given hold only IO: building the command must not need a config, a
// keyring or a network.
func parse(t *testing.T, re bool, argv []string) (*Options, error) {
	t.Helper()
	ios, _, _, _ := iostreams.Test()
	var got *Options
	cmd := NewCmd(&deps.Deps{IO: ios}, func(_ context.Context, o *Options) error {
		c := *o
		c.IO, c.Getenv, c.Catalog, c.Connections, c.Authz, c.Creds, c.RecordFailedAuthorization = nil, nil, nil, nil, nil, nil, nil
		got = &c
		return nil
	}, re)
	return got, cmdtest.Execute(cmd, append([]string{cmd.Name()}, argv...))
}

type flagCase struct {
	argv    []string
	want    Options
	secret  secretflags.Flags
	export  bool
	wantErr string
	usage   bool // a flag error: exit 2 (app.Run maps argument counts and flag groups to 2)
}

// The flags both commands take; want.Re is set by the test.
var sharedCases = []flagCase{
	{argv: []string{"crm"}, want: Options{Name: "crm", Timeout: 5 * time.Minute}},
	{argv: []string{"crm", "--no-browser"}, want: Options{Name: "crm", NoBrowser: true, Timeout: 5 * time.Minute}},
	{argv: []string{"crm", "--timeout", "10m"}, want: Options{Name: "crm", Timeout: 10 * time.Minute}},
	{argv: []string{"support", "--no-verify"}, want: Options{Name: "support", NoVerify: true, Timeout: 5 * time.Minute}},
	{argv: []string{"support", "--secret-stdin"}, want: Options{Name: "support", Timeout: 5 * time.Minute}, secret: secretflags.Flags{Stdin: true}},
	{argv: []string{"bq", "--secret-file", "key.json"}, want: Options{Name: "bq", Timeout: 5 * time.Minute}, secret: secretflags.Flags{File: "key.json"}},
	{argv: []string{"crm", "--secret-env", "CS", "--secret-field", "client_secret"}, want: Options{Name: "crm", Timeout: 5 * time.Minute},
		secret: secretflags.Flags{Env: "CS", Field: "client_secret"}},
	{argv: []string{"crm", "-o", "json"}, want: Options{Name: "crm", Timeout: 5 * time.Minute}, export: true},
	{argv: []string{"crm", "--jq", ".account"}, want: Options{Name: "crm", Timeout: 5 * time.Minute}, export: true},
	{argv: []string{"crm", "--secret-stdin", "--secret-file", "f"}, wantErr: "[secret-file secret-stdin] were all set"},
	{argv: []string{"crm", "--secret-env", "K", "--secret-stdin"}, wantErr: "[secret-env secret-stdin] were all set"},
	{argv: []string{"crm", "--secret-file", "f", "--secret-env", "K"}, wantErr: "[secret-env secret-file] were all set"},
	{argv: nil, wantErr: "accepts 1 arg(s), received 0"},
	{argv: []string{"a", "b"}, wantErr: "accepts 1 arg(s), received 2"},
	{argv: []string{"crm", "--timeout", "soon"}, wantErr: `invalid argument "soon" for "--timeout" flag`, usage: true},
	{argv: []string{"crm", "--timeout"}, wantErr: "flag needs an argument: --timeout", usage: true},
	{argv: []string{"crm", "--no-browser=maybe"}, wantErr: `invalid argument "maybe"`, usage: true},
	{argv: []string{"crm", "--secret", "k"}, wantErr: "unknown flag: --secret", usage: true},
	{argv: []string{"crm", "-o", "xml"}, wantErr: `unknown output format "xml"`, usage: true},
}

func TestAuthorizeFlags(t *testing.T) {
	t.Parallel()
	runCases(t, false, append(sharedCases,
		// --force, --auth and --set belong to reauthorize only.
		flagCase{argv: []string{"crm", "--force"}, wantErr: "unknown flag: --force", usage: true},
		flagCase{argv: []string{"crm", "--auth", "api_key"}, wantErr: "unknown flag: --auth", usage: true},
		flagCase{argv: []string{"crm", "--set", "a=b"}, wantErr: "unknown flag: --set", usage: true},
		flagCase{argv: []string{"crm", "-s", "a=b"}, wantErr: "unknown shorthand flag: 's' in -s", usage: true},
	))
}

func TestReauthorizeFlags(t *testing.T) {
	t.Parallel()
	runCases(t, true, append(sharedCases,
		flagCase{argv: []string{"crm", "--force"}, want: Options{Name: "crm", Force: true, Timeout: 5 * time.Minute}},
		flagCase{argv: []string{"mp", "--auth", "service_account", "--set", "service_account_username=u", "-s", "region=eu,us", "--secret-stdin"},
			want:   Options{Name: "mp", Auth: "service_account", Set: []string{"service_account_username=u", "region=eu,us"}, Timeout: 5 * time.Minute},
			secret: secretflags.Flags{Stdin: true}},
		// --set without --auth is run's to refuse (it needs no flag group).
		flagCase{argv: []string{"mp", "--set", "a=b"}, want: Options{Name: "mp", Set: []string{"a=b"}, Timeout: 5 * time.Minute}},
		flagCase{argv: []string{"crm", "--auth"}, wantErr: "flag needs an argument: --auth", usage: true},
		flagCase{argv: []string{"crm", "--force=maybe"}, wantErr: `invalid argument "maybe"`, usage: true},
	))
}

func runCases(t *testing.T, re bool, tests []flagCase) {
	t.Helper()
	for _, tt := range tests {
		t.Run(strings.Join(tt.argv, " "), func(t *testing.T) {
			t.Parallel()
			got, err := parse(t, re, tt.argv)
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
			want := tt.want
			want.Re = re
			if !reflect.DeepEqual(*got, want) {
				t.Errorf("options %+v, want %+v", *got, want)
			}
		})
	}
}
