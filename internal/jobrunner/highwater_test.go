package jobrunner

import (
	"testing"
	"time"
)

func TestHighWaterKeepsTheLatest(t *testing.T) {
	t.Parallel()
	at := func(s string) time.Time {
		v, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	var w HighWater
	if got := w.Checkpoint("2026-01-01T00:00:00Z", time.RFC3339); got != "2026-01-01T00:00:00Z" {
		t.Errorf("nothing seen: %q, want since as it came", got)
	}
	if got := w.Checkpoint("", time.RFC3339); got != "" {
		t.Errorf("nothing seen, no checkpoint: %q", got)
	}
	w.See(at("2026-03-01T12:00:00.5+02:00"))
	w.See(at("2026-02-01T00:00:00Z")) // older: the mark stays
	w.See(at("2026-03-01T10:00:00.5Z"))
	if got := w.Latest(); !got.Equal(at("2026-03-01T10:00:00.5Z")) {
		t.Errorf("Latest = %v", got)
	}
	// The mark, in UTC and the source's layout; an older since does not matter.
	if got := w.Checkpoint("2026-01-01T00:00:00Z", time.RFC3339Nano); got != "2026-03-01T10:00:00.5Z" {
		t.Errorf("Checkpoint = %q", got)
	}
	if got := w.Checkpoint("", "2006-01-02T15:04:05.000Z07:00"); got != "2026-03-01T10:00:00.500Z" {
		t.Errorf("Checkpoint = %q", got)
	}
}

func TestHighWaterAboveMovesOnlyPastTheFloor(t *testing.T) {
	t.Parallel()
	floor := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	w := HighWaterAbove(floor)
	w.See(floor.Add(-time.Hour))
	w.See(floor) // at the checkpoint itself: not newer
	if got := w.Checkpoint("2026-03-01T12:00:00.000Z", time.RFC3339); got != "2026-03-01T12:00:00.000Z" {
		t.Errorf("nothing newer: %q, want since as it came", got)
	}
	if !w.Latest().Equal(floor) {
		t.Errorf("Latest = %v, want the floor", w.Latest())
	}
	w.See(floor.Add(time.Millisecond))
	if got := w.Checkpoint("2026-03-01T12:00:00.000Z", time.RFC3339Nano); got != "2026-03-01T12:00:00.001Z" {
		t.Errorf("newer: %q", got)
	}
	// A zero floor is the zero HighWater.
	if HighWaterAbove(time.Time{}) != (HighWater{}) {
		t.Error("HighWaterAbove(zero) differs from the zero HighWater")
	}
}
