package export

import (
	"context"
	"strings"
	"testing"

	"github.com/connctl/connctl/internal/commands/cmdtest"
	"github.com/connctl/connctl/internal/deps"
	"github.com/connctl/connctl/internal/iostreams"
)

func TestExportFlags(t *testing.T) {
	t.Parallel()
	tests := []struct {
		argv    []string
		want    Options
		wantErr string
	}{
		{argv: nil},
		{argv: []string{"--secrets"}, want: Options{Secrets: true}},
		{argv: []string{"--file", "team.yaml", "--store", "-"}, want: Options{File: "team.yaml", Store: "-"}},
		{argv: []string{"-o", "json"}, wantErr: "unknown shorthand flag: 'o'"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.argv, " "), func(t *testing.T) {
			t.Parallel()
			ios, _, _, _ := iostreams.Test()
			var got *Options
			cmd := NewCmd(&deps.Deps{IO: ios}, func(_ context.Context, o *Options) error { got = o; return nil })
			err := cmdtest.Execute(cmd, append([]string{"export"}, tt.argv...))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got.Secrets != tt.want.Secrets || got.File != tt.want.File || got.Store != tt.want.Store {
				t.Fatalf("got secrets=%v file=%q store=%q", got.Secrets, got.File, got.Store)
			}
		})
	}
}
