package pgstore_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/connctl/connctl/internal/activitylog"
	"github.com/connctl/connctl/internal/activitylog/activitylogtest"
	"github.com/connctl/connctl/internal/pgstore"
	"github.com/connctl/connctl/internal/testpeer/postgres"
)

func TestLogConformance(t *testing.T) {
	srv := postgres.Start(t)
	activitylogtest.RunConformance(t, func(t *testing.T) func() (activitylog.Log, error) {
		url := srv.NewDatabase(t)
		return func() (activitylog.Log, error) {
			return open(t, url, "tester", "test-host").Log(), nil
		}
	})
}

// A run of another machine is live while its process holds the run's
// lock, and stale once the process is gone (its connection closed): then
// any machine may run the job again.
func TestRunOfAnotherMachineIsStaleWhenItsProcessIsGone(t *testing.T) {
	srv := postgres.Start(t)
	url := srv.NewDatabase(t)
	ctx := context.Background()
	a, b := open(t, url, "alice", "machine-a").Log(), open(t, url, "bob", "machine-b").Log()
	t.Cleanup(func() { _ = a.Close(); _ = b.Close() })
	t0 := time.Now().UTC()
	run := activitylog.Activity{Type: activitylog.TypeExecution, JobID: "j1", JobName: "hourly", ConnectionID: "c1", StartedAt: t0}
	id, err := a.BeginDueRun(ctx, run, t0.Add(-time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if got, err := b.Get(ctx, id); err != nil || got.Status != activitylog.StatusRunning {
		t.Fatalf("another machine's live run reads %+v, %v; want running", got, err)
	}
	var re *activitylog.RunningError
	if _, err := b.BeginDueRun(ctx, run, t0.Add(-time.Hour)); !errors.As(err, &re) || re.Host != "machine-a" {
		t.Fatalf("BeginDueRun beside another machine's live run = %v, want a *RunningError", err)
	}
	pgstore.Crash(a)
	// The server ends the session (and its lock) a moment after the
	// client closed it.
	waitFor(t, "the run reads as stale after its process died", func() bool {
		got, err := b.Get(ctx, id)
		return err == nil && got.Status == activitylog.StatusStale
	})
	if n, err := b.FailedSince(ctx, t0.Add(-time.Minute)); err != nil || n["c1"] != 1 {
		t.Errorf("FailedSince = %v, %v; want the stale run counted", n, err)
	}
	id2, err := b.BeginDueRun(ctx, run, t0.Add(-time.Hour))
	if err != nil {
		t.Fatalf("BeginDueRun after the other machine's run died: %v", err)
	}
	if err := b.Finish(ctx, id2, activitylog.StatusSucceeded, "", "", activitylog.Counts{}); err != nil {
		t.Fatal(err)
	}
	var ne *activitylog.NotDueError
	if _, err := a.BeginDueRun(ctx, run, t0.Add(-time.Hour)); !errors.As(err, &ne) || ne.Host != "machine-b" || ne.Who != "bob" {
		t.Fatalf("BeginDueRun after machine-b ran it = %v, want a *NotDueError naming bob on machine-b", err)
	}
}
