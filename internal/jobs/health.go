package jobs

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/connctl/connctl/internal/activitylog"
	"github.com/connctl/connctl/internal/configstore"
	"github.com/connctl/connctl/internal/connection"
	"github.com/connctl/connctl/internal/exitcode"
	"github.com/connctl/connctl/internal/notify"
)

// Paused returns when the job with id was paused; zero when it is not.
func (r *Runner) Paused(ctx context.Context, id string) (time.Time, error) {
	st, ok, err := r.Log.SubjectState(ctx, notify.SubjectJob, id)
	if err != nil || !ok {
		return time.Time{}, err
	}
	return st.PausedAt, nil
}

func (r *Runner) pausedAt(ctx context.Context, id string) time.Time {
	t, err := r.Paused(ctx, id)
	if err != nil {
		r.warnf("cannot read whether the job is paused: %v", err)
	}
	return t
}

// observe tells the Observer how the run ended: a failure or a recovery
// is notified (as the job's --notify-on says), and a scheduled job's
// failure counts towards its pause.
func (r *Runner) observe(ctx context.Context, res *Result, runErr error) {
	if r.Observer == nil {
		return
	}
	job := &res.Job
	doc := r.Config.Document()
	o := notify.Observation{Subject: notify.SubjectJob, ID: job.ID, Name: job.Name, State: string(res.Status),
		Healthy: res.Status != activitylog.StatusFailed, CountsToPause: job.Schedule != "", PauseAfter: r.PauseAfter}
	switch NotifyOn(job) {
	case NotifyOnAlways:
		o.NotifySuccess = true
	case NotifyOnNever:
		o.Mute = true
	}
	if runErr != nil && !o.Healthy {
		o.Reason, _, _ = strings.Cut(runErr.Error(), "\n")
		o.Reason = strings.TrimPrefix(o.Reason, fmt.Sprintf("job %q: ", job.Name))
		o.Fix = fixOf(runErr, job)
	}
	o.PauseActivity = activitylog.Activity{Type: activitylog.TypeUpdate, Action: activitylog.ActionPause, JobID: job.ID, JobName: job.Name,
		Who: r.Who, Message: fmt.Sprintf("paused after %d consecutive failed scheduled runs (jobs.pause_after); resume it with `connctl jobs resume %s`", r.PauseAfter, connection.QuoteArg(job.Name)),
		Changes: []activitylog.Change{{Field: "paused", Old: "false", New: "true"}}}
	if c := doc.ConnectionByID(job.ConnectionID); c != nil {
		o.PauseActivity.ConnectionID, o.PauseActivity.ConnectionName = c.ID, c.Name
	}
	out, err := r.Observer.Observe(context.WithoutCancel(ctx), o)
	if err != nil {
		r.warnf("the run's outcome was not remembered for notifications: %v", err)
		return
	}
	res.Paused = out.Paused
	if !out.PausedAt.IsZero() {
		res.PausedAt = out.PausedAt
	}
}

// fixOf is the command a run error's hint names, else the failed runs'
// activities.
func fixOf(err error, job *configstore.Job) string {
	for _, h := range exitcode.Hints(err) {
		if _, rest, ok := strings.Cut(h, "`connctl "); ok {
			if cmd, _, ok := strings.Cut(rest, "`"); ok {
				return "connctl " + cmd
			}
		}
	}
	return "connctl activities --job " + connection.QuoteArg(job.Name) + " --failed"
}

// Resume undoes the pause of the job named name, recording a resume
// activity; false when it was not paused.
func (r *Runner) Resume(ctx context.Context, name string) (*configstore.Job, bool, error) {
	doc := r.Config.Document()
	_, j := doc.FindJob(name)
	if j == nil {
		return nil, false, NotFound(name)
	}
	states, ok := r.Log.(activitylog.States)
	if !ok {
		return j, false, fmt.Errorf("the activity log cannot pause or resume jobs")
	}
	act := activitylog.Activity{Type: activitylog.TypeUpdate, Action: activitylog.ActionResume, JobID: j.ID, JobName: j.Name, Who: r.Who,
		StartedAt: r.Now(), Changes: []activitylog.Change{{Field: "paused", Old: "true", New: "false"}}}
	if c := doc.ConnectionByID(j.ConnectionID); c != nil {
		act.ConnectionID, act.ConnectionName = c.ID, c.Name
	}
	resumed, err := notify.Resume(ctx, states, notify.SubjectJob, j.ID, act)
	return j, resumed, err
}
