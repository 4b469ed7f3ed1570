package jobrunner

import (
	"strings"
	"testing"
)

func TestCheckpointLike(t *testing.T) {
	t.Parallel()
	for _, c := range []struct{ current, value, want, err string }{
		{"2026-12-01T09:00:00Z", "2026-11-01T00:00:00Z", "2026-11-01T00:00:00Z", ""},
		{"2026-12-01T09:00:00Z", "2026-11-01", "2026-11-01T00:00:00Z", ""},
		{"2026-12-01T09:00:00Z", "2026-11-01T02:00:00+02:00", "2026-11-01T00:00:00Z", ""},
		{"2026-12-01T09:00:00.123Z", "2026-11-01T00:00:00Z", "2026-11-01T00:00:00.000Z", ""}, // Gainsight's milliseconds
		{"2026-12-01T09:00:00.123456789Z", "2026-11-01", "2026-11-01T00:00:00Z", ""},         // RFC3339Nano drops zeros
		{"2026-12-01 09:00:00", "2026-11-01T00:00:00Z", "2026-11-01 00:00:00", ""},           // BigQuery datetime
		{"2026-12-01", "2026-11-01T10:00:00Z", "2026-11-01", ""},                             // Mixpanel day
		{"1764579600000", " 1761955200000 ", "1761955200000", ""},                            // epoch ms
		{"2026-12-01T09:00:00Z", "last tuesday", "", `"last tuesday" is not a time: give one such as 2026-11-01T00:00:00Z`},
		{"1764579600000", "2026-11-01", "", "is not a whole number"},
		{"eyJjdXJzb3IiOjF9", "abc", "", "a cursor only the source can make"},
		{"2026-12-01T09:00:00Z", "  ", "", "empty"},
	} {
		got, err := CheckpointLike(c.current, c.value)
		if c.err != "" {
			if err == nil || !strings.Contains(err.Error(), c.err) {
				t.Errorf("CheckpointLike(%q, %q) = %q, %v; want an error with %q", c.current, c.value, got, err, c.err)
			}
			continue
		}
		if err != nil || got != c.want {
			t.Errorf("CheckpointLike(%q, %q) = %q, %v; want %q", c.current, c.value, got, err, c.want)
		}
	}
}
