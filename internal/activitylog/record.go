package activitylog

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"time"
)

// ErrNotFound is returned for an activity ID the log does not hold.
var ErrNotFound = errors.New("no such activity")

// ErrClaimLost says a running execution lost its claim on the job: its
// process lost the session that marked it live (a restarted or unreachable
// team store), and another process began a run of the job meanwhile. The
// run must stop, and may write no checkpoint.
var ErrClaimLost = errors.New("the run lost its claim on the job")

// ErrFinished is returned by Finish for an activity that is not running.
var ErrFinished = errors.New("activity already finished")

// RunningError is BeginRun's refusal: a live run of the same job holds the
// run lock.
type RunningError struct {
	JobID     string
	JobName   string
	ID        int64 // the running execution activity
	PID       int
	Host      string
	StartedAt time.Time
}

func (e *RunningError) Error() string {
	job := e.JobName
	if job == "" {
		job = e.JobID
	}
	return fmt.Sprintf("job %s is already running: activity %d, pid %d on %s, started %s",
		job, e.ID, e.PID, e.Host, e.StartedAt.UTC().Format(time.RFC3339))
}

// NotDueError is BeginDueRun's refusal: the job ran (on this machine or
// another) since it was found due.
type NotDueError struct {
	JobID     string
	JobName   string
	ID        int64 // the run that counts
	Who       string
	Host      string
	StartedAt time.Time
}

func (e *NotDueError) Error() string {
	job := e.JobName
	if job == "" {
		job = e.JobID
	}
	return fmt.Sprintf("job %s is not due: it ran at %s (activity %d, by %s on %s)",
		job, e.StartedAt.UTC().Format(time.RFC3339), e.ID, e.Who, e.Host)
}

const insertActivity = `INSERT INTO activities (type, action, connection_id, connection_name, job_id, job_name,
	status, reason, message, who, started_at, finished_at, records, bytes, pages, retries, changes, pid, host, proc_start, without_cursor)
	VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`

// insertArgs checks a, fills in its defaults (start time, status, the
// process) and returns the values for insertActivity.
func (s *Store) insertArgs(a *Activity) ([]any, error) {
	return a.InsertArgs(s.now(), "", s.host)
}

// Record stores an activity and returns its ID: an update (finished at once;
// StatusSucceeded when Status is empty), a finished execution (a run refused
// before it started, say), or a running execution. A running execution
// recorded here does not take the run lock; use BeginRun for that. StartedAt
// defaults to now, PID and Host to this process. The message and the changes
// are cleaned first (see the package comment).
func (s *Store) Record(ctx context.Context, a Activity) (int64, error) {
	args, err := s.insertArgs(&a)
	if err != nil {
		return 0, err
	}
	res, err := s.db.ExecContext(ctx, insertActivity, args...)
	if err != nil {
		return 0, s.fail("record activity", err)
	}
	id, err := res.LastInsertId()
	return id, s.fail("record activity", err)
}

// BeginRun records a running execution of a.JobID and returns its ID, unless a
// live run of that job is already recorded, by this process or another: then
// it returns a *RunningError naming that run. A stale run (its process is
// gone) does not block. The check and the insert are one transaction, so two
// processes cannot both begin.
func (s *Store) BeginRun(ctx context.Context, a Activity) (int64, error) {
	return s.beginRun(ctx, a, nil)
}

// BeginDueRun is BeginRun for a scheduled run that is due when no run of
// a.JobID counts since since (one interval before now): it also refuses, with
// a *NotDueError, when a run of that job that counts (succeeded, partially
// succeeded or failed; not cancelled, not stale) started after since. The
// check and the insert are one transaction, so of several workers that found
// the job due, one runs it.
func (s *Store) BeginDueRun(ctx context.Context, a Activity, since time.Time) (int64, error) {
	return s.beginRun(ctx, a, &since)
}

