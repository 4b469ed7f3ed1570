package jobrunner

import (
	"errors"
	"fmt"
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

// HighWater is the high-water mark of a run whose checkpoint is the latest
// time its records carry (updated_at, SystemModstamp): a source shows it
// each record's time, and it keeps the latest. It only moves forward: a
// time that is not after the mark leaves it. The zero HighWater has seen
// nothing.
type HighWater struct {
	floor, latest time.Time
}

// HighWaterAbove returns a HighWater that moves only past floor, for a
// source whose records can come again at the checkpoint itself (a filter
// coarser than the records' times): the checkpoint stays as it was unless
// a record is newer.
func HighWaterAbove(floor time.Time) HighWater {
	return HighWater{floor: floor, latest: floor}
}

// See moves the mark to t when t is after it.
func (w *HighWater) See(t time.Time) {
	if t.After(w.latest) {
		w.latest = t
	}
}

// Latest returns the mark: the latest time seen, or the floor (the zero
// time for the zero HighWater) when none was after it.
func (w *HighWater) Latest() time.Time { return w.latest }

// Checkpoint returns the checkpoint to end the run with: since (the run's
// checkpoint, as it came) when no time moved the mark, else the mark in UTC
// in layout.
func (w *HighWater) Checkpoint(since, layout string) string {
	if !w.latest.After(w.floor) {
		return since
	}
	return w.latest.UTC().Format(layout)
}

// CheckpointLike returns value written as a checkpoint of the same kind as
// current, a checkpoint a source returned: for a time, value read in any
// checkpoint form (RFC 3339, a datetime or a day; UTC when it names no
// zone) and written in current's layout; for an integer (epoch
// milliseconds), an integer. An opaque cursor, which only its source can
// make, cannot be set by hand.
func CheckpointLike(current, value string) (string, error) {
	value = strings.TrimSpace(value)
	if value == "" {
		return "", errors.New("the new checkpoint is empty")
	}
	if layout, ok := layoutOf(current); ok {
		t, ok := parseTime(value)
		if !ok {
			return "", fmt.Errorf("%q is not a time: give one such as %s (the current checkpoint is %s)", value, time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC).Format(layout), current)
		}
		return t.UTC().Format(layout), nil
	}
	if _, err := strconv.ParseInt(strings.TrimSpace(current), 10, 64); err == nil {
		if _, err := strconv.ParseInt(value, 10, 64); err != nil {
			return "", fmt.Errorf("%q is not a whole number, as the current checkpoint %s is (epoch milliseconds for this source)", value, current)
		}
		return value, nil
	}
	return "", fmt.Errorf("the current checkpoint is a cursor only the source can make (%s): clear it instead (the next run fetches everything)", current)
}

// layoutOf returns the checkpoint layout s is written in.
func layoutOf(s string) (string, bool) {
	for _, l := range checkpointLayouts {
		if t, err := time.Parse(l, s); err == nil {
			// The layout that writes it back the same, if any: RFC 3339 at
			// the precision it came with.
			for _, w := range []string{time.RFC3339, "2006-01-02T15:04:05.000Z07:00", time.RFC3339Nano, l} {
				if t.Format(w) == s {
					return w, true
				}
			}
			return l, true
		}
	}
	return "", false
}
