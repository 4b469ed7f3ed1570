package list

import (
	"context"
	"io"
	"strings"
	"testing"

	"github.com/connctl/connctl/internal/deps"
	"github.com/connctl/connctl/internal/iostreams"
)

func TestListFlags(t *testing.T) {
	t.Parallel()
	tests := []struct {
		argv    []string
		export  bool
		wantErr string
	}{
		{argv: nil},
		{argv: []string{"-o", "json"}, export: true},
		{argv: []string{"--jq", ".[].key"}, export: true},
		{argv: []string{"-o", "xml"}, wantErr: "xml"},
		{argv: []string{"-o", "json", "--template", "x"}, wantErr: "template"},
		{argv: []string{"limits.crm"}, wantErr: `unknown command "limits.crm"`},
		{argv: []string{"--migrate"}, wantErr: "unknown flag: --migrate"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.argv, " "), func(t *testing.T) {
			t.Parallel()
			ios, _, _, _ := iostreams.Test()
			var got *Options
			cmd := NewCmd(&deps.Deps{IO: ios}, func(_ context.Context, o *Options) error { got = o; return nil })
			cmd.SetArgs(tt.argv)
			cmd.SetOut(io.Discard)
			cmd.SetErr(io.Discard)
			cmd.SilenceUsage, cmd.SilenceErrors = true, true
			err := cmd.Execute()
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
			// Config is deps' Settings: the local file only.
			if got.IO != ios || got.Config == nil {
				t.Error("IO and Config are not those of deps")
			}
		})
	}
}
