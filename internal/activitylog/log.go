package activitylog

import (
	"context"
	"time"
)

// Recorder writes activities: what a job run and a change to a connection
// or a job leave behind.
type Recorder interface {
	// Record stores a finished activity (or a running execution that does
	// not take the run lock) and returns its ID.
	Record(ctx context.Context, a Activity) (int64, error)
	// BeginRun records a running execution of a.JobID unless a live run of
	// that job is recorded (a *RunningError), atomically across processes.
	BeginRun(ctx context.Context, a Activity) (int64, error)
	// BeginDueRun is BeginRun for a scheduled run: it also refuses, with a
	// *NotDueError, when a run of the job that counts (succeeded,
	// partially succeeded, failed) started after since, in the same
	// transaction, so that of many workers one runs a due job.
	BeginDueRun(ctx context.Context, a Activity, since time.Time) (int64, error)
	// Finish ends a running execution; ErrNotFound or ErrFinished
	// (wrapped) when id is not running.
	Finish(ctx context.Context, id int64, st Status, reason Reason, msg string, counts Counts) error
}

// Reader reads activities. A running execution whose process is gone reads
// as StatusStale.
type Reader interface {
	// List returns the activities f selects, newest first.
	List(ctx context.Context, f Filter) ([]Activity, error)
	// Get returns one activity; ErrNoActivity when there is none.
	Get(ctx context.Context, id int64) (Activity, error)
	// FailedSince counts the failed (and stale) activities per connection
	// ID that started at or after since: the FAILED 24H flag of `list`.
	FailedSince(ctx context.Context, since time.Time) (map[string]int, error)
	// IDsNamed and Names find connections and jobs by the names the log
	// recorded for them.
	IDsNamed(ctx context.Context, sub Subject, name string) ([]string, error)
	Names(ctx context.Context, sub Subject) ([]string, error)
}

// Checkpoints keeps each job's incremental checkpoint. It stores exactly the
// value it is given: that a checkpoint only moves forward is the job
// runner's rule (jobrunner), and a full refresh must be able to go back.
type Checkpoints interface {
	// Checkpoint returns a job's checkpoint and whether there is one.
	Checkpoint(ctx context.Context, jobID string) (string, bool, error)
	// SetCheckpoint replaces a job's checkpoint; it is durable when
	// SetCheckpoint returns.
	SetCheckpoint(ctx context.Context, jobID, value string) error
	// DeleteCheckpoint forgets a job's checkpoint (no error when missing).
	DeleteCheckpoint(ctx context.Context, jobID string) error
	// SwapCheckpoint replaces a job's checkpoint with value (nil: none)
	// only if it is still old (nil: none), in one statement, and says
	// whether it did: a run that began from one checkpoint does not
	// overwrite one that `jobs edit --checkpoint` set meanwhile, nor the
	// edit one that a run saved meanwhile.
	SwapCheckpoint(ctx context.Context, jobID string, old, value *string) (bool, error)
}

// States remembers the health of connections and jobs (notifications on a
// change, a job's auto-pause).
type States interface {
	// SubjectState returns one subject's state and whether there is one.
	SubjectState(ctx context.Context, subject, id string) (SubjectState, bool, error)
	// SubjectStates returns every state of a kind of subject, by ID.
	SubjectStates(ctx context.Context, subject string) (map[string]SubjectState, error)
	// UpdateSubjectState reads, decides and writes a subject's state (and
	// records the activities the decision returns) atomically across
	// processes.
	UpdateSubjectState(ctx context.Context, subject, id string, change StateChange) error
}

// Log is the whole activity store: today *Store (SQLite); a team backend (a
// database) is another implementation in its own package. Every
// implementation passes activitylogtest.RunConformance.
type Log interface {
	Recorder
	Reader
	Checkpoints
	States
	// Prune deletes the activities that started before olderThan, except
	// live runs, and keeps checkpoints.
	Prune(ctx context.Context, olderThan time.Time) (int64, error)
	Close() error
}

var _ Log = (*Store)(nil)
