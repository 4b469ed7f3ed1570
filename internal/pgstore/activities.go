package pgstore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/connctl/connctl/internal/activitylog"
)

// Log is the activity log of a team store, an activitylog.Log: every
// admin's activities in one place, each with the OS user (who) and the
// machine (host) that did it. It keeps the rules of the local SQLite log
// (activitylog.Store): the same checks, the same message cleaning, and a
// running execution whose process is gone reads as stale, on any machine:
// a run holds a session advisory lock for as long as its process lives
// (see BeginRun).
type Log struct {
	db *DB

	// live holds, for each run this handle began and has not finished,
	// the connection that holds the run's session advisory lock (liveLock,
	// id): other machines read the run as live while the lock is held,
	// and as stale once its process died (its connection closed).
	liveMu sync.Mutex
	live   map[int64]*liveRun

	// checkEvery is how often WatchClaim checks a run's session (0:
	// DefaultCheckEvery); finishFor how long Finish retries while the
	// server is unreachable (0: DefaultFinishFor). See live.go.
	checkEvery time.Duration
	finishFor  time.Duration
}

var _ activitylog.Log = (*Log)(nil)

// Log returns the team's activity log.
func (db *DB) Log() *Log { return &Log{db: db} }

// Close releases the locks of runs this handle began and did not finish
// (they then read as stale); the DB owns the pool.
func (l *Log) Close() error {
	l.liveMu.Lock()
	defer l.liveMu.Unlock()
	for id, r := range l.live {
		r.unlock()
		delete(l.live, id)
	}
	return nil
}

// liveLock is the advisory lock namespace that marks a run as live: its
// key is (liveLock, id), held by the process running it for as long as it
// runs, on a connection of its own.
const liveLock = 0x6c697665

func (l *Log) unlockLive(c *pgxpool.Conn, id int64) {
	if _, err := c.Exec(context.Background(), `SELECT pg_advisory_unlock($1, $2)`, int32(liveLock), int32(id)); err != nil {
		// The session's locks end with it.
		_ = c.Conn().Close(context.Background())
	}
	c.Release()
}

func (l *Log) fail(op string, err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("activity log in the team store %s: %s: %w", l.db.site, op, l.db.connErr(err))
}

const insertActivity = `INSERT INTO connctl_activities (type, action, connection_id, connection_name, job_id, job_name,
	status, reason, message, who, started_at, finished_at, records, bytes, pages, retries, changes, pid, host, proc_start, without_cursor)
	VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21) RETURNING id`

func (l *Log) insertArgs(a *activitylog.Activity) ([]any, error) {
	return a.InsertArgs(l.db.opts.Now(), l.db.opts.Who, l.db.opts.Host)
}

// Record stores an activity and returns its ID (see activitylog.Store.Record).
func (l *Log) Record(ctx context.Context, a activitylog.Activity) (int64, error) {
	args, err := l.insertArgs(&a)
	if err != nil {
		return 0, err
	}
	var id int64
	err = l.db.pool.QueryRow(ctx, insertActivity, args...).Scan(&id)
	return id, l.fail("record activity", err)
}

// runLock is the advisory lock namespace of BeginRun: one job's runs begin
// one at a time.
const runLock = 0x636f6e6e

// BeginRun records a running execution of a.JobID unless a live one is
// recorded (a *activitylog.RunningError), atomically across machines: the
// check and the insert hold a transaction advisory lock keyed by the job.
// The run then holds a session advisory lock (liveLock, id) on a
// connection of its own until Finish, taken before the insert commits, so
// that no machine ever sees the run without it: a run whose lock is gone
// (its process killed, its machine lost) reads as stale everywhere.
func (l *Log) BeginRun(ctx context.Context, a activitylog.Activity) (int64, error) {
	return l.beginRun(ctx, a, nil)
}

// BeginDueRun is BeginRun for a due scheduled run (see
// activitylog.Store.BeginDueRun): it also refuses, with a
// *activitylog.NotDueError, a job whose counted run started after since.
func (l *Log) BeginDueRun(ctx context.Context, a activitylog.Activity, since time.Time) (int64, error) {
	return l.beginRun(ctx, a, &since)
}

