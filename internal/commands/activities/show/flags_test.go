package show

import (
	"context"
	"io"
	"reflect"
	"strings"
	"testing"

	"github.com/connctl/connctl/internal/deps"
	"github.com/connctl/connctl/internal/iostreams"
)

// parse runs `activities show argv` up to run and returns the options it
// was given, without the injected dependencies.
func parse(t *testing.T, argv []string) (*Options, error) {
	t.Helper()
	ios, _, _, _ := iostreams.Test()
	var got *Options
	cmd := NewCmd(&deps.Deps{IO: ios}, func(_ context.Context, o *Options) error {
		c := *o
		c.IO, c.Activities, c.Now = nil, nil, nil
		got = &c
		return nil
	})
	cmd.SetArgs(argv)
	cmd.SetOut(io.Discard)
	cmd.SetErr(io.Discard)
	cmd.SilenceUsage, cmd.SilenceErrors = true, true
	return got, cmd.Execute()
}

func TestShowFlags(t *testing.T) {
	t.Parallel()
	tests := []struct {
		argv    []string
		want    Options
		export  bool
		wantErr string
	}{
		{argv: []string{"47"}, want: Options{ID: "47"}},
		// The ID is checked by run, so that the message names it.
		{argv: []string{"#47", "-o", "json"}, want: Options{ID: "#47"}, export: true},
		{argv: nil, wantErr: "give one activity ID"},
		{argv: []string{"1", "2"}, wantErr: "give one activity ID"},
		{argv: []string{"47", "--failed"}, wantErr: "unknown flag: --failed"},
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
			if (got.Export != nil) != tt.export {
				t.Errorf("export %v, want %v", got.Export != nil, tt.export)
			}
			got.Export = nil
			if !reflect.DeepEqual(*got, tt.want) {
				t.Errorf("options %+v, want %+v", *got, tt.want)
			}
		})
	}
}
