package jobrunner

import (
	"strconv"
	"strings"
	"time"
)

// checkpointLayouts are the time forms sources write checkpoints in (RFC
// 3339 at any precision, BigQuery and Dynamics datetimes, Mixpanel days).
var checkpointLayouts = []string{time.RFC3339Nano, "2006-01-02T15:04:05.999999999", "2006-01-02 15:04:05.999999999", "2006-01-02"}

// forward returns the checkpoint to keep after a run that started at since
// and ended at next: next, unless both read as times (or both as integers,
// such as epoch milliseconds) and next is the earlier one: a server that
// answered with older records must not move the job back, to fetch again
// what it already delivered. A checkpoint that cannot be compared (an opaque cursor) is kept as the
// source returned it.
func forward(since, next string) string {
	if since == "" || next == "" || since == next {
		return next
	}
	if a, ok := parseTime(since); ok {
		if b, ok := parseTime(next); ok && b.Before(a) {
			return since
		}
		return next
	}
	a, errA := strconv.ParseInt(strings.TrimSpace(since), 10, 64)
	b, errB := strconv.ParseInt(strings.TrimSpace(next), 10, 64)
	if errA == nil && errB == nil && b < a {
		return since
	}
	return next
}

func parseTime(s string) (time.Time, bool) {
	for _, l := range checkpointLayouts {
		if t, err := time.Parse(l, s); err == nil {
			return t, true
		}
	}
	return time.Time{}, false
}
