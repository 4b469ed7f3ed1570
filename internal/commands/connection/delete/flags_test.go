package delete

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

// parse runs `delete argv` up to run, under a parent that wraps flag errors
// as the root command does, and returns the options it was given without
// the injected dependencies. The Deps given hold only IO: building the
// command must not need a config, a keyring or a network.
func parse(t *testing.T, argv []string) (*Options, error) {
	t.Helper()
	ios, _, _, _ := iostreams.Test()
	var got *Options
	cmd := NewCmd(&deps.Deps{IO: ios}, func(_ context.Context, o *Options) error {
		c := *o
		c.IO, c.Connections, c.Jobs, c.Authz, c.ActivitiesIfAny = nil, nil, nil, nil, nil
		got = &c
		return nil
	})
	return got, cmdtest.Execute(cmd, argv)
}

func TestDeleteFlags(t *testing.T) {
	t.Parallel()
	tests := []struct {
		argv    []string
		want    Options
		wantErr string
		usage   bool // a flag error: exit 2 (app.Run maps argument counts and flag groups to 2)
	}{
		{argv: []string{"delete", "crm"}, want: Options{Names: []string{"crm"}}},
		{argv: []string{"rm", "crm"}, want: Options{Names: []string{"crm"}}},
		{argv: []string{"delete", "crm", "support", "crm"}, want: Options{Names: []string{"crm", "support", "crm"}}},
		{argv: []string{"delete", "crm", "--yes"}, want: Options{Names: []string{"crm"}, Yes: true}},
		{argv: []string{"delete", "-y", "crm"}, want: Options{Names: []string{"crm"}, Yes: true}},
		{argv: []string{"delete", "crm", "--cascade"}, want: Options{Names: []string{"crm"}, Cascade: true}},
		{argv: []string{"delete", "crm", "--keep-remote"}, want: Options{Names: []string{"crm"}, KeepRemote: true}},
		{argv: []string{"delete", "crm", "--keep-secrets"}, want: Options{Names: []string{"crm"}, KeepSecrets: true}},
		{argv: []string{"delete", "crm", "a", "-y", "--cascade", "--keep-remote", "--keep-secrets"},
			want: Options{Names: []string{"crm", "a"}, Yes: true, Cascade: true, KeepRemote: true, KeepSecrets: true}},
		// Names after -- are names, even when they look like flags.
		{argv: []string{"delete", "--", "-odd"}, want: Options{Names: []string{"-odd"}}},
		{argv: []string{"delete"}, wantErr: "requires at least 1 arg(s), only received 0"},
		{argv: []string{"delete", "-y"}, wantErr: "requires at least 1 arg(s), only received 0"},
		{argv: []string{"delete", "crm", "--force"}, wantErr: "unknown flag: --force", usage: true},
		{argv: []string{"delete", "crm", "-o", "json"}, wantErr: "unknown shorthand flag: 'o'", usage: true},
		{argv: []string{"delete", "crm", "--cascade=maybe"}, wantErr: `invalid argument "maybe"`, usage: true},
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
			if !reflect.DeepEqual(*got, tt.want) {
				t.Errorf("options %+v, want %+v", *got, tt.want)
			}
		})
	}
}
