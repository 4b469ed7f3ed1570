package jobs

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/connctl/connctl/internal/activitylog"
	"github.com/connctl/connctl/internal/exitcode"
	"github.com/connctl/connctl/internal/pgstore"
)

// claimLog is the hook log as a ClaimWatcher: lose, when set, is given
// the function that reports a lost claim (the test calls it); fenced
// counts the checkpoints written through SetRunCheckpoint.
type claimLog struct {
	*hookLog
	lose    chan func(error)
	fenced  int
	holdErr error
}

func (c *claimLog) WatchClaim(_ context.Context, _ int64, lost func(error)) func() {
	if c.lose != nil {
		c.lose <- lost
	}
	return func() {}
}

func (c *claimLog) HoldClaim(context.Context, int64) error { return c.holdErr }

func (c *claimLog) SetRunCheckpoint(ctx context.Context, _ int64, jobID, value string) error {
	c.fenced++
	return c.SetCheckpoint(ctx, jobID, value)
}

var errLostForTest = fmt.Errorf("%w: run 2 began on machine-b meanwhile", activitylog.ErrClaimLost)

// A run told it lost its claim mid-run stops: failed, exit 1, no output
// and no checkpoint, the cause in its activity.
func TestRunThatLostItsClaimStops(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	cl := &claimLog{hookLog: f.log, lose: make(chan func(error), 1)}
	f.runner.Log = cl
	f.src.fetch = blockUntilDone
	go func() { lost := <-cl.lose; lost(errLostForTest) }()
	_, err := f.runner.Run(context.Background(), "tickets", RunOptions{})
	if exitcode.FromError(err) != exitcode.Failure || !strings.Contains(err.Error(), `job "tickets" stopped: `) || !errors.Is(err, activitylog.ErrClaimLost) {
		t.Fatalf("error %v; want exit 1 wrapping ErrClaimLost", err)
	}
	if _, err := os.Stat(f.dest); !os.IsNotExist(err) {
		t.Fatalf("output written by a run that lost its claim: %v", err)
	}
	if cp := f.checkpoint(t, "job_1"); cp != "" {
		t.Fatalf("checkpoint %q", cp)
	}
	if a := f.lastRun(t, "job_1"); a.Status != activitylog.StatusFailed || a.Reason != activitylog.ReasonNetwork || !strings.Contains(a.Message, "machine-b") {
		t.Fatalf("activity %+v", a)
	}
}

// The checkpoint of a ClaimWatcher's run goes through SetRunCheckpoint
// (fenced by the claim).
func TestRunCheckpointIsFencedByTheClaim(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	cl := &claimLog{hookLog: f.log}
	f.runner.Log = cl
	f.src.records, f.src.checkpoint = records(1), "2026-12-01T09:00:00Z"
	if _, err := f.runner.Run(context.Background(), "tickets", RunOptions{}); err != nil {
		t.Fatal(err)
	}
	if cl.fenced != 1 || f.checkpoint(t, "job_1") != "2026-12-01T09:00:00Z" {
		t.Fatalf("SetRunCheckpoint called %d times, checkpoint %q", cl.fenced, f.checkpoint(t, "job_1"))
	}
}

// fencedLog refuses the checkpoint: the run lost its claim after it
// fetched everything.
type fencedLog struct{ claimLog }

func (c *fencedLog) SetRunCheckpoint(context.Context, int64, string, string) error {
	return errLostForTest
}

func TestRunWhoseCheckpointIsRefusedFails(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.runner.Log = &fencedLog{claimLog{hookLog: f.log}}
	f.src.records, f.src.checkpoint = records(1), "2026-12-01T09:00:00Z"
	_, err := f.runner.Run(context.Background(), "tickets", RunOptions{})
	if exitcode.FromError(err) != exitcode.Failure || !errors.Is(err, activitylog.ErrClaimLost) {
		t.Fatalf("error %v; want exit 1 wrapping ErrClaimLost", err)
	}
	if cp := f.checkpoint(t, "job_1"); cp != "" {
		t.Fatalf("checkpoint %q moved by a run that lost its claim", cp)
	}
	if a := f.lastRun(t, "job_1"); a.Status != activitylog.StatusFailed {
		t.Fatalf("activity %+v", a)
	}
}

// The team store's log is a ClaimWatcher (the runner finds it by a type
// assertion, so a changed signature would silently turn the watch off).
var _ ClaimWatcher = (*pgstore.Log)(nil)

// A run that lost its claim by the time its output is complete commits
// nothing: the other run's output stands.
func TestRunThatLostItsClaimBeforeCommitWritesNothing(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.runner.Log = &claimLog{hookLog: f.log, holdErr: errLostForTest}
	f.src.records, f.src.checkpoint = records(3), "2026-12-01T09:00:00Z"
	_, err := f.runner.Run(context.Background(), "tickets", RunOptions{})
	if exitcode.FromError(err) != exitcode.Failure || !errors.Is(err, activitylog.ErrClaimLost) {
		t.Fatalf("error %v; want exit 1 wrapping ErrClaimLost", err)
	}
	if _, err := os.Stat(f.dest); !os.IsNotExist(err) {
		t.Fatalf("output committed by a run that lost its claim: %v", err)
	}
	if cp := f.checkpoint(t, "job_1"); cp != "" {
		t.Fatalf("checkpoint %q", cp)
	}
	if a := f.lastRun(t, "job_1"); a.Status != activitylog.StatusFailed || a.Reason != activitylog.ReasonNetwork {
		t.Fatalf("activity %+v", a)
	}
}
