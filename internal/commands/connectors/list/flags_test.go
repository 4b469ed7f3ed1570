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
		{argv: []string{"-o", "tsv"}, export: true},
		{argv: []string{"--jq", ".[] | select(.multiple) | .id"}, export: true},
		{argv: []string{"-o", "html"}, wantErr: "html"},
		{argv: []string{"freshdesk"}, wantErr: `unknown command "freshdesk"`},
		{argv: []string{"--connector", "x"}, wantErr: "unknown flag: --connector"},
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
			if got.IO != ios {
				t.Error("IO is not that of deps")
			}
		})
	}
}