func (l *Log) beginRun(ctx context.Context, a activitylog.Activity, since *time.Time) (int64, error) {
	if a.Type == "" {
		a.Type = activitylog.TypeExecution
	}
	if a.Type != activitylog.TypeExecution || (a.Status != "" && a.Status != activitylog.StatusRunning) {
		return 0, fmt.Errorf("activity log: BeginRun takes a running execution, not a %s %s", a.Status, a.Type)
	}
	args, err := l.insertArgs(&a)
	if err != nil {
		return 0, err
	}
	conn, err := l.db.pool.Acquire(ctx)
	if err != nil {
		return 0, l.fail("begin run", l.db.connErr(err))
	}
	var id int64
	locked := false
	err = func() error {
		tx, err := conn.BeginTx(ctx, pgx.TxOptions{})
		if err != nil {
			return l.db.connErr(err)
		}
		defer func() { _ = tx.Rollback(context.Background()) }()
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1, hashtext($2))`, int32(runLock), a.JobID); err != nil {
			return err
		}
		runs, err := l.runningRuns(ctx, tx, "job_id = $1", a.JobID)
		if err != nil {
			return err
		}
		for _, r := range runs {
			if !l.stale(r) {
				return &activitylog.RunningError{JobID: a.JobID, JobName: r.jobName, ID: r.id, PID: r.pid, Host: r.host, StartedAt: r.startedAt}
			}
		}
		if since != nil {
			var ne activitylog.NotDueError
			var started int64
			err := tx.QueryRow(ctx, `SELECT id, job_name, who, host, started_at FROM connctl_activities
				WHERE job_id = $1 AND type = 'execution' AND status IN ('succeeded', 'partially_succeeded', 'failed') AND started_at > $2
				ORDER BY started_at DESC LIMIT 1`, a.JobID, since.UnixNano()).Scan(&ne.ID, &ne.JobName, &ne.Who, &ne.Host, &started)
			switch {
			case err == nil:
				ne.JobID, ne.StartedAt = a.JobID, time.Unix(0, started).UTC()
				return &ne
			case !errors.Is(err, pgx.ErrNoRows):
				return err
			}
		}
		if err := tx.QueryRow(ctx, insertActivity, args...).Scan(&id); err != nil {
			return err
		}
		// A session lock taken in a transaction outlives its commit.
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_lock($1, $2)`, int32(liveLock), int32(id)); err != nil {
			return err
		}
		locked = true
		return l.db.connErr(tx.Commit(ctx))
	}()
	if err != nil {
		if locked {
			l.unlockLive(conn, id)
		} else {
			conn.Release()
		}
		var re *activitylog.RunningError
		var ne *activitylog.NotDueError
		if errors.As(err, &re) || errors.As(err, &ne) {
			return 0, err
		}
		return 0, l.fail("begin run", err)
	}
	l.liveMu.Lock()
	if l.live == nil {
		l.live = map[int64]*liveRun{}
	}
	l.live[id] = &liveRun{log: l, id: id, jobID: a.JobID, conn: conn}
	l.liveMu.Unlock()
	return id, nil
}

// release drops the live lock of run id, if this handle holds it.
func (l *Log) release(id int64) {
	l.liveMu.Lock()
	r, ok := l.live[id]
	delete(l.live, id)
	l.liveMu.Unlock()
	if ok {
		r.unlock()
	}
}

