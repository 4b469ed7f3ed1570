package set

import (
	"context"
	"io"
	"reflect"
	"strings"
	"testing"

	"github.com/connctl/connctl/internal/deps"
	"github.com/connctl/connctl/internal/iostreams"
)

// parse runs `config set argv` up to run and returns the options it was
// given, without the injected dependencies.
func parse(t *testing.T, argv []string) (*Options, error) {
	t.Helper()
	ios, _, _, _ := iostreams.Test()
	var got *Options
	cmd := NewCmd(&deps.Deps{IO: ios}, func(_ context.Context, o *Options) error {
		c := *o
		c.IO, c.Config, c.Settings, c.Connections, c.SecretBackend, c.SecretsFile = nil, nil, nil, nil, nil, nil
		got = &c
		return nil
	})
	cmd.SetArgs(argv)
	cmd.SetOut(io.Discard)
	cmd.SetErr(io.Discard)
	cmd.SilenceUsage, cmd.SilenceErrors = true, true
	return got, cmd.Execute()
}

func TestSetFlags(t *testing.T) {
	t.Parallel()
	tests := []struct {
		argv    []string
		want    Options
		wantErr string
	}{
		{argv: []string{"limits.crm", "2"}, want: Options{Key: "limits.crm", Value: "2"}},
		// A value that looks like a flag is still the value.
		{argv: []string{"limits.crm", "-1"}, want: Options{Key: "limits.crm", Value: "-1"}},
		{argv: []string{"secrets.backend", "file", "--migrate"}, want: Options{Key: "secrets.backend", Value: "file", Migrate: true}},
		{argv: []string{"--migrate", "secrets.backend", "file"}, want: Options{Key: "secrets.backend", Value: "file", Migrate: true}},
		{argv: []string{"secrets.backend", "file", "--migrate=true"}, want: Options{Key: "secrets.backend", Value: "file", Migrate: true}},
		{argv: nil, wantErr: "missing <key> and <value>"},
		{argv: []string{"limits.crm"}, wantErr: "missing <value> for limits.crm"},
		{argv: []string{"no.such"}, wantErr: `unknown setting "no.such"`},
		{argv: []string{"no.such", "1"}, wantErr: `unknown setting "no.such"`},
		{argv: []string{"limits.crm", "2", "3"}, wantErr: `unexpected "3" after the value`},
		{argv: []string{"limits.crm", "2", "--yes"}, wantErr: "unknown flag: --yes"},
		{argv: []string{"--yes", "limits.crm", "2"}, wantErr: "unknown flag: --yes"},
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
			if !reflect.DeepEqual(*got, tt.want) {
				t.Errorf("options %+v, want %+v", *got, tt.want)
			}
		})
	}
}
