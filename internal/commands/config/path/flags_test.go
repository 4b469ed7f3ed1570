package path

import (
	"context"
	"io"
	"strings"
	"testing"

	"github.com/connctl/connctl/internal/deps"
	"github.com/connctl/connctl/internal/iostreams"
)

func TestPathFlags(t *testing.T) {
	t.Parallel()
	tests := []struct {
		argv    []string
		wantErr string
	}{
		{argv: nil},
		{argv: []string{"extra"}, wantErr: `unknown command "extra"`},
		{argv: []string{"-o", "json"}, wantErr: "unknown shorthand flag: 'o'"},
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
			if got.IO != ios || got.ConfigPath == nil {
				t.Error("IO or ConfigPath not wired from deps")
			}
		})
	}
}