// Finish ends a running execution (see activitylog.Store.Finish).
func (l *Log) Finish(ctx context.Context, id int64, st activitylog.Status, reason activitylog.Reason, msg string, counts activitylog.Counts) error {
	if err := activitylog.CheckFinish(st, reason, counts); err != nil {
		return fmt.Errorf("activity log: %w", err)
	}
	// Once it is finished, nobody asks whether the run is live.
	defer l.release(id)
	tag, err := l.finishRetrying(ctx, `UPDATE connctl_activities
		SET status = $1, reason = $2, message = $3, finished_at = $4, records = $5, bytes = $6, pages = $7, retries = $8, without_cursor = $9
		WHERE id = $10 AND status = 'running'`,
		string(st), string(reason), activitylog.CleanMessage(msg), l.db.opts.Now().UnixNano(),
		counts.Records, counts.Bytes, counts.Pages, counts.Retries, counts.WithoutCursor, id)
	if err != nil {
		return l.fail("finish activity", err)
	}
	if tag.RowsAffected() == 1 {
		return nil
	}
	var cur string
	err = l.db.pool.QueryRow(ctx, `SELECT status FROM connctl_activities WHERE id = $1`, id).Scan(&cur)
	if errors.Is(err, pgx.ErrNoRows) {
		return fmt.Errorf("finish activity %d: %w", id, activitylog.ErrNotFound)
	}
	if err != nil {
		return l.fail("finish activity", err)
	}
	return fmt.Errorf("finish activity %d: %w (%s)", id, activitylog.ErrFinished, cur)
}

type run struct {
	id           int64
	connectionID string
	jobName      string
	startedAt    time.Time
	pid          int
	host         string
	procStart    string
	locked       bool // its live lock is held (by any machine)
}

type querier interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
}

