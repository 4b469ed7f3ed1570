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
var Fields = []string{"version", "commit", "date", "go_version", "store", "secrets"}

// Options are the inputs of version.
type Options struct {
	IO   *iostreams.IOStreams
	Info func() build.Details // build.Info; fixed in tests
	// Backends says which stores the settings choose (store: file or
	// postgres; secrets: keyring, file, ...); nil or failing: not shown.
	Backends func() (deps.Backends, error)

	Export jsonexport.Exporter // nil unless -o or --jq was given
}

// NewCmd returns `connctl version`.
func NewCmd(d *deps.Deps, runF func(context.Context, *Options) error) *cobra.Command {
	opts := &Options{IO: d.IO, Info: build.Info, Backends: d.Backends}
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
source tree reports the version "dev".

The last lines say which stores the settings choose: store file (this
machine's config file) or postgres (a team store, store.url), and the
secrets backend. They are read from the settings; nothing is opened.`,
		Example: "  connctl version\n  connctl version -o json\n  connctl version --jq .commit",
		Args:    cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			return runF(c.Context(), opts)
		},
	}
	jsonexport.AddFlags(cmd, &opts.Export, Fields)
	return cmd
}

// output is what -o json prints: the build, then the backends in use.
type output struct {
	build.Details
	deps.Backends
}

func run(_ context.Context, opts *Options) error {
	info := opts.Info()
	var b deps.Backends
	if opts.Backends != nil {
		b, _ = opts.Backends()
	}
	if opts.Export != nil {
		return opts.Export.Write(opts.IO.Out, output{info, b})
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
	if b.Store != "" {
		fmt.Fprintf(out, "store:   %s\n", b.Store)
	}
	if b.Secrets != "" {
		fmt.Fprintf(out, "secrets: %s\n", b.Secrets)
	}
	return nil
}
