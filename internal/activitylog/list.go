package activitylog

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Filter selects activities for List. Zero fields select everything; set
// fields must all match (FailedOnly with a Status selects that status if it
// is failed or stale, nothing otherwise).
type Filter struct {
	ConnectionID string
	JobID        string
	// ConnectionIDs and JobIDs match any of their ids (a name the log
	// recorded for several connections or jobs over time).
	ConnectionIDs []string
	JobIDs        []string
	Type          Type
	Status        Status    // any status, StatusStale included
	FailedOnly    bool      // failed and stale activities, as FailedSince counts them
	Since         time.Time // started at or after
	Limit         int       // the newest Limit; 0: no limit
}

// wanted is the set of statuses f asks for, as read (stale included); nil
// means any.
func (f Filter) wanted() ([]Status, error) {
	var want []Status
	if f.Status != "" {
		if f.Status != StatusStale && !slices.Contains(storedStatuses, f.Status) {
			return nil, fmt.Errorf("activity log: unknown status %q", f.Status)
		}
		want = []Status{f.Status}
	}
	if f.FailedOnly {
		failed := []Status{StatusFailed, StatusStale}
		if want == nil {
			want = failed
		} else if !slices.Contains(failed, f.Status) {
			want = []Status{} // failed and something else: nothing
		}
	}
	return want, nil
}

const activityColumns = `id, type, action, connection_id, connection_name, job_id, job_name, status, reason, message,
	who, started_at, finished_at, records, bytes, pages, retries, changes, pid, host, without_cursor`

// List returns the activities f selects, newest first (by start time, then
// ID). A running execution whose process is gone comes back with
// StatusStale.
func (s *Store) List(ctx context.Context, f Filter) ([]Activity, error) {
	want, err := f.wanted()
	if err != nil {
		return nil, err
	}
	if f.Type != "" && f.Type != TypeExecution && f.Type != TypeUpdate {
		return nil, fmt.Errorf("activity log: unknown activity type %q", f.Type)
	}
	if want != nil && len(want) == 0 {
		return []Activity{}, nil
	}
	running, err := s.runningRuns(ctx, s.db, "")
	if err != nil {
		return nil, s.fail("list activities", err)
	}
	stale := map[int64]bool{}
	var staleRuns, liveRuns []run
	for _, r := range running {
		if s.stale(r) {
			stale[r.id] = true
			staleRuns = append(staleRuns, r)
		} else {
			liveRuns = append(liveRuns, r)
		}
	}

	var where []string
	var args []any
	if f.ConnectionID != "" {
		where, args = append(where, "connection_id = ?"), append(args, f.ConnectionID)
	}
	if f.JobID != "" {
		where, args = append(where, "job_id = ?"), append(args, f.JobID)
	}
	for col, ids := range map[string][]string{"connection_id": f.ConnectionIDs, "job_id": f.JobIDs} {
		if len(ids) > 0 {
			where = append(where, col+" IN (?"+strings.Repeat(", ?", len(ids)-1)+")")
			for _, id := range ids {
				args = append(args, id)
			}
		}
	}
	if f.Type != "" {
		where, args = append(where, "type = ?"), append(args, string(f.Type))
	}
	if !f.Since.IsZero() {
		where, args = append(where, "started_at >= ?"), append(args, f.Since.UnixNano())
	}
	if want == nil {
		return s.list(ctx, where, args, f.Limit, stale)
	}
	// Statuses as stored go to one query, which the status index returns in
	// order, so LIMIT stops it early; running rows, live or stale, are few
	// and known by ID, and go to another. The two lists are then merged.
	var stored []any
	var byID []run
	for _, st := range want {
		switch st {
		case StatusStale:
			byID = append(byID, staleRuns...)
		case StatusRunning:
			byID = append(byID, liveRuns...)
		default:
			stored = append(stored, string(st))
		}
	}
	out := []Activity{}
	if len(stored) > 0 {
		cond := "status IN (?" + strings.Repeat(", ?", len(stored)-1) + ")"
		if len(stored) == 1 {
			cond = "status = ?"
		}
		out, err = s.list(ctx, append(slices.Clip(where), cond), slices.Concat(args, stored), f.Limit, stale)
		if err != nil {
			return nil, err
		}
	}
	if len(byID) > 0 {
		// The IDs are integers read from the database, safe to inline.
		// status = 'running' drops a run that finished since.
		cond := "status = 'running' AND id IN (" + idList(byID) + ")"
		runs, err := s.list(ctx, append(slices.Clip(where), cond), args, f.Limit, stale)
		if err != nil {
			return nil, err
		}
		out = mergeNewest(out, runs, f.Limit)
	}
	return out, nil
}

// list runs one listing query; rows whose ID is in stale read StatusStale.
func (s *Store) list(ctx context.Context, where []string, args []any, limit int, stale map[int64]bool) ([]Activity, error) {
	query := "SELECT " + activityColumns + " FROM activities"
	if len(where) > 0 {
		query += " WHERE " + strings.Join(where, " AND ")
	}
	query += " ORDER BY started_at DESC, id DESC"
	if limit > 0 {
		query += " LIMIT ?"
		args = append(slices.Clip(args), limit)
	}
	rows, err := s.db.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, s.fail("list activities", err)
	}
	defer rows.Close()
	out := []Activity{}
	for rows.Next() {
		a, err := scanActivity(rows)
		if err != nil {
			return nil, s.fail("list activities", err)
		}
		if a.Status == StatusRunning && stale[a.ID] {
			a.Status = StatusStale
		}
		out = append(out, a)
	}
	return out, s.fail("list activities", rows.Err())
}

