package pgstore

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/connctl/connctl/internal/activitylog"
)

// A run is live while its process holds the session advisory lock
// (liveLock, id) that BeginRun took. If that session ends while the
// process runs on (the server restarted, the network cut the connection),
// the run reads as stale everywhere, and another worker may begin the job.
// WatchClaim closes that gap: it checks the session, and when it is gone
// reconnects and takes the lock again, unless another run of the job began
// meanwhile; then the run has lost its claim (activitylog.ErrClaimLost)
// and must stop. SetRunCheckpoint writes through the session that holds the
// lock, so a run that lost it cannot move the job's checkpoint.

// Defaults of the watch.
const (
	// DefaultCheckEvery is how often a live run's session is checked.
	DefaultCheckEvery = 2 * time.Second
	// DefaultFinishFor is how long Finish retries while the server is
	// unreachable, so that a run that ended during a restart is recorded.
	DefaultFinishFor = 2 * time.Minute
	// pingTimeout bounds one check of a session.
	pingTimeout = 5 * time.Second
)

// liveRun is a run this handle began and has not finished.
type liveRun struct {
	log   *Log
	id    int64
	jobID string

	mu   sync.Mutex    // one user of conn at a time
	conn *pgxpool.Conn // holds the lock; nil while the session is lost
	lost error         // the claim is lost for good (wraps ErrClaimLost)
}

func (r *liveRun) unlock() {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.conn != nil {
		r.log.unlockLive(r.conn, r.id)
		r.conn = nil
	}
}

func (l *Log) liveRun(id int64) *liveRun {
	l.liveMu.Lock()
	defer l.liveMu.Unlock()
	return l.live[id]
}

// WatchClaim watches the claim of run id (begun by this handle) until stop
// is called or ctx ends: every few seconds it checks the session that holds
// the run's lock; when that session is gone it resets the pool and, once
// the server answers, takes the lock again. If another run of the job began
// meanwhile (or the run was finished or pruned), lost is called once with
// an error wrapping activitylog.ErrClaimLost, and the watch ends.
func (l *Log) WatchClaim(ctx context.Context, id int64, lost func(error)) (stop func()) {
	r := l.liveRun(id)
	if r == nil {
		return func() {}
	}
	every := l.checkEvery
	if every <= 0 {
		every = DefaultCheckEvery
	}
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-ctx.Done():
				return
			case <-t.C:
			}
			if err := r.check(ctx); errors.Is(err, activitylog.ErrClaimLost) {
				lost(err)
				return
			}
		}
	}()
	var once sync.Once
	return func() { once.Do(func() { close(done); wg.Wait() }) }
}

// check makes sure the run holds its lock: the session answers, or a new
// one took the lock again. An unreachable server is not an error here
// (nobody can claim the job without it); the next check tries again.
func (r *liveRun) check(ctx context.Context) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.lost != nil {
		return r.lost
	}
	if r.conn != nil {
		pctx, cancel := context.WithTimeout(ctx, pingTimeout)
		_, err := r.conn.Exec(pctx, `SELECT 1`)
		cancel()
		if err == nil {
			return nil
		}
		if ctx.Err() != nil {
			return nil
		}
		r.drop()
	}
	return r.reclaim(ctx)
}

// drop forgets a session that failed (its lock ended with it) and resets
// the pool, whose other connections went the same way.
func (r *liveRun) drop() {
	_ = r.conn.Conn().Close(context.Background())
	r.conn.Release()
	r.conn = nil
	r.log.db.pool.Reset()
}

// reclaim takes the run's lock again on a new session, under the job's run
// lock (the one BeginRun holds while it decides that a run is stale and
// begins another), so that either this run gets its lock back or another
// run began and this one has lost. Called with r.mu held and r.conn nil.
func (r *liveRun) reclaim(ctx context.Context) error {
	l := r.log
	actx, cancel := context.WithTimeout(ctx, ConnectTimeout)
	defer cancel()
	conn, err := l.db.pool.Acquire(actx)
	if err != nil {
		return nil // still unreachable
	}
	var status string
	var newer *int64
	var newerHost *string
	locked := false
	err = func() error {
		tx, err := conn.Begin(actx)
		if err != nil {
			return err
		}
		defer func() { _ = tx.Rollback(context.Background()) }()
		if _, err := tx.Exec(actx, `SELECT pg_advisory_xact_lock($1, hashtext($2))`, int32(runLock), r.jobID); err != nil {
			return err
		}
		if err := tx.QueryRow(actx, `SELECT status FROM connctl_activities WHERE id = $1`, r.id).Scan(&status); err != nil && !errors.Is(err, pgx.ErrNoRows) {
			return err
		}
		if err := tx.QueryRow(actx, `SELECT min(id), min(host) FROM connctl_activities WHERE job_id = $1 AND type = 'execution' AND id > $2`,
			r.jobID, r.id).Scan(&newer, &newerHost); err != nil {
			return err
		}
		if status != string(activitylog.StatusRunning) || newer != nil {
			return tx.Commit(actx)
		}
		// A session lock taken in a transaction outlives its commit.
		if _, err := tx.Exec(actx, `SELECT pg_advisory_lock($1, $2)`, int32(liveLock), int32(r.id)); err != nil {
			return err
		}
		locked = true
		return tx.Commit(actx)
	}()
	if err != nil {
		// The server went away again: try at the next check.
		_ = conn.Conn().Close(context.Background())
		conn.Release()
		return nil
	}
	if !locked {
		conn.Release()
		why := fmt.Sprintf("it is recorded %s", status)
		switch {
		case newer != nil:
			host := ""
			if newerHost != nil {
				host = *newerHost
			}
			why = fmt.Sprintf("run %d of the job began on %s meanwhile", *newer, host)
		case status == "":
			why = "its activity was deleted"
		}
		r.lost = fmt.Errorf("%w: run %d lost its session with the team store %s, and %s", activitylog.ErrClaimLost, r.id, l.db.site, why)
		return r.lost
	}
	r.conn = conn
	return nil
}

