// Package version implements `connctl version`. Its first line is the same
// as what `connctl --version` prints (both come from internal/build), so a
// script can use either.
package version

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/connctl/connctl/internal/build"
	"github.com/connctl/connctl/internal/deps"
	"github.com/connctl/connctl/internal/iostreams"
	"github.com/connctl/connctl/internal/jsonexport"
)

// Fields are the JSON fields of `connctl version -o json`, in CSV/TSV column
// order. They are a contract with scripts (build.Details carries the tags).
var Fields = []string{"version", "commit", "date", "go_version"}

// Options are the inputs of version.
type Options struct {
	IO   *iostreams.IOStreams
	Info func() build.Details // build.Info; fixed in tests

	Export jsonexport.Exporter // nil unless -o or --jq was given
}

// NewCmd returns `connctl version`.
func NewCmd(d *deps.Deps, runF func(context.Context, *Options) error) *cobra.Command {
	opts := &Options{IO: d.IO, Info: build.Info}
	if runF == nil {
		runF = run
	}
	cmd := &cobra.Command{
		Use:   "version",
		Short: "Print connctl's version, commit, date and Go version",
		Long: `Print connctl's version, the commit it was built from, that commit's date
(RFC 3339 UTC) and the Go version that built it. The first line,
"connctl <version>", is what connctl --version prints.

Release builds carry all four. A ` + "`go install`" + ` build reports the module
version and what the Go toolchain recorded; lines it has no value for
are left out (in JSON they are empty strings). A build from an untagged
source tree reports the version "dev".`,
		Example: "  connctl version\n  connctl version -o json\n  connctl version --jq .commit",
		Args:    cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			return runF(c.Context(), opts)
		},
	}
	jsonexport.AddFlags(cmd, &opts.Export, Fields)
	return cmd
}

func run(_ context.Context, opts *Options) error {
	info := opts.Info()
	if opts.Export != nil {
		return opts.Export.Write(opts.IO.Out, info)
	}
	out := opts.IO.Out
	fmt.Fprintf(out, "connctl %s\n", info.Version)
	if info.Commit != "" {
		fmt.Fprintf(out, "commit:  %s\n", info.Commit)
	}
	if info.Date != "" {
		fmt.Fprintf(out, "date:    %s\n", info.Date)
	}
	fmt.Fprintf(out, "go:      %s\n", info.GoVersion)
	return nil
}
