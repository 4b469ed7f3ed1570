// Package get implements `connctl config get`.
package get

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/connctl/connctl/internal/commands/config/keyarg"
	"github.com/connctl/connctl/internal/configstore"
	"github.com/connctl/connctl/internal/deps"
	"github.com/connctl/connctl/internal/exitcode"
	"github.com/connctl/connctl/internal/iostreams"
)

// Options are the inputs of config get.
type Options struct {
	IO     *iostreams.IOStreams
	Config func() (configstore.Config, error)

	Key string
}

// NewCmd returns `connctl config get`.
func NewCmd(d *deps.Deps, runF func(context.Context, *Options) error) *cobra.Command {
	opts := &Options{IO: d.IO, Config: d.Settings} // the local file only
	if runF == nil {
		runF = run
	}
	return &cobra.Command{
		Use:               "get <key>",
		Short:             "Print a setting's effective value",
		Example:           "  connctl config get limits.crm",
		Args:              keyarg.Args(1),
		ValidArgsFunction: keyarg.Complete,
		RunE: func(c *cobra.Command, args []string) error {
			opts.Key = args[0]
			return runF(c.Context(), opts)
		},
	}
}

func run(_ context.Context, opts *Options) error {
	cfg, err := opts.Config()
	if err != nil {
		return err
	}
	v, err := cfg.Get(opts.Key)
	if err != nil {
		return exitcode.UsageError("%s", err.Error())
	}
	fmt.Fprintln(opts.IO.Out, v.Value)
	return nil
}
