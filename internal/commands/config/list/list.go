// Package list implements `connctl config list`.
package list

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/connctl/connctl/internal/configstore"
	"github.com/connctl/connctl/internal/deps"
	"github.com/connctl/connctl/internal/iostreams"
	"github.com/connctl/connctl/internal/jsonexport"
	"github.com/connctl/connctl/internal/tableprint"
)

// Fields are the JSON fields of `config list`.
var Fields = []string{"key", "value", "source"}

// Options are the inputs of config list.
type Options struct {
	IO     *iostreams.IOStreams
	Config func() (configstore.Config, error)
	// Backends, when set, says which stores are in use (shown on a terminal).
	Backends func() (deps.Backends, error)

	Export jsonexport.Exporter
}

// NewCmd returns `connctl config list`.
func NewCmd(d *deps.Deps, runF func(context.Context, *Options) error) *cobra.Command {
	opts := &Options{IO: d.IO, Config: d.Settings, Backends: d.Backends} // the local file only
	if runF == nil {
		runF = run
	}
	cmd := &cobra.Command{
		Use:     "list",
		Aliases: []string{"ls"},
		Short:   "List every setting with its value and source (env, file, default)",
		Long:    "List every setting. When piped: key, value, source, tab-separated.",
		Example: "  connctl config list\n  connctl config list -o json",
		Args:    cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			return runF(c.Context(), opts)
		},
	}
	jsonexport.AddFlags(cmd, &opts.Export, Fields)
	return cmd
}

func run(_ context.Context, opts *Options) error {
	cfg, err := opts.Config()
	if err != nil {
		return err
	}
	all := cfg.All()
	for i := range all {
		// A credential's value (a webhook URL) is never printed whole here:
		// `config get KEY` prints it when asked for by name.
		if st, err := configstore.LookupSetting(all[i].Key); err == nil && st.Credential {
			all[i].Value = configstore.Redact(all[i].Value)
		}
	}
	if opts.Export != nil {
		return opts.Export.Write(opts.IO.Out, all)
	}
	t := tableprint.NewIO(opts.IO, "KEY", "VALUE", "SOURCE")
	for _, v := range all {
		t.Row(v.Key, v.Value, string(v.Source))
	}
	if err := t.Render(); err != nil {
		return err
	}
	if opts.Backends != nil && opts.IO.IsStdoutTTY() {
		if b, err := opts.Backends(); err == nil {
			fmt.Fprintf(opts.IO.Out, "\nIn use: store %s, secrets %s\n", b.Store, b.Secrets)
		}
	}
	return nil
}
