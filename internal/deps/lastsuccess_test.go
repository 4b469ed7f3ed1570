package deps

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/connctl/connctl/internal/activitylog"
	"github.com/connctl/connctl/internal/iostreams"
)

// LastSuccess is each job's newest succeeded run's end: failed and
// partial runs and other jobs do not count; no log at all is no runs.
func TestLastSuccess(t *testing.T) {
	t.Parallel()
	ios, _, _, errOut := iostreams.Test()
	base := t.TempDir()
	t0 := time.Date(2026, 12, 4, 12, 0, 0, 0, time.UTC)
	d := &Deps{IO: ios, Getenv: func(k string) string {
		if k == "XDG_STATE_HOME" {
			return base
		}
		return ""
	}, Now: func() time.Time { return t0 }}
	if got := d.LastSuccess(context.Background(), []string{"job_1"}); len(got) != 0 {
		t.Fatalf("no log: %v", got)
	}
	store, err := activitylog.Open(filepath.Join(d.StateDir(), activitylog.FileName))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = store.Close() })
	d.Activities = func() (activitylog.Log, error) { return store, nil }
	ctx := context.Background()
	run := func(job string, st activitylog.Status, start time.Duration) {
		t.Helper()
		end := t0.Add(start + time.Minute)
		if _, err := store.Record(ctx, activitylog.Activity{Type: activitylog.TypeExecution, Action: "run", ConnectionID: "conn_1", ConnectionName: "crm",
			JobID: job, JobName: job, Status: st, Who: "me", StartedAt: t0.Add(start), FinishedAt: &end, Reason: reasonOf(st)}); err != nil {
			t.Fatal(err)
		}
	}
	run("job_1", activitylog.StatusSucceeded, 0)
	run("job_1", activitylog.StatusSucceeded, time.Hour)
	run("job_1", activitylog.StatusFailed, 2*time.Hour)
	run("job_2", activitylog.StatusPartiallySucceeded, 0)
	got := d.LastSuccess(ctx, []string{"job_1", "job_2", "job_3"})
	if len(got) != 1 || !got["job_1"].Equal(t0.Add(time.Hour+time.Minute)) {
		t.Fatalf("last success %v", got)
	}
	if errOut.Len() != 0 {
		t.Errorf("stderr %q", errOut)
	}
}

func reasonOf(st activitylog.Status) activitylog.Reason {
	if st == activitylog.StatusFailed || st == activitylog.StatusPartiallySucceeded {
		return activitylog.ReasonSourceError
	}
	return ""
}
