package activitylog

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
)

// Checkpoint returns the saved incremental checkpoint of a job, and whether
// there is one.
func (s *Store) Checkpoint(ctx context.Context, jobID string) (string, bool, error) {
	var v string
	err := s.db.QueryRowContext(ctx, `SELECT value FROM checkpoints WHERE job_id = ?`, jobID).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return "", false, nil
	}
	if err != nil {
		return "", false, s.fail("read checkpoint", err)
	}
	return v, true, nil
}

// SetCheckpoint saves a job's incremental checkpoint, replacing the previous
// one. Call it only once the run's output is durable (renamed into place, or
// fully written to stdout): a run that fails before then leaves the old
// checkpoint, and the next run fetches the same changes again. The write is
// synchronous (fsynced) before SetCheckpoint returns.
func (s *Store) SetCheckpoint(ctx context.Context, jobID, value string) error {
	if jobID == "" {
		return errors.New("activity log: a checkpoint needs a job ID")
	}
	_, err := s.db.ExecContext(ctx, `INSERT INTO checkpoints (job_id, value, updated_at) VALUES (?, ?, ?)
		ON CONFLICT (job_id) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at`,
		jobID, value, s.now().UnixNano())
	return s.fail(fmt.Sprintf("save the checkpoint of job %s", jobID), err)
}

// DeleteCheckpoint forgets a job's checkpoint, so that its next run fetches
// everything (a deleted job, or a full refresh that must not be undone by the
// old checkpoint). Deleting a missing checkpoint is not an error.
func (s *Store) DeleteCheckpoint(ctx context.Context, jobID string) error {
	_, err := s.db.ExecContext(ctx, `DELETE FROM checkpoints WHERE job_id = ?`, jobID)
	return s.fail(fmt.Sprintf("delete the checkpoint of job %s", jobID), err)
}

// SwapCheckpoint replaces a job's checkpoint with value (nil: deletes it)
// only if it is still old (nil: there is none), and says whether it did.
func (s *Store) SwapCheckpoint(ctx context.Context, jobID string, old, value *string) (bool, error) {
	if jobID == "" {
		return false, errors.New("activity log: a checkpoint needs a job ID")
	}
	var res sql.Result
	var err error
	now := s.now().UnixNano()
	switch {
	case old == nil && value == nil:
		_, had, err := s.Checkpoint(ctx, jobID)
		return !had, err
	case old == nil:
		res, err = s.db.ExecContext(ctx, `INSERT INTO checkpoints (job_id, value, updated_at) VALUES (?, ?, ?) ON CONFLICT (job_id) DO NOTHING`, jobID, *value, now)
	case value == nil:
		res, err = s.db.ExecContext(ctx, `DELETE FROM checkpoints WHERE job_id = ? AND value = ?`, jobID, *old)
	default:
		res, err = s.db.ExecContext(ctx, `UPDATE checkpoints SET value = ?, updated_at = ? WHERE job_id = ? AND value = ?`, *value, now, jobID, *old)
	}
	if err != nil {
		return false, s.fail(fmt.Sprintf("save the checkpoint of job %s", jobID), err)
	}
	n, err := res.RowsAffected()
	return n == 1, s.fail(fmt.Sprintf("save the checkpoint of job %s", jobID), err)
}
