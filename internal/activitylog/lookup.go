package activitylog

import (
	"context"
	"errors"
	"fmt"
)

// ErrNoActivity is returned by Get for an id the log does not hold.
var ErrNoActivity = errors.New("no such activity")

// Get returns the activity with id; a running execution whose process is
// gone reads as stale, as in List.
func (s *Store) Get(ctx context.Context, id int64) (Activity, error) {
	stale := map[int64]bool{}
	runs, err := s.staleRuns(ctx, "id = ?", id)
	if err != nil {
		return Activity{}, s.fail("read activity", err)
	}
	for _, r := range runs {
		stale[r.id] = true
	}
	list, err := s.list(ctx, []string{"id = ?"}, []any{id}, 1, stale)
	if err != nil {
		return Activity{}, err
	}
	if len(list) == 0 {
		return Activity{}, ErrNoActivity
	}
	return list[0], nil
}

// Subject is what a name can stand for in the log: a connection or a job.
type Subject string

// Subjects.
const (
	SubjectConnection Subject = "connection"
	SubjectJob        Subject = "job"
)

func (sub Subject) columns() (id, name string, err error) {
	switch sub {
	case SubjectConnection:
		return "connection_id", "connection_name", nil
	case SubjectJob:
		return "job_id", "job_name", nil
	}
	return "", "", fmt.Errorf("activity log: unknown subject %q", sub)
}

// IDsNamed returns the ids of the connections or jobs that activities
// recorded under name (compared ignoring case), most recently active
// first: a deleted connection is found by the name it had, and a name
// used by two connections over time gives both.
func (s *Store) IDsNamed(ctx context.Context, sub Subject, name string) ([]string, error) {
	idCol, nameCol, err := sub.columns()
	if err != nil {
		return nil, err
	}
	// Both columns come from columns(), never from input.
	rows, err := s.db.QueryContext(ctx, "SELECT "+idCol+", max(started_at) AS last FROM activities WHERE "+idCol+" != '' AND "+
		nameCol+" = ? COLLATE NOCASE GROUP BY "+idCol+" ORDER BY last DESC", name)
	if err != nil {
		return nil, s.fail("look up "+string(sub)+" names", err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var id string
		var last int64
		if err := rows.Scan(&id, &last); err != nil {
			return nil, s.fail("look up "+string(sub)+" names", err)
		}
		out = append(out, id)
	}
	return out, s.fail("look up "+string(sub)+" names", rows.Err())
}

// Names returns every connection or job name the log recorded, for "did
// you mean" hints.
func (s *Store) Names(ctx context.Context, sub Subject) ([]string, error) {
	_, nameCol, err := sub.columns()
	if err != nil {
		return nil, err
	}
	rows, err := s.db.QueryContext(ctx, "SELECT DISTINCT "+nameCol+" FROM activities WHERE "+nameCol+" != '' ORDER BY "+nameCol)
	if err != nil {
		return nil, s.fail("list "+string(sub)+" names", err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			return nil, s.fail("list "+string(sub)+" names", err)
		}
		out = append(out, n)
	}
	return out, s.fail("list "+string(sub)+" names", rows.Err())
}
