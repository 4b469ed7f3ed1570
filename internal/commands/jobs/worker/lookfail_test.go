package worker

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/connctl/connctl/internal/exitcode"
	"github.com/connctl/connctl/internal/iostreams"
)

// A store that is down for a night: the worker logs the error once (with
// its hint), reminds of it at growing intervals capped at an hour, logs a
// new error when it changes, and one line when looks work again.
func TestLookFailedLogsLessOften(t *testing.T) {
	t.Parallel()
	ios, _, _, stderr := iostreams.Test()
	now := time.Date(2026, 12, 6, 0, 0, 0, 0, time.UTC)
	w := &worker{opts: &Options{IO: ios, Now: func() time.Time { return now }}}
	down := exitcode.WithHint(errors.New("cannot reach the team store at db:5432/connctl (connection refused)"), "start PostgreSQL there")
	poll := 30 * time.Second
	w.lookFailed(nil)      // a working look says nothing
	for range 8 * 60 * 2 { // 8 hours of looks every 30 s
		w.lookFailed(down)
		now = now.Add(poll)
	}
	refused := errors.New("the team store refused the login")
	w.lookFailed(refused)
	now = now.Add(poll)
	w.lookFailed(nil)
	w.lookFailed(nil)

	got := strings.Split(strings.TrimSpace(stderr.String()), "\n")
	var errs, hints, reminders, recovered int
	for _, l := range got {
		switch {
		case strings.Contains(l, " recovered: looks work again after 8h0m30s (961 failed); last error: the team store refused the login"):
			recovered++
		case strings.Contains(l, " error: still failing since 2026-12-06T00:00:00Z ("):
			reminders++
		case strings.Contains(l, " error: "):
			errs++
		case strings.Contains(l, " hint: "):
			hints++
		default:
			t.Errorf("unexpected line %q", l)
		}
	}
	// Reminders at 1, 3, 7, 15, 31, 63 minutes, then hourly to 8 h: 12.
	if errs != 2 || hints != 1 || recovered != 1 || reminders < 10 || reminders > 14 {
		t.Errorf("%d errors, %d hints, %d reminders, %d recovered lines, want 2, 1, 10-14, 1:\n%s", errs, hints, reminders, recovered, stderr)
	}
	if len(got) > 20 {
		t.Errorf("%d lines for a night's outage", len(got))
	}
}
