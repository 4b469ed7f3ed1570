package create

import (
	"context"
	"io"
	"reflect"
	"strings"
	"testing"

	"github.com/connctl/connctl/internal/connection"
	"github.com/connctl/connctl/internal/deps"
	"github.com/connctl/connctl/internal/exitcode"
	"github.com/connctl/connctl/internal/iostreams"
	"github.com/connctl/connctl/internal/jobs"
)

// parse runs `jobs create argv` up to run and returns the options it was
// given, without the injected dependencies.
func parse(t *testing.T, argv []string) (*Options, error) {
	t.Helper()
	ios, _, _, _ := iostreams.Test()
	var got *Options
	cmd := NewCmd(&deps.Deps{IO: ios}, func(_ context.Context, o *Options) error {
		c := *o
		c.IO, c.Config, c.Catalog, c.Jobs, c.Activities, c.CreateDefaults = nil, nil, nil, nil, nil, nil
		got = &c
		return nil
	})
	cmd.SetArgs(argv)
	cmd.SetOut(io.Discard)
	cmd.SetErr(io.Discard)
	cmd.SilenceUsage, cmd.SilenceErrors = true, true
	return got, cmd.Execute()
}

func TestCreateFlags(t *testing.T) {
	t.Parallel()
	tests := []struct {
		argv    []string
		want    Options
		export  bool
		wantErr string // usage errors (exit 2) of connctl's own have wantUsage
		usage   bool
	}{
		{argv: []string{"tickets", "--connection", "support", "--source", "tickets"},
			want: Options{Spec: jobs.Spec{Name: "tickets", Connection: "support", Source: "tickets", Dest: "-", NotifyOn: "failure"}}},
		{argv: []string{"tickets", "--connection", "support", "--source", "tickets", "--notify-on", "always"},
			want: Options{Spec: jobs.Spec{Name: "tickets", Connection: "support", Source: "tickets", Dest: "-", NotifyOn: "always"}}},
		{argv: []string{"tickets", "--connection", "support", "--source", "tickets", "--notify-on", "never"},
			want: Options{Spec: jobs.Spec{Name: "tickets", Connection: "support", Source: "tickets", Dest: "-", NotifyOn: "never"}}},
		{argv: []string{"tickets", "--connection", "support", "--source", "tickets", "--notify-on", "sometimes"}, usage: true,
			wantErr: `--notify-on "sometimes": choose failure, always or never`},
		{argv: []string{"--default-jobs", "--connection", "support", "--notify-on", "always"}, usage: true,
			wantErr: "--default-jobs names its jobs <connection>-<source>: drop --notify-on"},
		{argv: []string{"t", "--connection", "s", "--source", "http", "--param", "url=https://x/?a=b", "--param", "path=",
			"--dest", "out.csv", "--format", "csv", "--full-refresh", "--schedule", "every 15m", "-o", "json"},
			want: Options{Spec: jobs.Spec{Name: "t", Connection: "s", Source: "http",
				Params: []connection.Assignment{{Key: "url", Value: "https://x/?a=b"}, {Key: "path", Value: ""}},
				Dest:   "out.csv", Format: "csv", FullRefresh: true, Schedule: "every 15m", NotifyOn: "failure"}}, export: true},
		{argv: []string{"--default-jobs", "--connection", "support"},
			want: Options{DefaultJobs: true, Spec: jobs.Spec{Connection: "support", Dest: "-", NotifyOn: "failure"}}},
		{argv: []string{"--default-jobs", "--connection", "support", "--dest", "x.ndjson"}, usage: true,
			wantErr: "--default-jobs names its jobs <connection>-<source>: drop --dest"},
		{argv: []string{"--default-jobs", "--connection", "support", "-o", "json"}, usage: true,
			wantErr: "--default-jobs names its jobs <connection>-<source>: drop --output"},
		{argv: []string{"mine", "--default-jobs", "--connection", "support"}, usage: true,
			wantErr: "--default-jobs names its jobs <connection>-<source>: drop the job name mine"},
		{argv: []string{"--default-jobs"}, usage: true, wantErr: "--default-jobs needs --connection <name>"},
		{argv: nil, usage: true, wantErr: "give the job's name: `connctl jobs create <name> --connection C --source S` (or --default-jobs)"},
		{argv: []string{"t", "--connection", "s"}, usage: true, wantErr: "--connection and --source are required"},
		{argv: []string{"t", "--source", "x"}, usage: true, wantErr: "--connection and --source are required"},
		{argv: []string{"t", "--connection", "s", "--source", "x", "--param", "nokv"}, usage: true, wantErr: `--param "nokv" is not key=value`},
		{argv: []string{"a", "b"}, wantErr: "accepts at most 1 arg(s), received 2"},
		{argv: []string{"t", "--full-refresh=maybe"}, wantErr: `invalid argument "maybe" for "--full-refresh"`},
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
