// Package version implements `connctl version`.
package version

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/connctl/connctl/internal/build"
	"github.com/connctl/connctl/internal/deps"
	"github.com/connctl/connctl/internal/jsonexport"
)

// Options are the inputs of version.
type Options struct {
	Deps   *deps.Deps
	Export jsonexport.Exporter
}

// NewCmd returns `connctl version`.
func NewCmd(d *deps.Deps, runF func(context.Context, *Options) error) *cobra.Command {
	opts := &Options{Deps: d}
	if runF == nil {
		runF = run
	}
	cmd := &cobra.Command{
		Use:     "version",
		Short:   "Print connctl's version, commit, build date and Go version",
		Example: "  connctl version\n  connctl version -o json",
		Args:    cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			return runF(c.Context(), opts)
		},
	}
	jsonexport.AddFlags(cmd, &opts.Export, []string{"version", "commit", "date", "go_version"})
	return cmd
}

func run(_ context.Context, opts *Options) error {
	exp := opts.Export
	info := build.Info()
	if exp != nil {
		return exp.Write(opts.Deps.IO.Out, info)
	}
	fmt.Fprintf(opts.Deps.IO.Out, "connctl %s\n", info.Version)
	if info.Commit != "" {
		fmt.Fprintf(opts.Deps.IO.Out, "commit:  %s\n", info.Commit)
	}
	if info.Date != "" {
		fmt.Fprintf(opts.Deps.IO.Out, "built:   %s\n", info.Date)
	}
	fmt.Fprintf(opts.Deps.IO.Out, "go:      %s\n", info.GoVersion)
	return nil
}