// HoldClaim makes sure run id holds its claim now: its session answers,
// or a new one took the lock again. While the server cannot be reached it
// tries again for a while (as Finish does), then returns the unreachable
// error; a claim lost to another run is an error wrapping
// activitylog.ErrClaimLost. For a run this handle did not begin, nil.
func (l *Log) HoldClaim(ctx context.Context, id int64) error {
	r := l.liveRun(id)
	if r == nil {
		return nil
	}
	limit := l.finishFor
	if limit <= 0 {
		limit = DefaultFinishFor
	}
	deadline := time.Now().Add(limit)
	wait := 200 * time.Millisecond
	for {
		if err := r.check(ctx); err != nil {
			return err
		}
		r.mu.Lock()
		held := r.conn != nil
		r.mu.Unlock()
		if held {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("check the claim of run %d: %w", id, unreachable(l.db.site, "", errors.New("no connection")))
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(wait):
		}
		wait = min(2*wait, 5*time.Second)
	}
}

// SetRunCheckpoint saves the checkpoint of run id's job through the
// session that holds the run's lock, so that only a run that still holds
// its claim can move it (else an error wrapping activitylog.ErrClaimLost).
// A session lost since the last check is taken again first; an unreachable
// server is the usual unreachable error. For a run this handle did not
// begin, it is SetCheckpoint.
func (l *Log) SetRunCheckpoint(ctx context.Context, id int64, jobID, value string) error {
	if l.liveRun(id) == nil {
		return l.SetCheckpoint(ctx, jobID, value)
	}
	return l.onRunConn(ctx, id, jobID, func(c *pgxpool.Conn) error {
		_, err := c.Exec(ctx, `INSERT INTO connctl_checkpoints (job_id, value, updated_at) VALUES ($1, $2, $3)
			ON CONFLICT (job_id) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at`,
			jobID, value, l.db.opts.Now().UnixNano())
		return err
	})
}

// SwapRunCheckpoint is SwapCheckpoint through the session that holds run
// id's lock, as SetRunCheckpoint is SetCheckpoint.
func (l *Log) SwapRunCheckpoint(ctx context.Context, id int64, jobID string, old, value *string) (bool, error) {
	if l.liveRun(id) == nil {
		return l.SwapCheckpoint(ctx, jobID, old, value)
	}
	var swapped bool
	err := l.onRunConn(ctx, id, jobID, func(c *pgxpool.Conn) error {
		var err error
		swapped, err = l.swapCheckpoint(ctx, c, jobID, old, value)
		return err
	})
	return swapped, err
}

// onRunConn runs write on the session that holds run id's lock: a session
// lost since the last check is taken again first (or the claim is found
// lost: an error wrapping activitylog.ErrClaimLost), and a write cut by a
// lost connection is tried once more on a new one.
func (l *Log) onRunConn(ctx context.Context, id int64, jobID string, write func(*pgxpool.Conn) error) error {
	r := l.liveRun(id)
	r.mu.Lock()
	defer r.mu.Unlock()
	for attempt := 0; ; attempt++ {
		if r.lost != nil {
			return r.lost
		}
		if r.conn == nil {
			if err := r.reclaim(ctx); err != nil {
				return err
			}
			if r.conn == nil {
				return fmt.Errorf("save the checkpoint of job %s: %w", jobID, unreachable(l.db.site, "", errors.New("no connection")))
			}
		}
		err := write(r.conn)
		if err == nil {
			return nil
		}
		if !connLost(err) || attempt > 0 {
			return l.fail("save the checkpoint of job "+jobID, err)
		}
		// The session was cut: take the lock again (or learn it is lost),
		// then write once more.
		r.drop()
	}
}

// finishRetrying runs Finish's update, retrying for a while (finishFor)
// when the server cannot be reached, so that a run that ended while the
// server restarted is still recorded. The pool is reset after a failure:
// its connections died with the server.
func (l *Log) finishRetrying(ctx context.Context, sql string, args ...any) (tag interface{ RowsAffected() int64 }, err error) {
	limit := l.finishFor
	if limit <= 0 {
		limit = DefaultFinishFor
	}
	deadline := time.Now().Add(limit)
	wait := 200 * time.Millisecond
	for {
		t, err := l.db.pool.Exec(ctx, sql, args...)
		if err == nil {
			return t, nil
		}
		if !connLost(err) || time.Now().After(deadline) || ctx.Err() != nil {
			return nil, err
		}
		l.db.pool.Reset()
		select {
		case <-ctx.Done():
			return nil, err
		case <-time.After(wait):
		}
		wait = min(2*wait, 5*time.Second)
	}
}
