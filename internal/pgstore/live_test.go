package pgstore_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/connctl/connctl/internal/activitylog"
	"github.com/connctl/connctl/internal/pgstore"
	"github.com/connctl/connctl/internal/testpeer/postgres"
)

// waitFor polls cond until it holds; the limit only ends a test that
// would otherwise hang.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within 60s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// A run whose session ends with a server restart takes its lock again
// when the server is back: other machines read it as live again, it saves
// its checkpoint and is finished, and it was never told it lost its claim.
func TestRunReclaimsItsLockAfterARestart(t *testing.T) {
	srv := postgres.Start(t)
	url := srv.NewDatabase(t)
	ctx := context.Background()
	a := open(t, url, "alice", "machine-a").Log()
	pgstore.SetWatchTimes(a, 50*time.Millisecond, time.Minute)
	id, err := a.BeginRun(ctx, activitylog.Activity{Type: activitylog.TypeExecution, JobID: "j1", JobName: "hourly", ConnectionID: "c1"})
	if err != nil {
		t.Fatal(err)
	}
	lost := make(chan error, 1)
	stop := a.WatchClaim(ctx, id, func(err error) { lost <- err })
	defer stop()
	if err := srv.Restart(); err != nil {
		t.Fatal(err)
	}
	b := open(t, url, "bob", "machine-b").Log()
	waitFor(t, "the run reads as running again", func() bool {
		got, err := b.Get(ctx, id)
		return err == nil && got.Status == activitylog.StatusRunning
	})
	var re *activitylog.RunningError
	if _, err := b.BeginRun(ctx, activitylog.Activity{Type: activitylog.TypeExecution, JobID: "j1", JobName: "hourly", ConnectionID: "c1"}); !errors.As(err, &re) {
		t.Fatalf("BeginRun beside the reclaimed run = %v; want a *RunningError", err)
	}
	if err := a.SetRunCheckpoint(ctx, id, "j1", "cp-1"); err != nil {
		t.Fatalf("SetRunCheckpoint after the reclaim: %v", err)
	}
	if err := a.Finish(ctx, id, activitylog.StatusSucceeded, "", "", activitylog.Counts{}); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-lost:
		t.Fatalf("the run was told it lost its claim: %v", err)
	default:
	}
	if v, ok, err := b.Checkpoint(ctx, "j1"); err != nil || !ok || v != "cp-1" {
		t.Fatalf("checkpoint = %q, %v, %v; want cp-1", v, ok, err)
	}
}

// A run whose session ended while another machine began the job (reading
// it stale) has lost its claim: the watch says so, its checkpoint write is
// refused, and it is recorded failed; the other run's checkpoint stands.
func TestRunLosesItsClaimWhenAnotherBeganMeanwhile(t *testing.T) {
	srv := postgres.Start(t)
	url := srv.NewDatabase(t)
	ctx := context.Background()
	a := open(t, url, "alice", "machine-a").Log()
	run := activitylog.Activity{Type: activitylog.TypeExecution, JobID: "j1", JobName: "hourly", ConnectionID: "c1"}
	id, err := a.BeginRun(ctx, run)
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Restart(); err != nil {
		t.Fatal(err)
	}
	b := open(t, url, "bob", "machine-b").Log()
	id2, err := b.BeginRun(ctx, run)
	if err != nil {
		t.Fatalf("BeginRun while the first run's session is gone: %v", err)
	}
	if err := b.SetRunCheckpoint(ctx, id2, "j1", "cp-b"); err != nil {
		t.Fatal(err)
	}
	pgstore.SetWatchTimes(a, 50*time.Millisecond, time.Minute)
	lost := make(chan error, 1)
	stop := a.WatchClaim(ctx, id, func(err error) { lost <- err })
	defer stop()
	var got error
	waitFor(t, "the watch reports the lost claim", func() bool {
		select {
		case got = <-lost:
			return true
		default:
			return false
		}
	})
	if !errors.Is(got, activitylog.ErrClaimLost) {
		t.Fatalf("lost(%v); want ErrClaimLost", got)
	}
	t.Logf("the first run was told: %v", got)
	if err := a.SetRunCheckpoint(ctx, id, "j1", "cp-a"); !errors.Is(err, activitylog.ErrClaimLost) {
		t.Fatalf("SetRunCheckpoint of the run that lost its claim = %v; want ErrClaimLost", err)
	}
	if err := a.Finish(ctx, id, activitylog.StatusFailed, activitylog.ReasonNetwork, got.Error(), activitylog.Counts{}); err != nil {
		t.Fatal(err)
	}
	if v, _, _ := b.Checkpoint(ctx, "j1"); v != "cp-b" {
		t.Fatalf("checkpoint = %q; want the live run's cp-b", v)
	}
	if act, err := b.Get(ctx, id); err != nil || act.Status != activitylog.StatusFailed {
		t.Fatalf("the first run reads %v, %v; want failed", act.Status, err)
	}
	if err := b.Finish(ctx, id2, activitylog.StatusSucceeded, "", "", activitylog.Counts{}); err != nil {
		t.Fatal(err)
	}
}