func (l *Log) runningRuns(ctx context.Context, q querier, cond string, args ...any) ([]run, error) {
	query := `SELECT id, connection_id, job_name, started_at, pid, host, proc_start,
		EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND granted AND objsubid = 2
			AND classid = ` + fmt.Sprint(liveLock) + ` AND objid = (id::bigint & 4294967295)::oid)
		FROM connctl_activities WHERE status = 'running'`
	if cond != "" {
		query += " AND " + cond
	}
	rows, err := q.Query(ctx, query+" ORDER BY id", args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var runs []run
	for rows.Next() {
		var r run
		var started int64
		if err := rows.Scan(&r.id, &r.connectionID, &r.jobName, &started, &r.pid, &r.host, &r.procStart, &r.locked); err != nil {
			return nil, err
		}
		r.startedAt = time.Unix(0, started).UTC()
		runs = append(runs, r)
	}
	return runs, rows.Err()
}

// stale tells whether a running execution's process is gone, on any
// machine: BeginRun's live lock is gone (the database drops it when the
// process's connection ends). A running execution recorded without one
// (Record) has no process to wait for.
func (l *Log) stale(r run) bool { return !r.locked }

func (l *Log) staleRuns(ctx context.Context, cond string, args ...any) ([]run, error) {
	runs, err := l.runningRuns(ctx, l.db.pool, cond, args...)
	if err != nil {
		return nil, err
	}
	return slices.DeleteFunc(runs, func(r run) bool { return !l.stale(r) }), nil
}

const activityColumns = `id, type, action, connection_id, connection_name, job_id, job_name, status, reason, message,
	who, started_at, finished_at, records, bytes, pages, retries, changes, pid, host, without_cursor`

// where builds a condition list with numbered parameters.
type where struct {
	conds []string
	args  []any
}

func (w *where) add(cond string, args ...any) {
	for _, a := range args {
		w.args = append(w.args, a)
		cond = strings.Replace(cond, "?", "$"+strconv.Itoa(len(w.args)), 1)
	}
	w.conds = append(w.conds, cond)
}

func (w where) clone() where {
	return where{conds: slices.Clone(w.conds), args: slices.Clone(w.args)}
}

// List returns the activities f selects, newest first.
func (l *Log) List(ctx context.Context, f activitylog.Filter) ([]activitylog.Activity, error) {
	want, err := f.Statuses()
	if err != nil {
		return nil, err
	}
	if f.Type != "" && f.Type != activitylog.TypeExecution && f.Type != activitylog.TypeUpdate {
		return nil, fmt.Errorf("activity log: unknown activity type %q", f.Type)
	}
	if want != nil && len(want) == 0 {
		return []activitylog.Activity{}, nil
	}
	running, err := l.runningRuns(ctx, l.db.pool, "")
	if err != nil {
		return nil, l.fail("list activities", err)
	}
	stale := map[int64]bool{}
	var staleRuns, liveRuns []run
	for _, r := range running {
		if l.stale(r) {
			stale[r.id] = true
			staleRuns = append(staleRuns, r)
		} else {
			liveRuns = append(liveRuns, r)
		}
	}
	var w where
	if f.ConnectionID != "" {
		w.add("connection_id = ?", f.ConnectionID)
	}
	if f.JobID != "" {
		w.add("job_id = ?", f.JobID)
	}
	if len(f.ConnectionIDs) > 0 {
		w.add("connection_id = ANY(?)", f.ConnectionIDs)
	}
	if len(f.JobIDs) > 0 {
		w.add("job_id = ANY(?)", f.JobIDs)
	}
	if f.Type != "" {
		w.add("type = ?", string(f.Type))
	}
	if !f.Since.IsZero() {
		w.add("started_at >= ?", f.Since.UnixNano())
	}
	if want == nil {
		return l.list(ctx, w, f.Limit, stale)
	}
	var stored []string
	var byID []int64
	for _, st := range want {
		switch st {
		case activitylog.StatusStale:
			for _, r := range staleRuns {
				byID = append(byID, r.id)
			}
		case activitylog.StatusRunning:
			for _, r := range liveRuns {
				byID = append(byID, r.id)
			}
		default:
			stored = append(stored, string(st))
		}
	}
	out := []activitylog.Activity{}
	if len(stored) > 0 {
		sw := w.clone()
		sw.add("status = ANY(?)", stored)
		if out, err = l.list(ctx, sw, f.Limit, stale); err != nil {
			return nil, err
		}
	}
	if len(byID) > 0 {
		rw := w.clone()
		rw.add("status = 'running' AND id = ANY(?)", byID)
		runs, err := l.list(ctx, rw, f.Limit, stale)
		if err != nil {
			return nil, err
		}
		out = activitylog.MergeNewest(out, runs, f.Limit)
	}
	return out, nil
}

func (l *Log) list(ctx context.Context, w where, limit int, stale map[int64]bool) ([]activitylog.Activity, error) {
	query := "SELECT " + activityColumns + " FROM connctl_activities"
	if len(w.conds) > 0 {
		query += " WHERE " + strings.Join(w.conds, " AND ")
	}
	query += " ORDER BY started_at DESC, id DESC"
	args := w.args
	if limit > 0 {
		args = append(slices.Clip(args), limit)
		query += " LIMIT $" + strconv.Itoa(len(args))
	}
	rows, err := l.db.pool.Query(ctx, query, args...)
	if err != nil {
		return nil, l.fail("list activities", err)
	}
	defer rows.Close()
	out := []activitylog.Activity{}
	for rows.Next() {
		a, err := scanActivity(rows)
		if err != nil {
			return nil, l.fail("list activities", err)
		}
		if a.Status == activitylog.StatusRunning && stale[a.ID] {
			a.Status = activitylog.StatusStale
		}
		out = append(out, a)
	}
	return out, l.fail("list activities", rows.Err())
}

func scanActivity(rows pgx.Rows) (activitylog.Activity, error) {
	var a activitylog.Activity
	var typ, status, reason string
	var started int64
	var finished *int64
	var changes *string
	err := rows.Scan(&a.ID, &typ, &a.Action, &a.ConnectionID, &a.ConnectionName, &a.JobID, &a.JobName,
		&status, &reason, &a.Message, &a.Who, &started, &finished,
		&a.Records, &a.Bytes, &a.Pages, &a.Retries, &changes, &a.PID, &a.Host, &a.WithoutCursor)
	if err != nil {
		return a, err
	}
	a.Type, a.Status, a.Reason = activitylog.Type(typ), activitylog.Status(status), activitylog.Reason(reason)
	a.StartedAt = time.Unix(0, started).UTC()
	if finished != nil {
		t := time.Unix(0, *finished).UTC()
		a.FinishedAt = &t
	}
	if changes != nil {
		if err := json.Unmarshal([]byte(*changes), &a.Changes); err != nil {
			return a, fmt.Errorf("activity %d: changes: %w", a.ID, err)
		}
	}
	return a, nil
}

// Get returns one activity; activitylog.ErrNoActivity when there is none.
func (l *Log) Get(ctx context.Context, id int64) (activitylog.Activity, error) {
	stale := map[int64]bool{}
	runs, err := l.staleRuns(ctx, "id = $1", id)
	if err != nil {
		return activitylog.Activity{}, l.fail("read activity", err)
	}
	for _, r := range runs {
		stale[r.id] = true
	}
	var w where
	w.add("id = ?", id)
	list, err := l.list(ctx, w, 1, stale)
	if err != nil {
		return activitylog.Activity{}, err
	}
	if len(list) == 0 {
		return activitylog.Activity{}, activitylog.ErrNoActivity
	}
	return list[0], nil
}

// FailedSince counts the failed and stale activities per connection ID
// that started at or after since.
func (l *Log) FailedSince(ctx context.Context, since time.Time) (map[string]int, error) {
	rows, err := l.db.pool.Query(ctx, `SELECT connection_id, count(*) FROM connctl_activities
		WHERE status = 'failed' AND started_at >= $1 AND connection_id != ''
		GROUP BY connection_id`, since.UnixNano())
	if err != nil {
		return nil, l.fail("count failed activities", err)
	}
	out := map[string]int{}
	for rows.Next() {
		var id string
		var n int
		if err := rows.Scan(&id, &n); err != nil {
			rows.Close()
			return nil, l.fail("count failed activities", err)
		}
		out[id] = n
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, l.fail("count failed activities", err)
	}
	stale, err := l.staleRuns(ctx, "started_at >= $1 AND connection_id != ''", since.UnixNano())
	if err != nil {
		return nil, l.fail("count failed activities", err)
	}
	for _, r := range stale {
		out[r.connectionID]++
	}
	return out, nil
}

// IDsNamed returns the IDs the log recorded under name (ignoring case),
// the most recently active first.
func (l *Log) IDsNamed(ctx context.Context, sub activitylog.Subject, name string) ([]string, error) {
	idCol, nameCol, err := sub.Columns()
	if err != nil {
		return nil, err
	}
	rows, err := l.db.pool.Query(ctx, "SELECT "+idCol+", max(started_at) AS last FROM connctl_activities WHERE "+idCol+" != '' AND lower("+
		nameCol+") = lower($1) GROUP BY "+idCol+" ORDER BY last DESC", name)
	if err != nil {
		return nil, l.fail("look up "+string(sub)+" names", err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var id string
		var last int64
		if err := rows.Scan(&id, &last); err != nil {
			return nil, l.fail("look up "+string(sub)+" names", err)
		}
		out = append(out, id)
	}
	return out, l.fail("look up "+string(sub)+" names", rows.Err())
}

// Names returns the names the log recorded for a kind of subject, sorted.
func (l *Log) Names(ctx context.Context, sub activitylog.Subject) ([]string, error) {
	_, nameCol, err := sub.Columns()
	if err != nil {
		return nil, err
	}
	rows, err := l.db.pool.Query(ctx, "SELECT DISTINCT "+nameCol+` COLLATE "C" FROM connctl_activities WHERE `+nameCol+" != '' ORDER BY 1")
	if err != nil {
		return nil, l.fail("list "+string(sub)+" names", err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			return nil, l.fail("list "+string(sub)+" names", err)
		}
		out = append(out, n)
	}
	return out, l.fail("list "+string(sub)+" names", rows.Err())
}

// Prune deletes the activities that started before olderThan, except live
// runs; checkpoints stay.
func (l *Log) Prune(ctx context.Context, olderThan time.Time) (int64, error) {
	cutoff := olderThan.UnixNano()
	tag, err := l.db.pool.Exec(ctx, `DELETE FROM connctl_activities WHERE started_at < $1 AND status != 'running'`, cutoff)
	if err != nil {
		return 0, l.fail("prune activities", err)
	}
	total := tag.RowsAffected()
	stale, err := l.staleRuns(ctx, "started_at < $1", cutoff)
	if err != nil || len(stale) == 0 {
		return total, l.fail("prune activities", err)
	}
	ids := make([]int64, len(stale))
	for i, r := range stale {
		ids[i] = r.id
	}
	tag, err = l.db.pool.Exec(ctx, "DELETE FROM connctl_activities WHERE status = 'running' AND id = ANY($1)", ids)
	if err != nil {
		return total, l.fail("prune activities", err)
	}
	return total + tag.RowsAffected(), nil
}

// Checkpoint returns a job's checkpoint and whether there is one.
func (l *Log) Checkpoint(ctx context.Context, jobID string) (string, bool, error) {
	var v string
	err := l.db.pool.QueryRow(ctx, `SELECT value FROM connctl_checkpoints WHERE job_id = $1`, jobID).Scan(&v)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", false, nil
	}
	if err != nil {
		return "", false, l.fail("read checkpoint", err)
	}
	return v, true, nil
}

// SetCheckpoint replaces a job's checkpoint; it is durable (committed) when
// SetCheckpoint returns.
func (l *Log) SetCheckpoint(ctx context.Context, jobID, value string) error {
	if jobID == "" {
		return errors.New("activity log: a checkpoint needs a job ID")
	}
	_, err := l.db.pool.Exec(ctx, `INSERT INTO connctl_checkpoints (job_id, value, updated_at) VALUES ($1, $2, $3)
		ON CONFLICT (job_id) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at`,
		jobID, value, l.db.opts.Now().UnixNano())
	return l.fail("save the checkpoint of job "+jobID, err)
}

// SwapCheckpoint replaces a job's checkpoint with value (nil: deletes it)
// only if it is still old (nil: there is none), and says whether it did.
func (l *Log) SwapCheckpoint(ctx context.Context, jobID string, old, value *string) (bool, error) {
	ok, err := l.swapCheckpoint(ctx, l.db.pool, jobID, old, value)
	return ok, l.fail("save the checkpoint of job "+jobID, err)
}

// execer is a pool or a single connection.
type execer interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
}

