// Package jobview holds what the `connctl jobs` verbs share: a job as
// printed (View, Fields), the jobs manager that records update activities,
// job-name completion, and the out-of-the-box jobs that `create
// --default-jobs` and `jobs create --default-jobs` make.
package jobview

import (
	"context"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/connctl/connctl/internal/activitylog"
	"github.com/connctl/connctl/internal/configstore"
	"github.com/connctl/connctl/internal/connection"
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
// a job's last run.
type Runs interface {
	List(ctx context.Context, f activitylog.Filter) ([]activitylog.Activity, error)
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
	"last_run_status", "last_run_at", "created_at", "updated_at"}

// View is a job as printed.
type View struct {
	ID            string            `json:"id"`
	Name          string            `json:"name"`
	Connection    string            `json:"connection"`
	ConnectionID  string            `json:"connection_id"`
	Source        string            `json:"source"`
	Params        map[string]string `json:"params"`
	Dest          string            `json:"dest"`
	Format        string            `json:"format"`
	Mode          string            `json:"mode"`
	Schedule      string            `json:"schedule"`
	LastRunStatus string            `json:"last_run_status"`
	LastRunAt     *time.Time        `json:"last_run_at"`
	CreatedAt     time.Time         `json:"created_at"`
	UpdatedAt     time.Time         `json:"updated_at"`
}

// From returns job j of doc as printed, with its last run from the
// activity log when there is one (store may be nil).
func From(ctx context.Context, doc *configstore.Document, j *configstore.Job, store Runs) View {
	v := View{ID: j.ID, Name: j.Name, ConnectionID: j.ConnectionID, Source: j.Source, Params: j.Params, Dest: j.Dest,
		Format: j.Format, Mode: j.Mode, Schedule: j.Schedule, CreatedAt: j.CreatedAt, UpdatedAt: j.UpdatedAt}
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
	}
	return v
}

// Manager builds the jobs manager, recording update activities.
func Manager(d *deps.Deps) (*jobs.Manager, error) {
	cfg, err := d.Config()
	if err != nil {
		return nil, err
	}
	m := &jobs.Manager{Config: cfg, Catalog: d.Catalog(), Now: d.Now}
	if d.Activities != nil {
		m.OnUpdate = func(ctx context.Context, action string, j *configstore.Job, c *configstore.Connection, changes []connection.Change) {
			store, err := d.Activities()
			if err == nil {
				a := activitylog.Activity{Type: activitylog.TypeUpdate, Action: action, JobID: j.ID, JobName: j.Name,
					Status: activitylog.StatusSucceeded, Who: d.Who(), StartedAt: d.Now()}
				if c != nil {
					a.ConnectionID, a.ConnectionName = c.ID, c.Name
				}
				for _, ch := range changes {
					a.Changes = append(a.Changes, activitylog.Change{Field: ch.Field, Old: ch.Old, New: ch.New, Secret: ch.Secret})
				}
				_, err = store.Record(ctx, a)
			}
			if err != nil {
				d.IO.Warnf("the change was made but not recorded in the activity log: %v", err)
			}
		}
	}
	return m, nil
}

// JobNames completes job names from the config only.
func JobNames(d *deps.Deps) func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
	return func(c *cobra.Command, args []string, prefix string) ([]string, cobra.ShellCompDirective) {
		cfg, err := d.Config()
		if err != nil {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		var out []string
		for _, j := range cfg.Document().Jobs {
			if strings.HasPrefix(strings.ToLower(j.Name), strings.ToLower(prefix)) {
				out = append(out, j.Name)
			}
		}
		return out, cobra.ShellCompDirectiveNoFileComp
	}
}
