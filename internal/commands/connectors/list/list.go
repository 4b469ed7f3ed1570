// Package list implements `connctl connectors list` (and `connctl
// connectors` alone).
package list

import (
	"context"
	"strings"

	"github.com/spf13/cobra"

	"github.com/connctl/connctl/internal/commands/connectors/connectorview"
	"github.com/connctl/connctl/internal/connector"
	"github.com/connctl/connctl/internal/deps"
	"github.com/connctl/connctl/internal/iostreams"
	"github.com/connctl/connctl/internal/jsonexport"
	"github.com/connctl/connctl/internal/tableprint"
)

// Options are the inputs of connectors list.
type Options struct {
	IO      *iostreams.IOStreams
	Catalog func() *connector.Catalogue

	Export jsonexport.Exporter
}

// NewCmd returns `connctl connectors list`.
func NewCmd(d *deps.Deps, runF func(context.Context, *Options) error) *cobra.Command {
	opts := &Options{IO: d.IO, Catalog: d.Catalog}
	if runF == nil {
		runF = run
	}
	cmd := &cobra.Command{
		Use:     "list",
		Aliases: []string{"ls"},
		Short:   "List connectors: ID, NAME, CATEGORY, AUTH, MULTIPLE",
		Example: "  connctl connectors list\n  connctl connectors list --jq '.[] | select(.multiple) | .id'",
		Args:    cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			return runF(c.Context(), opts)
		},
	}
	jsonexport.AddFlags(cmd, &opts.Export, connectorview.ListFields)
	return cmd
}

func run(_ context.Context, opts *Options) error {
	all := opts.Catalog().All()
	sums := make([]connectorview.Summary, len(all))
	for i, ctr := range all {
		sums[i] = connectorview.Summarize(ctr)
	}
	if opts.Export != nil {
		return opts.Export.Write(opts.IO.Out, sums)
	}
	t := tableprint.NewIO(opts.IO, "ID", "NAME", "CATEGORY", "AUTH", "MULTIPLE")
	for _, s := range sums {
		multi := "no"
		if s.Multiple {
			multi = "yes"
		}
		t.Row(s.ID, s.Name, s.Category, strings.Join(s.Auth, ", "), multi)
	}
	return t.Render()
}
