package activitylog

import (
	"encoding/json"
	"fmt"
	"os"
	"time"
)

// The functions below let another backend of Log (package pgstore) keep the
// same rules as the SQLite Store: what an activity may hold and how it is
// stored, and how messages are cleaned.

// Normalize checks a and fills in what Record defaults (start time, status,
// a finish time for a finished activity), and cleans its message and
// changes; now is the start time of an activity that has none.
func (a *Activity) Normalize(now time.Time) error { return a.normalize(now) }

// CheckFinish checks the arguments of Finish.
func CheckFinish(st Status, reason Reason, counts Counts) error {
	if !isFinal(st) {
		return &finishError{st}
	}
	if err := checkReason(st, reason); err != nil {
		return err
	}
	return counts.check()
}

type finishError struct{ st Status }

func (e *finishError) Error() string { return "\"" + string(e.st) + "\" is not a final status" }

func isFinal(st Status) bool {
	for _, f := range finalStatuses {
		if f == st {
			return true
		}
	}
	return false
}

// Statuses returns the stored statuses f selects (StatusStale and
// StatusRunning stand for themselves): nil for any, empty for none.
func (f Filter) Statuses() ([]Status, error) { return f.wanted() }

// InsertArgs checks a, fills in its defaults (start time, status, a
// finish time for a finished activity; who when it has none and who is
// not empty; this process and host) and returns the values of the
// columns type, action, connection_id, connection_name, job_id, job_name,
// status, reason, message, who, started_at, finished_at, records, bytes,
// pages, retries, changes, pid, host, proc_start, without_cursor, in that
// order: what every backend inserts.
func (a *Activity) InsertArgs(now time.Time, who, host string) ([]any, error) {
	if err := a.normalize(now); err != nil {
		return nil, fmt.Errorf("activity log: %w", err)
	}
	if a.Who == "" {
		a.Who = who
	}
	if a.PID == 0 {
		a.PID = os.Getpid()
	}
	if a.Host == "" {
		a.Host = host
	}
	procStart := ""
	if a.Host == host {
		procStart = processStart(a.PID)
	}
	var finished, changes any
	if a.FinishedAt != nil {
		finished = a.FinishedAt.UnixNano()
	}
	if len(a.Changes) > 0 {
		b, err := json.Marshal(a.Changes)
		if err != nil {
			return nil, fmt.Errorf("activity log: %w", err)
		}
		changes = string(b)
	}
	return []any{string(a.Type), a.Action, a.ConnectionID, a.ConnectionName, a.JobID, a.JobName,
		string(a.Status), string(a.Reason), a.Message, a.Who, a.StartedAt.UnixNano(), finished,
		a.Records, a.Bytes, a.Pages, a.Retries, changes, a.PID, a.Host, procStart, a.WithoutCursor}, nil
}

// Columns returns the id and name columns of a subject's activities
// (connection_id and connection_name, or job_id and job_name).
func (sub Subject) Columns() (id, name string, err error) { return sub.columns() }

// MergeNewest merges two newest-first lists into one, keeping at most
// limit (0: all).
func MergeNewest(a, b []Activity, limit int) []Activity { return mergeNewest(a, b, limit) }
