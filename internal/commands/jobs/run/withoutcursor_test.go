package run

import (
	"errors"
	"testing"

	"github.com/connctl/connctl/internal/activitylog"
	"github.com/connctl/connctl/internal/configstore"
	"github.com/connctl/connctl/internal/iostreams"
	"github.com/connctl/connctl/internal/jobrunner"
	"github.com/connctl/connctl/internal/jobs"
)

// A run that stopped early keeps its output, records without the
// incremental field included: it warns about them as a success does. A
// failed run keeps nothing, so it does not.
func TestSummaryWarnsWithoutCursorOnPartialRuns(t *testing.T) {
	t.Parallel()
	job := configstore.Job{Name: "users", Dest: "-"}
	stop := errors.New(`job "users": the hour's queries are spent`)
	counts := activitylog.Counts{Records: 4, Pages: 1, WithoutCursor: 1}

	ios, _, _, stderr := iostreams.Test()
	if err := summarize(ios, jobs.Result{Job: job, Counts: counts, Partial: &jobrunner.Partial{}}, stop); !errors.Is(err, stop) {
		t.Fatalf("error %v, want %v", err, stop)
	}
	want := "warning: users: 4 records in 1 page kept; the run stopped early\n" +
		"warning: users: 1 record had no incremental field; it was written but did not move the checkpoint\n"
	if stderr.String() != want {
		t.Errorf("stderr\n%q\nwant\n%q", stderr.String(), want)
	}

	ios, _, _, stderr = iostreams.Test()
	if err := summarize(ios, jobs.Result{Job: job, Counts: counts}, stop); !errors.Is(err, stop) {
		t.Fatalf("error %v, want %v", err, stop)
	}
	if stderr.String() != "" {
		t.Errorf("a failed run warned %q", stderr.String())
	}
}
