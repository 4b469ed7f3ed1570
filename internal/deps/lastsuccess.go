package deps

import (
	"context"
	"time"

	"github.com/connctl/connctl/internal/activitylog"
)

// LastSuccess returns, per job ID of jobIDs, when its last succeeded run
// finished (the Prometheus gauge of `connctl status -o prometheus`); jobs
// that never succeeded are absent. No activity log yet means none; a log
// that cannot be read is a warning, as for FailedLastDay.
func (d *Deps) LastSuccess(ctx context.Context, jobIDs []string) map[string]time.Time {
	out := map[string]time.Time{}
	store, err := d.ActivitiesIfAny()
	if err != nil || store == nil {
		if err != nil {
			d.IO.Warnf("cannot read the activity log: %v", err)
		}
		return out
	}
	for _, id := range jobIDs {
		runs, err := store.List(ctx, activitylog.Filter{JobID: id, Type: activitylog.TypeExecution, Status: activitylog.StatusSucceeded, Limit: 1})
		if err != nil {
			d.IO.Warnf("cannot read the activity log: %v", err)
			return out
		}
		if len(runs) == 1 {
			at := runs[0].StartedAt
			if runs[0].FinishedAt != nil {
				at = *runs[0].FinishedAt
			}
			out[id] = at.UTC()
		}
	}
	return out
}