func (l *Log) swapCheckpoint(ctx context.Context, db execer, jobID string, old, value *string) (bool, error) {
	if jobID == "" {
		return false, errors.New("activity log: a checkpoint needs a job ID")
	}
	var tag pgconn.CommandTag
	var err error
	now := l.db.opts.Now().UnixNano()
	switch {
	case old == nil && value == nil:
		tag, err = db.Exec(ctx, `SELECT 1 FROM connctl_checkpoints WHERE job_id = $1`, jobID)
		return err == nil && tag.RowsAffected() == 0, err
	case old == nil:
		tag, err = db.Exec(ctx, `INSERT INTO connctl_checkpoints (job_id, value, updated_at) VALUES ($1, $2, $3) ON CONFLICT (job_id) DO NOTHING`, jobID, *value, now)
	case value == nil:
		tag, err = db.Exec(ctx, `DELETE FROM connctl_checkpoints WHERE job_id = $1 AND value = $2`, jobID, *old)
	default:
		tag, err = db.Exec(ctx, `UPDATE connctl_checkpoints SET value = $1, updated_at = $2 WHERE job_id = $3 AND value = $4`, *value, now, jobID, *old)
	}
	return err == nil && tag.RowsAffected() == 1, err
}

// DeleteCheckpoint forgets a job's checkpoint.
func (l *Log) DeleteCheckpoint(ctx context.Context, jobID string) error {
	_, err := l.db.pool.Exec(ctx, `DELETE FROM connctl_checkpoints WHERE job_id = $1`, jobID)
	return l.fail("delete the checkpoint of job "+jobID, err)
}