// newer is the listing order: later start first, then higher ID.
func newer(a, b Activity) bool {
	if !a.StartedAt.Equal(b.StartedAt) {
		return a.StartedAt.After(b.StartedAt)
	}
	return a.ID > b.ID
}

// mergeNewest merges two newest-first lists, keeping at most limit (0: all).
func mergeNewest(a, b []Activity, limit int) []Activity {
	out := make([]Activity, 0, len(a)+len(b))
	for len(a) > 0 || len(b) > 0 {
		if limit > 0 && len(out) == limit {
			break
		}
		if len(b) == 0 || (len(a) > 0 && newer(a[0], b[0])) {
			out, a = append(out, a[0]), a[1:]
		} else {
			out, b = append(out, b[0]), b[1:]
		}
	}
	return out
}

func idList(runs []run) string {
	var b strings.Builder
	for i, r := range runs {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(strconv.FormatInt(r.id, 10))
	}
	return b.String()
}

func scanActivity(rows *sql.Rows) (Activity, error) {
	var a Activity
	var typ, status, reason string
	var started int64
	var finished sql.NullInt64
	var changes sql.NullString
	err := rows.Scan(&a.ID, &typ, &a.Action, &a.ConnectionID, &a.ConnectionName, &a.JobID, &a.JobName,
		&status, &reason, &a.Message, &a.Who, &started, &finished,
		&a.Records, &a.Bytes, &a.Pages, &a.Retries, &changes, &a.PID, &a.Host, &a.WithoutCursor)
	if err != nil {
		return a, err
	}
	a.Type, a.Status, a.Reason = Type(typ), Status(status), Reason(reason)
	a.StartedAt = time.Unix(0, started).UTC()
	if finished.Valid {
		t := time.Unix(0, finished.Int64).UTC()
		a.FinishedAt = &t
	}
	if changes.Valid {
		if err := json.Unmarshal([]byte(changes.String), &a.Changes); err != nil {
			return a, fmt.Errorf("activity %d: changes: %w", a.ID, err)
		}
	}
	return a, nil
}

// FailedSince counts, per connection ID, the failed activities that started
// at or after since: executions and updates stored as failed, and stale
// executions (a run that died is a failure nobody recorded). Partially
// succeeded and cancelled runs are not failures. It is the marker of
// `connctl list`; connections with none are absent from the map.
func (s *Store) FailedSince(ctx context.Context, since time.Time) (map[string]int, error) {
	// The status index covers this query: no table row is read.
	rows, err := s.db.QueryContext(ctx, `SELECT connection_id, count(*) FROM activities
		WHERE status = 'failed' AND started_at >= ? AND connection_id != ''
		GROUP BY connection_id`, since.UnixNano())
	if err != nil {
		return nil, s.fail("count failed activities", err)
	}
	defer rows.Close()
	out := map[string]int{}
	for rows.Next() {
		var id string
		var n int
		if err := rows.Scan(&id, &n); err != nil {
			return nil, s.fail("count failed activities", err)
		}
		out[id] = n
	}
	if err := rows.Err(); err != nil {
		return nil, s.fail("count failed activities", err)
	}
	stale, err := s.staleRuns(ctx, "started_at >= ? AND connection_id != ''", since.UnixNano())
	if err != nil {
		return nil, s.fail("count failed activities", err)
	}
	for _, r := range stale {
		out[r.connectionID]++
	}
	return out, nil
}

// Prune deletes the activities that started before olderThan and returns how
// many it deleted. A live run is kept however old; a stale one goes.
// Checkpoints are kept. It deletes in batches, one transaction each, so that
// a large prune never holds the write lock for long.
func (s *Store) Prune(ctx context.Context, olderThan time.Time) (int64, error) {
	cutoff := olderThan.UnixNano()
	var total int64
	for {
		res, err := s.db.ExecContext(ctx, `DELETE FROM activities WHERE id IN (
			SELECT id FROM activities WHERE started_at < ? AND status != 'running' LIMIT ?)`, cutoff, s.pruneBatch)
		if err != nil {
			return total, s.fail("prune activities", err)
		}
		n, err := res.RowsAffected()
		if err != nil {
			return total, s.fail("prune activities", err)
		}
		total += n
		if n < int64(s.pruneBatch) {
			break
		}
	}
	stale, err := s.staleRuns(ctx, "started_at < ?", cutoff)
	if err != nil || len(stale) == 0 {
		return total, s.fail("prune activities", err)
	}
	res, err := s.db.ExecContext(ctx, "DELETE FROM activities WHERE status = 'running' AND id IN ("+idList(stale)+")")
	if err != nil {
		return total, s.fail("prune activities", err)
	}
	n, err := res.RowsAffected()
	return total + n, s.fail("prune activities", err)
}
