package resume

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/connctl/connctl/internal/commands/cmdtest"
	"github.com/connctl/connctl/internal/configstore"
	"github.com/connctl/connctl/internal/deps"
	"github.com/connctl/connctl/internal/iostreams"
)

func TestResumeFlags(t *testing.T) {
	t.Parallel()
	tests := []struct {
		argv    []string
		want    []string
		wantErr string
	}{
		{argv: []string{"resume", "tickets"}, want: []string{"tickets"}},
		{argv: []string{"resume", "a", "b"}, want: []string{"a", "b"}},
		{argv: []string{"resume"}, wantErr: "requires at least 1 arg(s), only received 0"},
		{argv: []string{"resume", "t", "--all"}, wantErr: "unknown flag: --all"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.argv, " "), func(t *testing.T) {
			t.Parallel()
			ios, _, _, _ := iostreams.Test()
			var got []string
			cmd := NewCmd(&deps.Deps{IO: ios}, func(_ context.Context, o *Options) error {
				got = o.Names
				return nil
			})
			err := cmdtest.Execute(cmd, tt.argv)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("names %q, %v; want %q", got, err, tt.want)
			}
		})
	}
}

type fakeResumer map[string]bool // name -> paused

func (f fakeResumer) Resume(_ context.Context, name string) (*configstore.Job, bool, error) {
	paused, ok := f[name]
	if !ok {
		return nil, false, errors.New(`job "` + name + `" not found`)
	}
	f[name] = false
	return &configstore.Job{Name: name}, paused, nil
}

func TestResumeRun(t *testing.T) {
	t.Parallel()
	ios, _, _, stderr := iostreams.Test()
	f := fakeResumer{"tickets": true, "contacts": false}
	err := run(context.Background(), &Options{IO: ios, Jobs: func() (Resumer, error) { return f, nil }, Names: []string{"tickets", "contacts", "tickets"}})
	if err != nil {
		t.Fatal(err)
	}
	want := "Resumed job tickets\nJob contacts is not paused\nJob tickets is not paused\n"
	if got := stderr.String(); got != want {
		t.Errorf("stderr = %q, want %q", got, want)
	}
	err = run(context.Background(), &Options{IO: ios, Jobs: func() (Resumer, error) { return f, nil }, Names: []string{"nosuch"}})
	if err == nil {
		t.Error("an unknown job was resumed")
	}
}
