// Package delete implements `connctl jobs delete`.
package delete

import (
	"context"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/connctl/connctl/internal/commands/complete"
	"github.com/connctl/connctl/internal/deps"
	"github.com/connctl/connctl/internal/exitcode"
	"github.com/connctl/connctl/internal/iostreams"
	"github.com/connctl/connctl/internal/jobs"
)

// Checkpoints is what delete needs of the activity log
// (*activitylog.Store).
type Checkpoints interface {
	DeleteCheckpoint(ctx context.Context, jobID string) error
}

// Options are the inputs of jobs delete.
type Options struct {
	IO *iostreams.IOStreams
	// Jobs builds the jobs manager (recording update activities).
	Jobs func() (*jobs.Manager, error)
	// Checkpoints opens the activity log if it exists (nil when none), to
	// drop a deleted job's checkpoint.
	Checkpoints func() (Checkpoints, error)

	Names []string
	Yes   bool
}

// NewCmd returns `connctl jobs delete`.
func NewCmd(d *deps.Deps, runF func(context.Context, *Options) error) *cobra.Command {
	opts := &Options{IO: d.IO, Jobs: d.Jobs,
		Checkpoints: func() (Checkpoints, error) {
			store, err := d.ActivitiesIfAny()
			if err != nil || store == nil {
				return nil, err
			}
			return store, nil
		}}
	if runF == nil {
		runF = run
	}
	cmd := &cobra.Command{
		Use:     "delete <name>... [--yes]",
		Aliases: []string{"rm"},
		Short:   "Delete jobs (their activities stay)",
		Long: `Delete one or more jobs. Every name is checked before anything is asked or
deleted. On a terminal, delete asks for confirmation; answering no deletes
nothing (exit 1). Otherwise it needs --yes (exit 2 without it).`,
		Example: "  connctl jobs delete tickets --yes\n  connctl jobs delete support-tickets support-agents",
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 {
				return exitcode.UsageError("give the name of the job to delete (see `connctl jobs list`)")
			}
			return nil
		},
		ValidArgsFunction: complete.JobNames(d),
		RunE: func(c *cobra.Command, args []string) error {
			opts.Names = args
			return runF(c.Context(), opts)
		},
	}
	cmd.Flags().BoolVarP(&opts.Yes, "yes", "y", false, "delete without asking")
	return cmd
}

func run(ctx context.Context, opts *Options) error {
	m, err := opts.Jobs()
	if err != nil {
		return err
	}
	doc := m.Config.Document()
	var names []string
	seen := map[string]bool{}
	for _, a := range opts.Names {
		_, j := doc.FindJob(a)
		if j == nil {
			return jobs.NotFound(a)
		}
		if !seen[j.ID] {
			seen[j.ID] = true
			names = append(names, j.Name)
		}
	}
	what := "job " + names[0]
	if len(names) > 1 {
		what = fmt.Sprintf("%d jobs %s", len(names), strings.Join(names, ", "))
	}
	if !opts.Yes {
		if !opts.IO.CanPrompt() {
			return exitcode.UsageError("not running interactively; pass --yes to delete %s", what)
		}
		ok, err := opts.IO.Confirm(fmt.Sprintf("Delete %s?", what))
		if err != nil {
			return err
		}
		if !ok {
			return exitcode.New(exitcode.Failure, "nothing deleted")
		}
	}
	for _, name := range names {
		deleted, err := m.Delete(ctx, name)
		if err != nil {
			return err
		}
		if store, err := opts.Checkpoints(); err == nil && store != nil {
			_ = store.DeleteCheckpoint(ctx, deleted.ID)
		}
		opts.IO.Statusf("%sDeleted job %s", opts.IO.Success(), deleted.Name)
	}
	return nil
}
