// Package show implements `connctl jobs show`.
package show

import (
	"context"
	"maps"
	"slices"
	"time"

	"github.com/spf13/cobra"

	"github.com/connctl/connctl/internal/commands/complete"
	"github.com/connctl/connctl/internal/commands/jobs/jobview"
	"github.com/connctl/connctl/internal/deps"
	"github.com/connctl/connctl/internal/iostreams"
	"github.com/connctl/connctl/internal/jobs"
	"github.com/connctl/connctl/internal/jsonexport"
	"github.com/connctl/connctl/internal/tableprint"
)

// Options are the inputs of jobs show.
type Options struct {
	IO     *iostreams.IOStreams
	Config func() (jobview.Definitions, error)
	// Activities opens the activity log if it exists (nil when none).
	Activities func() (jobview.Runs, error)

	Name   string
	Export jsonexport.Exporter
}

// NewCmd returns `connctl jobs show`.
func NewCmd(d *deps.Deps, runF func(context.Context, *Options) error) *cobra.Command {
	opts := &Options{IO: d.IO, Config: jobview.Config(d), Activities: jobview.Activities(d)}
	if runF == nil {
		runF = run
	}
	cmd := &cobra.Command{
		Use:               "show <name>",
		Short:             "Show a job",
		Example:           "  connctl jobs show tickets -o json",
		Args:              cobra.ExactArgs(1),
		ValidArgsFunction: complete.JobNames(d),
		RunE: func(c *cobra.Command, args []string) error {
			opts.Name = args[0]
			return runF(c.Context(), opts)
		},
	}
	jsonexport.AddFlags(cmd, &opts.Export, jobview.Fields)
	return cmd
}

func run(ctx context.Context, opts *Options) error {
	cfg, err := opts.Config()
	if err != nil {
		return err
	}
	_, j := cfg.Document().FindJob(opts.Name)
	if j == nil {
		return jobs.NotFound(opts.Name)
	}
	store, _ := opts.Activities()
	v := jobview.From(ctx, cfg.Document(), j, store)
	v.ReadCheckpoint(ctx, store)
	if opts.Export != nil {
		return opts.Export.Write(opts.IO.Out, v)
	}
	return table(opts.IO, v)
}

// table prints v as PROPERTY/VALUE rows, params in name order.
func table(ios *iostreams.IOStreams, v jobview.View) error {
	t := tableprint.NewIO(ios, "PROPERTY", "VALUE")
	t.Row("name", v.Name)
	t.Row("id", v.ID)
	t.Row("connection", v.Connection)
	t.Row("source", v.Source)
	for _, k := range slices.Sorted(maps.Keys(v.Params)) {
		t.Row("params."+k, v.Params[k])
	}
	t.Row("dest", v.Dest)
	t.Row("format", v.Format)
	t.Row("mode", v.Mode)
	t.Row("schedule", v.Schedule)
	t.Row("notify_on", v.NotifyOn)
	if v.PausedAt != nil {
		t.Row("paused_at", v.PausedAt.UTC().Format(time.RFC3339))
	}
	t.Row("last_run_status", v.LastRunStatus)
	if v.LastRunAt != nil {
		t.Row("last_run_at", v.LastRunAt.UTC().Format(time.RFC3339))
	}
	switch {
	case v.Checkpoint != nil:
		t.Row("checkpoint", *v.Checkpoint)
	case v.Mode == jobs.ModeIncremental:
		t.Row("checkpoint", "none yet: the next run fetches everything")
	}
	return t.Render()
}