func (s *Store) beginRun(ctx context.Context, a Activity, since *time.Time) (int64, error) {
	if a.Type == "" {
		a.Type = TypeExecution
	}
	if a.Type != TypeExecution || (a.Status != "" && a.Status != StatusRunning) {
		return 0, fmt.Errorf("activity log: BeginRun takes a running execution, not a %s %s", a.Status, a.Type)
	}
	args, err := s.insertArgs(&a)
	if err != nil {
		return 0, err
	}
	tx, err := s.db.BeginTx(ctx, nil) // BEGIN IMMEDIATE: holds the write lock from here
	if err != nil {
		return 0, s.fail("begin run", err)
	}
	defer tx.Rollback()
	runs, err := s.runningRuns(ctx, tx, "job_id = ?", a.JobID)
	if err != nil {
		return 0, s.fail("begin run", err)
	}
	for _, r := range runs {
		if !s.stale(r) {
			return 0, &RunningError{JobID: a.JobID, JobName: r.jobName, ID: r.id, PID: r.pid, Host: r.host, StartedAt: r.startedAt}
		}
	}
	if since != nil {
		var ne NotDueError
		var started int64
		err := tx.QueryRowContext(ctx, `SELECT id, job_name, who, host, started_at FROM activities
			WHERE job_id = ? AND type = 'execution' AND status IN ('succeeded', 'partially_succeeded', 'failed') AND started_at > ?
			ORDER BY started_at DESC LIMIT 1`, a.JobID, since.UnixNano()).Scan(&ne.ID, &ne.JobName, &ne.Who, &ne.Host, &started)
		switch {
		case err == nil:
			ne.JobID, ne.StartedAt = a.JobID, time.Unix(0, started).UTC()
			return 0, &ne
		case !errors.Is(err, sql.ErrNoRows):
			return 0, s.fail("begin run", err)
		}
	}
	res, err := tx.ExecContext(ctx, insertActivity, args...)
	if err != nil {
		return 0, s.fail("begin run", err)
	}
	id, err := res.LastInsertId()
	if err != nil {
		return 0, s.fail("begin run", err)
	}
	return id, s.fail("begin run", tx.Commit())
}

// Finish ends the running execution id with a final status (succeeded,
// partially_succeeded, failed or cancelled), a reason for a failure, a message
// (cleaned like Record's) and the run's counts; the finish time is now. It
// returns ErrNotFound or ErrFinished (wrapped) when id is not running.
//
// Give it a context that outlives the run's: after Ctrl-C, the cancelled
// activity must still be written (context.WithoutCancel).
func (s *Store) Finish(ctx context.Context, id int64, st Status, reason Reason, msg string, counts Counts) error {
	if !slices.Contains(finalStatuses, st) {
		return fmt.Errorf("activity log: %q is not a final status", st)
	}
	if err := checkReason(st, reason); err != nil {
		return fmt.Errorf("activity log: %w", err)
	}
	if err := counts.check(); err != nil {
		return fmt.Errorf("activity log: %w", err)
	}
	res, err := s.db.ExecContext(ctx, `UPDATE activities
		SET status = ?, reason = ?, message = ?, finished_at = ?, records = ?, bytes = ?, pages = ?, retries = ?, without_cursor = ?
		WHERE id = ? AND status = 'running'`,
		string(st), string(reason), cleanMessage(msg), s.now().UnixNano(),
		counts.Records, counts.Bytes, counts.Pages, counts.Retries, counts.WithoutCursor, id)
	if err != nil {
		return s.fail("finish activity", err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return s.fail("finish activity", err)
	} else if n == 1 {
		return nil
	}
	var cur string
	err = s.db.QueryRowContext(ctx, `SELECT status FROM activities WHERE id = ?`, id).Scan(&cur)
	if errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("finish activity %d: %w", id, ErrNotFound)
	}
	if err != nil {
		return s.fail("finish activity", err)
	}
	return fmt.Errorf("finish activity %d: %w (%s)", id, ErrFinished, cur)
}

// run is a running execution as the liveness check needs it.
type run struct {
	id           int64
	connectionID string
	jobName      string
	startedAt    time.Time
	pid          int
	host         string
	procStart    string
}

type querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

// runningRuns returns the executions stored as running that match cond. They
// are few (the live ones, and those that died unfinished and are not yet
// pruned), and the status index finds them.
func (s *Store) runningRuns(ctx context.Context, q querier, cond string, args ...any) ([]run, error) {
	query := `SELECT id, connection_id, job_name, started_at, pid, host, proc_start FROM activities WHERE status = 'running'`
	if cond != "" {
		query += " AND " + cond
	}
	rows, err := q.QueryContext(ctx, query+" ORDER BY id", args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var runs []run
	for rows.Next() {
		var r run
		var started int64
		if err := rows.Scan(&r.id, &r.connectionID, &r.jobName, &started, &r.pid, &r.host, &r.procStart); err != nil {
			return nil, err
		}
		r.startedAt = time.Unix(0, started).UTC()
		runs = append(runs, r)
	}
	return runs, rows.Err()
}

// stale reports whether a running execution's process is gone. A run on
// another host cannot be checked, so it counts as live. On Linux the
// process's start time is compared too, so a reused PID is not taken for the
// run.
func (s *Store) stale(r run) bool {
	if r.host != "" && r.host != s.host {
		return false
	}
	if r.pid <= 0 || !processAlive(r.pid) {
		return true
	}
	if r.procStart != "" {
		if now := processStart(r.pid); now != "" && now != r.procStart {
			return true
		}
	}
	return false
}

// staleRuns returns the running executions whose process is gone, among
// those matching cond.
func (s *Store) staleRuns(ctx context.Context, cond string, args ...any) ([]run, error) {
	runs, err := s.runningRuns(ctx, s.db, cond, args...)
	if err != nil {
		return nil, err
	}
	return slices.DeleteFunc(runs, func(r run) bool { return !s.stale(r) }), nil
}
