// Package resume implements `connctl jobs resume`: undo the pause of a job
// whose scheduled runs kept failing.
package resume

import (
	"context"

	"github.com/spf13/cobra"

	"github.com/connctl/connctl/internal/commands/complete"
	"github.com/connctl/connctl/internal/configstore"
	"github.com/connctl/connctl/internal/deps"
	"github.com/connctl/connctl/internal/iostreams"
	"github.com/connctl/connctl/internal/jobs"
)

// Resumer resumes a paused job (*jobs.Runner).
type Resumer interface {
	Resume(ctx context.Context, name string) (*configstore.Job, bool, error)
}

// Options are the inputs of jobs resume.
type Options struct {
	IO *iostreams.IOStreams
	// Jobs builds what resumes the job (a jobs.Runner on the activity log).
	Jobs func() (Resumer, error)

	Names []string
}

// NewCmd returns `connctl jobs resume`.
func NewCmd(d *deps.Deps, runF func(context.Context, *Options) error) *cobra.Command {
	opts := &Options{IO: d.IO, Jobs: func() (Resumer, error) { return newResumer(d) }}
	if runF == nil {
		runF = run
	}
	cmd := &cobra.Command{
		Use:   "resume <name>...",
		Short: "Resume jobs paused after repeated failed runs",
		Long: `Resume jobs that were paused because jobs.pause_after of their scheduled runs
failed in a row (default 3; ` + "`connctl config set jobs.pause_after 0`" + ` never
pauses). ` + "`connctl jobs run --due`" + ` runs them again when they are due, and
their count of failed runs starts again from zero. Each resume is recorded
as an update activity (action resume). Resuming a job that is not paused
changes nothing and says so.`,
		Example: `  connctl jobs resume tickets
  connctl jobs list                       # a paused job shows "(paused)" after its schedule
  connctl activities --job tickets --type update`,
		Args:              cobra.MinimumNArgs(1),
		ValidArgsFunction: complete.JobNames(d),
		RunE: func(c *cobra.Command, args []string) error {
			opts.Names = args
			return runF(c.Context(), opts)
		},
	}
	return cmd
}

func newResumer(d *deps.Deps) (Resumer, error) {
	cfg, err := d.Config()
	if err != nil {
		return nil, err
	}
	store, err := d.Activities()
	if err != nil {
		return nil, err
	}
	return &jobs.Runner{Config: cfg, Log: store, Now: d.Now, Who: d.Who(), Warnf: d.IO.Warnf}, nil
}

func run(ctx context.Context, opts *Options) error {
	r, err := opts.Jobs()
	if err != nil {
		return err
	}
	for _, n := range opts.Names {
		j, resumed, err := r.Resume(ctx, n)
		if err != nil {
			return err
		}
		if resumed {
			opts.IO.Statusf("%sResumed job %s", opts.IO.Success(), j.Name)
		} else {
			opts.IO.Statusf("Job %s is not paused", j.Name)
		}
	}
	return nil
}
