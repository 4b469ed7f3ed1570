// Package path implements `connctl config path`.
package path

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/connctl/connctl/internal/deps"
	"github.com/connctl/connctl/internal/iostreams"
)

// Options are the inputs of config path.
type Options struct {
	IO         *iostreams.IOStreams
	ConfigPath func() (string, error)
}

// NewCmd returns `connctl config path`.
func NewCmd(d *deps.Deps, runF func(context.Context, *Options) error) *cobra.Command {
	opts := &Options{IO: d.IO, ConfigPath: d.ConfigPath}
	if runF == nil {
		runF = run
	}
	return &cobra.Command{
		Use:     "path",
		Short:   "Print the config file's path",
		Example: "  connctl config path",
		Args:    cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			return runF(c.Context(), opts)
		},
	}
}

func run(_ context.Context, opts *Options) error {
	p, err := opts.ConfigPath()
	if err != nil {
		return err
	}
	fmt.Fprintln(opts.IO.Out, p)
	return nil
}
