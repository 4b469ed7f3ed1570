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

	Name        string
	Params      []connection.Assignment
	Dest        string
	Format      string
	Schedule    *string // nil: --schedule not given ("" means on demand)
	FullRefresh bool
	Incremental bool
	Rename      string
	NotifyOn    string // "": unchanged
}

// NewCmd returns `connctl jobs edit`.
func NewCmd(d *deps.Deps, runF func(context.Context, *Options) error) *cobra.Command {
	opts := &Options{IO: d.IO, Jobs: d.Jobs}
	if runF == nil {
		runF = run
	}
	var schedule string
	var params []string
	cmd := &cobra.Command{
		Use:               "edit <name> [--param k=v]... [--dest PATH|-] [--format F] [--schedule S] [--full-refresh|--incremental] [--rename NEW] [--notify-on failure|always|never]",
		Short:             "Change a job",
		Example:           "  connctl jobs edit tickets --schedule daily\n  connctl jobs edit tickets --schedule ''   # on demand\n  connctl jobs edit tickets --notify-on never",
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
	cmd.MarkFlagsMutuallyExclusive("full-refresh", "incremental")
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
	if len(changes) == 0 {
		opts.IO.Statusf("Job %s unchanged", j.Name)
		return nil
	}
	names := make([]string, len(changes))
	for i, ch := range changes {
		names[i] = ch.Field
	}
	opts.IO.Statusf("%sUpdated job %s (%s)", opts.IO.Success(), j.Name, strings.Join(names, ", "))
	return nil
}
