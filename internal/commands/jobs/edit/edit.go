// Package edit implements `connctl jobs edit`.
package edit

import (
	"context"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/connctl/connctl/internal/commands/complete"
	"github.com/connctl/connctl/internal/connection"
	"github.com/connctl/connctl/internal/deps"
	"github.com/connctl/connctl/internal/exitcode"
	"github.com/connctl/connctl/internal/iostreams"
	"github.com/connctl/connctl/internal/jobs"
)

// Options are the inputs of jobs edit.
type Options struct {
	IO *iostreams.IOStreams
	// Jobs builds the jobs manager (recording update activities).
	Jobs func() (*jobs.Manager, error)
	// Checkpoints opens the activity log, where checkpoints live.
	Checkpoints func() (jobs.CheckpointStore, error)

	Name        string
	Params      []connection.Assignment
	Dest        string
	Format      string
	Schedule    *string // nil: --schedule not given ("" means on demand)
	FullRefresh bool
	Incremental bool
	Rename      string
	NotifyOn    string // "": unchanged
	// Checkpoint is --checkpoint (nil: not given); ClearCheckpoint is
	// --clear-checkpoint.
	Checkpoint      *string
	ClearCheckpoint bool
}

// NewCmd returns `connctl jobs edit`.
func NewCmd(d *deps.Deps, runF func(context.Context, *Options) error) *cobra.Command {
	opts := &Options{IO: d.IO, Jobs: d.Jobs, Checkpoints: func() (jobs.CheckpointStore, error) {
		l, err := d.Activities()
		if err != nil {
			return nil, err
		}
		return l, nil
	}}
	if runF == nil {
		runF = run
	}
	var schedule, checkpoint string
	var params []string
	cmd := &cobra.Command{
		Use:   "edit <name> [--param k=v]... [--dest PATH|-] [--format F] [--schedule S] [--full-refresh|--incremental] [--rename NEW] [--notify-on failure|always|never] [--checkpoint TIME|--clear-checkpoint]",
		Short: "Change a job",
		Long: `Change a job's definition, or where its next incremental run starts.

An incremental job remembers a checkpoint (` + "`connctl jobs show NAME`" + ` prints it):
the time, or cursor, its next run fetches changes since. --checkpoint moves
it, back to fetch a period again (after a data problem downstream) or on to
skip one; give a time in any form (2026-11-01, 2026-11-01T00:00:00Z) and it
is written as the source writes its own. --clear-checkpoint forgets it: the
next run, scheduled or not, fetches everything. A run in progress keeps its
output but not its checkpoint, so the one set here stands. Both are
recorded as an update activity.`,
		Example: `  connctl jobs edit tickets --schedule daily
  connctl jobs edit tickets --schedule ''   # on demand
  connctl jobs edit tickets --notify-on never
  connctl jobs edit tickets --checkpoint 2026-11-01   # fetch again what changed since November 1
  connctl jobs edit tickets --clear-checkpoint        # the next run fetches everything`,
		Args:              cobra.ExactArgs(1),
		ValidArgsFunction: complete.JobNames(d),
		RunE: func(c *cobra.Command, args []string) error {
			opts.Name = args[0]
			for _, p := range params {
				a, err := connection.ParseAssignment(p)
				if err != nil {
					return exitcode.UsageError("--param %q is not key=value", p)
				}
				opts.Params = append(opts.Params, a)
			}
			if c.Flags().Changed("notify-on") && !slices.Contains(jobs.NotifyOnValues, opts.NotifyOn) {
				return exitcode.UsageError("--notify-on %q: choose failure, always or never", opts.NotifyOn)
			}
			if c.Flags().Changed("schedule") {
				opts.Schedule = &schedule
			}
			if c.Flags().Changed("checkpoint") {
				if strings.TrimSpace(checkpoint) == "" {
					return exitcode.UsageError("--checkpoint is empty: give a time such as 2026-11-01, or use --clear-checkpoint to forget it")
				}
				opts.Checkpoint = &checkpoint
			}
			return runF(c.Context(), opts)
		},
	}
	cmd.Flags().StringArrayVar(&params, "param", nil, "set a source parameter `key=value` (empty value removes it)")
	cmd.Flags().StringVar(&opts.Dest, "dest", "", "output `file`, or - for stdout")
	cmd.Flags().StringVar(&opts.Format, "format", "", "ndjson or csv")
	cmd.Flags().StringVar(&schedule, "schedule", "", "hourly, daily, weekly, \"every DURATION\", or empty for on demand")
	cmd.Flags().BoolVar(&opts.FullRefresh, "full-refresh", false, "always fetch everything")
	cmd.Flags().BoolVar(&opts.Incremental, "incremental", false, "fetch only what changed since the last successful run")
	cmd.Flags().StringVar(&opts.Rename, "rename", "", "new `name`")
	cmd.Flags().StringVar(&opts.NotifyOn, "notify-on", "", "when to notify: failure, always (every success too) or never")
	_ = cmd.RegisterFlagCompletionFunc("notify-on", complete.Values(jobs.NotifyOnValues...))
	cmd.Flags().StringVar(&checkpoint, "checkpoint", "", "move the incremental checkpoint: the next run fetches what changed since this `time`")
	cmd.Flags().BoolVar(&opts.ClearCheckpoint, "clear-checkpoint", false, "forget the incremental checkpoint: the next run fetches everything")
	cmd.MarkFlagsMutuallyExclusive("full-refresh", "incremental")
	cmd.MarkFlagsMutuallyExclusive("checkpoint", "clear-checkpoint")
	return cmd
}

func run(ctx context.Context, opts *Options) error {
	spec := jobs.EditSpec{Params: opts.Params, Dest: opts.Dest, Format: opts.Format, Schedule: opts.Schedule, Rename: opts.Rename, NotifyOn: opts.NotifyOn}
	if opts.FullRefresh || opts.Incremental {
		f := opts.FullRefresh
		spec.FullRefresh = &f
	}
	m, err := opts.Jobs()
	if err != nil {
		return err
	}
	j, changes, err := m.Edit(ctx, opts.Name, spec)
	if err != nil {
		return err
	}
	if len(changes) > 0 {
		names := make([]string, len(changes))
		for i, ch := range changes {
			names[i] = ch.Field
		}
		opts.IO.Statusf("%sUpdated job %s (%s)", opts.IO.Success(), j.Name, strings.Join(names, ", "))
	}
	moved := false
	if opts.Checkpoint != nil || opts.ClearCheckpoint {
		cps, err := opts.Checkpoints()
		if err != nil {
			return err
		}
		old, set, err := m.SetCheckpoint(ctx, cps, j.Name, opts.Checkpoint)
		if err != nil {
			return err
		}
		switch {
		case set == nil && old != nil:
			moved = true
			opts.IO.Statusf("%sCleared the checkpoint of job %s (was %s): its next run fetches everything", opts.IO.Success(), j.Name, *old)
		case set != nil && *old != *set:
			moved = true
			opts.IO.Statusf("%sMoved the checkpoint of job %s from %s to %s: its next run fetches what changed since then", opts.IO.Success(), j.Name, *old, *set)
		}
	}
	if len(changes) == 0 && !moved {
		opts.IO.Statusf("Job %s unchanged", j.Name)
	}
	return nil
}
