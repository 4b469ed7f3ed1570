package worker

import (
	"context"
	"testing"
	"time"

	"github.com/connctl/connctl/internal/jobs"
)

type nextDue struct {
	at time.Time
	ok bool
}

func (n nextDue) Due(context.Context) ([]string, error) { return nil, nil }
func (n nextDue) NextDue(context.Context) (time.Time, bool, error) {
	return n.at, n.ok, nil
}
func (n nextDue) Paused(context.Context, string) (time.Time, error) { return time.Time{}, nil }
func (n nextDue) Run(context.Context, string, jobs.RunOptions) (jobs.Result, error) {
	return jobs.Result{}, nil
}

// The worker sleeps until the next job falls due, at most --poll, and
// never spins.
func TestWorkerWait(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 12, 5, 12, 0, 0, 0, time.UTC)
	poll := 30 * time.Second
	for _, tc := range []struct {
		name  string
		next  nextDue
		began int
		stuck bool
		want  time.Duration
	}{
		{"no scheduled job", nextDue{}, 0, false, poll},
		{"next due in 5s", nextDue{now.Add(5 * time.Second), true}, 1, false, 5*time.Second + 10*time.Millisecond},
		{"next due after the poll", nextDue{now.Add(time.Hour), true}, 0, false, poll},
		{"fell due during a look that ran jobs", nextDue{now.Add(-time.Second), true}, 2, false, 0},
		{"due, but the look began nothing", nextDue{now.Add(-time.Second), true}, 0, false, 100 * time.Millisecond},
		{"a due job could not begin", nextDue{now.Add(-time.Second), true}, 1, true, poll},
	} {
		w := &worker{opts: &Options{Poll: poll, Now: func() time.Time { return now }}, runner: tc.next, began: tc.began, stuck: tc.stuck}
		if got := w.wait(context.Background()); got != tc.want {
			t.Errorf("%s: wait = %s, want %s", tc.name, got, tc.want)
		}
	}
}