// Finish retries while the server restarts: a run that ended then is
// recorded once the server is back.
func TestFinishWaitsForTheServer(t *testing.T) {
	srv := postgres.Start(t)
	url := srv.NewDatabase(t)
	ctx := context.Background()
	a := open(t, url, "alice", "machine-a").Log()
	pgstore.SetWatchTimes(a, time.Hour, 2*time.Minute)
	id, err := a.BeginRun(ctx, activitylog.Activity{Type: activitylog.TypeExecution, JobID: "j1", JobName: "hourly", ConnectionID: "c1"})
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Halt(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- a.Finish(ctx, id, activitylog.StatusSucceeded, "", "", activitylog.Counts{Records: 3}) }()
	if err := srv.Resume(); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatalf("Finish across a restart: %v", err)
	}
	b := open(t, url, "bob", "machine-b").Log()
	if act, err := b.Get(ctx, id); err != nil || act.Status != activitylog.StatusSucceeded || act.Records != 3 {
		t.Fatalf("the run reads %+v, %v; want succeeded with 3 records", act, err)
	}
}

// SwapRunCheckpoint saves through the run's claim only if the checkpoint
// is still the one the run began from: a checkpoint another machine set
// meanwhile (`jobs edit --checkpoint`) stands.
func TestSwapRunCheckpoint(t *testing.T) {
	srv := postgres.Start(t)
	url := srv.NewDatabase(t)
	ctx := context.Background()
	a := open(t, url, "alice", "machine-a").Log()
	b := open(t, url, "bob", "machine-b").Log()
	p := func(s string) *string { return &s }
	id, err := a.BeginRun(ctx, activitylog.Activity{Type: activitylog.TypeExecution, JobID: "j1", JobName: "hourly", ConnectionID: "c1"})
	if err != nil {
		t.Fatal(err)
	}
	if ok, err := a.SwapRunCheckpoint(ctx, id, "j1", nil, p("cp-1")); err != nil || !ok {
		t.Fatalf("first save = %v, %v", ok, err)
	}
	if err := b.SetCheckpoint(ctx, "j1", "edited"); err != nil {
		t.Fatal(err)
	}
	if ok, err := a.SwapRunCheckpoint(ctx, id, "j1", p("cp-1"), p("cp-2")); err != nil || ok {
		t.Fatalf("save over an edit = %v, %v; want false", ok, err)
	}
	if v, _, _ := b.Checkpoint(ctx, "j1"); v != "edited" {
		t.Fatalf("checkpoint %q, want the edit", v)
	}
	if err := a.Finish(ctx, id, activitylog.StatusSucceeded, "", "", activitylog.Counts{}); err != nil {
		t.Fatal(err)
	}
}
