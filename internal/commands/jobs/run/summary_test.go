package run

import (
	"errors"
	"testing"
	"time"

	"github.com/connctl/connctl/internal/activitylog"
	"github.com/connctl/connctl/internal/configstore"
	"github.com/connctl/connctl/internal/iostreams"
	"github.com/connctl/connctl/internal/jobrunner"
	"github.com/connctl/connctl/internal/jobs"
)

func TestSummaryLines(t *testing.T) {
	t.Parallel()
	job := configstore.Job{Name: "tickets", Dest: "-"}
	partialErr := errors.New(`job "tickets": the hour's queries are spent`)
	tests := []struct {
		name    string
		res     jobs.Result
		err     error
		wantErr error
		stderr  string
	}{
		{name: "success", res: jobs.Result{Job: job, Counts: activitylog.Counts{Records: 1, Pages: 1}, Elapsed: 1234 * time.Millisecond},
			stderr: "tickets: 1 record in 1 page (1.23s) → stdout\n"},
		{name: "records without cursor", res: jobs.Result{Job: configstore.Job{Name: "issues", Dest: "/data/issues.ndjson"},
			Counts: activitylog.Counts{Records: 5, Pages: 2, WithoutCursor: 2}, Elapsed: 10 * time.Millisecond},
			stderr: "warning: issues: 2 records had no incremental field; they were written but did not move the checkpoint\n" +
				"issues: 5 records in 2 pages (10ms) → /data/issues.ndjson\n"},
		{name: "partial", res: jobs.Result{Job: job, Counts: activitylog.Counts{Records: 3, Pages: 1}, Partial: &jobrunner.Partial{}},
			err: partialErr, wantErr: partialErr,
			stderr: "warning: tickets: 3 records in 1 page kept; the run stopped early\n"},
		{name: "failure", res: jobs.Result{Job: job}, err: partialErr, wantErr: partialErr, stderr: ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ios, _, _, stderr := iostreams.Test()
			if err := summarize(ios, tt.res, tt.err); !errors.Is(err, tt.wantErr) || (err == nil) != (tt.wantErr == nil) {
				t.Fatalf("error %v, want %v", err, tt.wantErr)
			}
			if stderr.String() != tt.stderr {
				t.Fatalf("stderr\n%q\nwant\n%q", stderr.String(), tt.stderr)
			}
		})
	}
}

func TestProgressLineOnlyOnATerminal(t *testing.T) {
	t.Parallel()
	ios, _, _, stderr := iostreams.Test()
	if progressLine(ios) != nil {
		t.Fatal("a progress line when stderr is piped")
	}
	ios.SetTTY(false, false, true)
	p := progressLine(ios)
	s := &jobrunner.Stats{}
	s.Records.Store(300)
	s.Pages.Store(3)
	p(jobs.Progress{Job: "tickets", Stats: s, Elapsed: 1500 * time.Millisecond})
	p(jobs.Progress{Job: "tickets", Stats: s, Elapsed: 1500 * time.Millisecond, Done: true})
	want := "\r\x1b[Ktickets: 300 records, 3 pages, 200/s, 1.5s" + "\r\x1b[K"
	if stderr.String() != want {
		t.Fatalf("stderr %q, want %q", stderr.String(), want)
	}
}