const selectState = `SELECT subject, id, name, state, healthy, since, notified_at, failures, paused_at, updated_at FROM connctl_subject_states`

func nanos(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixNano()
}

func fromNanos(n int64) time.Time {
	if n == 0 {
		return time.Time{}
	}
	return time.Unix(0, n).UTC()
}

func scanState(sc interface{ Scan(...any) error }) (activitylog.SubjectState, error) {
	var st activitylog.SubjectState
	var since, notified, paused, updated int64
	if err := sc.Scan(&st.Subject, &st.ID, &st.Name, &st.State, &st.Healthy, &since, &notified, &st.Failures, &paused, &updated); err != nil {
		return st, err
	}
	st.Since, st.NotifiedAt, st.PausedAt, st.UpdatedAt = fromNanos(since), fromNanos(notified), fromNanos(paused), fromNanos(updated)
	return st, nil
}

// SubjectState returns one subject's state and whether there is one.
func (l *Log) SubjectState(ctx context.Context, subject, id string) (activitylog.SubjectState, bool, error) {
	st, err := scanState(l.db.pool.QueryRow(ctx, selectState+` WHERE subject = $1 AND id = $2`, subject, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return activitylog.SubjectState{}, false, nil
	}
	if err != nil {
		return activitylog.SubjectState{}, false, l.fail("read the state of "+subject+" "+id, err)
	}
	return st, true, nil
}

// SubjectStates returns every state of a kind of subject, by ID.
func (l *Log) SubjectStates(ctx context.Context, subject string) (map[string]activitylog.SubjectState, error) {
	rows, err := l.db.pool.Query(ctx, selectState+` WHERE subject = $1`, subject)
	if err != nil {
		return nil, l.fail("read states", err)
	}
	defer rows.Close()
	out := map[string]activitylog.SubjectState{}
	for rows.Next() {
		st, err := scanState(rows)
		if err != nil {
			return nil, l.fail("read states", err)
		}
		out[st.ID] = st
	}
	return out, l.fail("read states", rows.Err())
}

// UpdateSubjectState reads a subject's state, lets change decide the next
// one and stores it with the activities it returns, in one transaction that
// locks the subject's row (or, for a new subject, an advisory lock on it):
// of two machines observing one change at once, the second sees the first's
// result.
func (l *Log) UpdateSubjectState(ctx context.Context, subject, id string, change activitylog.StateChange) error {
	if subject != activitylog.SubjectConnectionState && subject != activitylog.SubjectJobState {
		return fmt.Errorf("activity log: unknown subject %q", subject)
	}
	if id == "" {
		return errors.New("activity log: a state needs an ID")
	}
	var changeErr error
	err := l.db.inTx(ctx, pgx.TxOptions{}, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtext($1), hashtext($2))`, "state:"+subject, id); err != nil {
			return err
		}
		prev, err := scanState(tx.QueryRow(ctx, selectState+` WHERE subject = $1 AND id = $2`, subject, id))
		found := err == nil
		if err != nil && !errors.Is(err, pgx.ErrNoRows) {
			return err
		}
		next, record, err := change(prev, found)
		if err != nil {
			changeErr = err
			return err
		}
		next.Subject, next.ID, next.UpdatedAt = subject, id, l.db.opts.Now()
		if _, err := tx.Exec(ctx, `INSERT INTO connctl_subject_states (subject, id, name, state, healthy, since, notified_at, failures, paused_at, updated_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
			ON CONFLICT (subject, id) DO UPDATE SET name = excluded.name, state = excluded.state, healthy = excluded.healthy,
				since = excluded.since, notified_at = excluded.notified_at, failures = excluded.failures,
				paused_at = excluded.paused_at, updated_at = excluded.updated_at`,
			subject, id, next.Name, next.State, next.Healthy, nanos(next.Since), nanos(next.NotifiedAt), next.Failures, nanos(next.PausedAt), nanos(next.UpdatedAt)); err != nil {
			return err
		}
		for _, a := range record {
			args, err := l.insertArgs(&a)
			if err != nil {
				changeErr = err
				return err
			}
			var aid int64
			if err := tx.QueryRow(ctx, insertActivity, args...).Scan(&aid); err != nil {
				return err
			}
		}
		return nil
	})
	if changeErr != nil {
		return changeErr
	}
	return l.fail("update state", err)
}
