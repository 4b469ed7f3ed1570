package activitylog

import "time"

// The functions below let another backend of Log (package pgstore) keep the
// same rules as the SQLite Store: what an activity may hold, how messages
// are cleaned, and when a running execution is stale.

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

// ProcessStart is an identifier of process pid's start (empty where the
// platform has none), to tell a reused PID from the run's process.
func ProcessStart(pid int) string { return processStart(pid) }

// Stale reports whether a running execution recorded by process pid on host
// (with ProcessStart procStart) has ended without finishing: only a run on
// this host can be checked; one on another host counts as live.
func Stale(thisHost, host string, pid int, procStart string) bool {
	if host != "" && host != thisHost {
		return false
	}
	if pid <= 0 || !processAlive(pid) {
		return true
	}
	if procStart != "" {
		if now := processStart(pid); now != "" && now != procStart {
			return true
		}
	}
	return false
}

// MergeNewest merges two newest-first lists into one, keeping at most
// limit (0: all).
func MergeNewest(a, b []Activity, limit int) []Activity { return mergeNewest(a, b, limit) }
