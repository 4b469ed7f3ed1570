package teaminit

import (
	"context"
	"strings"
	"testing"

	"github.com/connctl/connctl/internal/commands/cmdtest"
	"github.com/connctl/connctl/internal/deps"
	"github.com/connctl/connctl/internal/exitcode"
	"github.com/connctl/connctl/internal/iostreams"
)

func TestInitFlags(t *testing.T) {
	t.Parallel()
	tests := []struct {
		argv         []string
		store, vault string
		wantErr      string
	}{
		{argv: []string{"--store", "postgres://u@h/db"}, store: "postgres://u@h/db"},
		{argv: []string{"--store", "-", "--vault", "https://v:8200"}, store: "-", vault: "https://v:8200"},
		{argv: nil, wantErr: "name the team store: --store"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.argv, " "), func(t *testing.T) {
			t.Parallel()
			ios, _, _, _ := iostreams.Test()
			var got *Options
			cmd := NewCmd(&deps.Deps{IO: ios}, func(_ context.Context, o *Options) error { got = o; return nil })
			err := cmdtest.Execute(cmd, append([]string{"init"}, tt.argv...))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) || exitcode.FromError(err) != exitcode.Usage {
					t.Fatalf("err = %v (exit %d), want %q, exit 2", err, exitcode.FromError(err), tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got.Store != tt.store || got.Vault != tt.vault {
				t.Fatalf("store %q vault %q", got.Store, got.Vault)
			}
		})
	}
}
