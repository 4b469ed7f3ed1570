// Package jobview holds what the `connctl jobs` verbs share: a job as
// printed (View, Fields) and the out-of-the-box jobs that `create
// --default-jobs` and `jobs create --default-jobs` make. The jobs manager
// comes from deps.Jobs, job-name completion from complete.JobNames.
package jobview

import (
	"context"
	"time"

	"github.com/connctl/connctl/internal/activitylog"
	"github.com/connctl/connctl/internal/configstore"
	"github.com/connctl/connctl/internal/deps"
	"github.com/connctl/connctl/internal/jobs"
)

// Definitions is what the jobs verbs read of the config (*configstore.Store).
type Definitions interface {
	Document() *configstore.Document
	Find(name string) (*configstore.Connection, bool)
}

// Config returns d's config as the jobs verbs read it.
func Config(d *deps.Deps) func() (Definitions, error) {
	return func() (Definitions, error) {
		cfg, err := d.Config()
		if err != nil {
			return nil, err
		}
		return cfg, nil
	}
}

// Runs is what the jobs verbs read of the activity log (*activitylog.Store):
// a job's last run, and whether it is paused.
type Runs interface {
	List(ctx context.Context, f activitylog.Filter) ([]activitylog.Activity, error)
	SubjectState(ctx context.Context, subject, id string) (activitylog.SubjectState, bool, error)
}

// Activities returns d's activity log if it exists (nil when there is none,
// so that reading commands create nothing).
func Activities(d *deps.Deps) func() (Runs, error) {
	return func() (Runs, error) {
		store, err := d.ActivitiesIfAny()
		if err != nil || store == nil {
			return nil, err
		}
		return store, nil
	}
}

// Fields are the JSON fields of a job.
var Fields = []string{"id", "name", "connection", "connection_id", "source", "params", "dest", "format", "mode", "schedule",
	"notify_on", "paused_at", "last_run_status", "last_run_at", "checkpoint", "created_at", "updated_at"}

// View is a job as printed.
type View struct {
	ID           string            `json:"id"`
	Name         string            `json:"name"`
	Connection   string            `json:"connection"`
	ConnectionID string            `json:"connection_id"`
	Source       string            `json:"source"`
	Params       map[string]string `json:"params"`
	Dest         string            `json:"dest"`
	Format       string            `json:"format"`
	Mode         string            `json:"mode"`
	Schedule     string            `json:"schedule"`
	NotifyOn     string            `json:"notify_on"` // failure, always or never
	// PausedAt is when the job was paused after repeated failed runs
	// (null: not paused); `jobs run --due` skips a paused job.
	PausedAt      *time.Time `json:"paused_at"`
	LastRunStatus string     `json:"last_run_status"`
	LastRunAt     *time.Time `json:"last_run_at"`
	// Checkpoint is where an incremental job's next run starts (null:
	// none yet, or a full-refresh job: the next run fetches everything).
	Checkpoint *string   `json:"checkpoint"`
	CreatedAt  time.Time `json:"created_at"`
	UpdatedAt  time.Time `json:"updated_at"`
}

// From returns job j of doc as printed, with its last run from the
// activity log when there is one (store may be nil).
func From(ctx context.Context, doc *configstore.Document, j *configstore.Job, store Runs) View {
	v := View{ID: j.ID, Name: j.Name, ConnectionID: j.ConnectionID, Source: j.Source, Params: j.Params, Dest: j.Dest,
		Format: j.Format, Mode: j.Mode, Schedule: j.Schedule, NotifyOn: jobs.NotifyOn(j), CreatedAt: j.CreatedAt, UpdatedAt: j.UpdatedAt}
	if v.Params == nil {
		v.Params = map[string]string{}
	}
	if c := doc.ConnectionByID(j.ConnectionID); c != nil {
		v.Connection = c.Name
	}
	if store != nil {
		if runs, err := store.List(ctx, activitylog.Filter{JobID: j.ID, Type: activitylog.TypeExecution, Limit: 1}); err == nil && len(runs) > 0 {
			v.LastRunStatus = string(runs[0].Status)
			t := runs[0].StartedAt
			v.LastRunAt = &t
		}
		if st, ok, err := store.SubjectState(ctx, activitylog.SubjectJobState, j.ID); err == nil && ok && !st.PausedAt.IsZero() {
			t := st.PausedAt
			v.PausedAt = &t
		}
	}
	return v
}

// ReadCheckpoint fills in v.Checkpoint from the activity log (store may be
// nil). It is apart from From, so that `jobs list` reads checkpoints only
// for the jobs it prints as JSON (its table has no checkpoint column).
func (v *View) ReadCheckpoint(ctx context.Context, store Runs) {
	if cs, ok := store.(checkpoints); ok && v.Mode == jobs.ModeIncremental {
		if cp, ok, err := cs.Checkpoint(ctx, v.ID); err == nil && ok {
			v.Checkpoint = &cp
		}
	}
}

// checkpoints is the activity log's read of a job's checkpoint.
type checkpoints interface {
	Checkpoint(ctx context.Context, jobID string) (string, bool, error)
}
