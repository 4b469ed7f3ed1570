// Package prune implements `connctl activities prune`.
package prune

import (
	"context"
	"time"

	"github.com/spf13/cobra"

	"github.com/connctl/connctl/internal/activitylog"
	"github.com/connctl/connctl/internal/commands/activities/list"
	"github.com/connctl/connctl/internal/deps"
	"github.com/connctl/connctl/internal/exitcode"
	"github.com/connctl/connctl/internal/iostreams"
)

// Options are the inputs of activities prune.
type Options struct {
	IO         *iostreams.IOStreams
	Activities func() (activitylog.Log, error) // nil store: no log yet
	Now        func() time.Time

	OlderThan string        // as given, for the confirmation
	Age       time.Duration // OlderThan parsed
}

// NewCmd returns `connctl activities prune`.
func NewCmd(d *deps.Deps, runF func(context.Context, *Options) error) *cobra.Command {
	opts := &Options{IO: d.IO, Activities: d.ActivitiesIfAny, Now: d.Now}
	if runF == nil {
		runF = run
	}
	cmd := &cobra.Command{
		Use:     "prune --older-than 90d",
		Short:   "Delete activities older than a given age",
		Example: "  connctl activities prune --older-than 90d",
		Args:    cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			if opts.OlderThan == "" {
				return exitcode.UsageError("--older-than is required, e.g. --older-than 90d")
			}
			age, err := list.ParseAge(opts.OlderThan)
			if err != nil {
				return exitcode.UsageError("--older-than %q is not a duration such as 90d or 720h", opts.OlderThan)
			}
			opts.Age = age
			return runF(c.Context(), opts)
		},
	}
	cmd.Flags().StringVar(&opts.OlderThan, "older-than", "", "delete activities that started longer ago than this `age` (90d, 720h)")
	return cmd
}

func run(ctx context.Context, opts *Options) error {
	store, err := opts.Activities()
	if err != nil {
		return err
	}
	var n int64
	if store != nil {
		if n, err = store.Prune(ctx, opts.Now().Add(-opts.Age)); err != nil {
			return err
		}
	}
	opts.IO.Statusf("%sDeleted %d activities older than %s", opts.IO.Success(), n, opts.OlderThan)
	return nil
}
