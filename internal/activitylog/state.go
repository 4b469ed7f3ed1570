package activitylog

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// The subjects whose health is remembered.
const (
	SubjectConnectionState = "connection"
	SubjectJobState        = "job"
)

// SubjectState is the last known health of a connection or a job: what
// notifications compare a new observation with (so that they tell a change,
// not every run), and the count of consecutive failures that pauses a job.
// Zero times mean never.
type SubjectState struct {
	Subject string // SubjectConnectionState or SubjectJobState
	ID      string // the connection's or job's ID (survives a rename)
	Name    string // its name when last seen
	State   string // the last observed state (status's state, or a run's status)
	Healthy bool
	// Since is when the subject last became healthy or unhealthy.
	Since time.Time
	// NotifiedAt is the last notification about the current health.
	NotifiedAt time.Time
	// Failures counts the consecutive failed observations that count
	// towards a pause (a scheduled job's runs); a success resets it.
	Failures int
	// PausedAt is when the job was paused; zero when it is not.
	PausedAt  time.Time
	UpdatedAt time.Time
}

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

const selectState = `SELECT subject, id, name, state, healthy, since, notified_at, failures, paused_at, updated_at FROM subject_states`

func scanState(sc interface{ Scan(...any) error }) (SubjectState, error) {
	var st SubjectState
	var healthy int
	var since, notified, paused, updated int64
	if err := sc.Scan(&st.Subject, &st.ID, &st.Name, &st.State, &healthy, &since, &notified, &st.Failures, &paused, &updated); err != nil {
		return st, err
	}
	st.Healthy = healthy != 0
	st.Since, st.NotifiedAt, st.PausedAt, st.UpdatedAt = fromNanos(since), fromNanos(notified), fromNanos(paused), fromNanos(updated)
	return st, nil
}

// SubjectState returns the remembered state of one subject, and whether
// there is one.
func (s *Store) SubjectState(ctx context.Context, subject, id string) (SubjectState, bool, error) {
	st, err := scanState(s.db.QueryRowContext(ctx, selectState+` WHERE subject = ? AND id = ?`, subject, id))
	if errors.Is(err, sql.ErrNoRows) {
		return SubjectState{}, false, nil
	}
	if err != nil {
		return SubjectState{}, false, s.fail("read the state of "+subject+" "+id, err)
	}
	return st, true, nil
}

// SubjectStates returns the remembered states of every subject of a kind,
// by ID.
func (s *Store) SubjectStates(ctx context.Context, subject string) (map[string]SubjectState, error) {
	rows, err := s.db.QueryContext(ctx, selectState+` WHERE subject = ?`, subject)
	if err != nil {
		return nil, s.fail("read states", err)
	}
	defer rows.Close()
	out := map[string]SubjectState{}
	for rows.Next() {
		st, err := scanState(rows)
		if err != nil {
			return nil, s.fail("read states", err)
		}
		out[st.ID] = st
	}
	return out, s.fail("read states", rows.Err())
}

// StateChange decides a subject's next state from the one remembered
// (found is false when there is none): it returns the state to store and
// the activities to record with it (a pause), or an error to change
// nothing.
type StateChange func(prev SubjectState, found bool) (next SubjectState, record []Activity, err error)

// UpdateSubjectState reads the state of (subject, id), lets change decide
// the next one, and stores it with the activities change returns, in one
// transaction that holds the write lock from the start (BEGIN IMMEDIATE):
// of two processes observing the same change at once, the second sees the
// first's result, so one message is sent, not two.
func (s *Store) UpdateSubjectState(ctx context.Context, subject, id string, change StateChange) error {
	if subject != SubjectConnectionState && subject != SubjectJobState {
		return fmt.Errorf("activity log: unknown subject %q", subject)
	}
	if id == "" {
		return errors.New("activity log: a state needs an ID")
	}
	tx, err := s.db.BeginTx(ctx, nil) // BEGIN IMMEDIATE (see dsn)
	if err != nil {
		return s.fail("update state", err)
	}
	defer tx.Rollback()
	prev, err := scanState(tx.QueryRowContext(ctx, selectState+` WHERE subject = ? AND id = ?`, subject, id))
	found := err == nil
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return s.fail("update state", err)
	}
	next, record, err := change(prev, found)
	if err != nil {
		return err
	}
	next.Subject, next.ID, next.UpdatedAt = subject, id, s.now()
	healthy := 0
	if next.Healthy {
		healthy = 1
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO subject_states (subject, id, name, state, healthy, since, notified_at, failures, paused_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (subject, id) DO UPDATE SET name = excluded.name, state = excluded.state, healthy = excluded.healthy,
			since = excluded.since, notified_at = excluded.notified_at, failures = excluded.failures,
			paused_at = excluded.paused_at, updated_at = excluded.updated_at`,
		subject, id, next.Name, next.State, healthy, nanos(next.Since), nanos(next.NotifiedAt), next.Failures, nanos(next.PausedAt), nanos(next.UpdatedAt)); err != nil {
		return s.fail("update state", err)
	}
	for _, a := range record {
		args, err := s.insertArgs(&a)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, insertActivity, args...); err != nil {
			return s.fail("record activity", err)
		}
	}
	return s.fail("update state", tx.Commit())
}
