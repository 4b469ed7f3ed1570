// Package unset implements `connctl config unset`.
package unset

import (
	"context"

	"github.com/spf13/cobra"

	"github.com/connctl/connctl/internal/commands/config/keyarg"
	"github.com/connctl/connctl/internal/commands/config/set"
	"github.com/connctl/connctl/internal/configstore"
	"github.com/connctl/connctl/internal/deps"
	"github.com/connctl/connctl/internal/iostreams"
	"github.com/connctl/connctl/internal/secretstore"
)

// Options are the inputs of config unset.
type Options struct {
	IO     *iostreams.IOStreams
	Config func() (configstore.Config, error)
	// SecretsFile opens the secrets file (secrets.key_file: "" is the
	// passphrase).
	SecretsFile func(keyFile string) (*secretstore.File, error)

	Key string
}

// NewCmd returns `connctl config unset`.
func NewCmd(d *deps.Deps, runF func(context.Context, *Options) error) *cobra.Command {
	opts := &Options{IO: d.IO, Config: d.Settings, SecretsFile: d.SecretsFile} // the local file only
	if runF == nil {
		runF = run
	}
	return &cobra.Command{
		Use:               "unset <key>",
		Short:             "Remove a setting from the config file (its default applies)",
		Example:           "  connctl config unset limits.crm",
		Args:              keyarg.Args(1),
		ValidArgsFunction: keyarg.Complete,
		RunE: func(c *cobra.Command, args []string) error {
			opts.Key = args[0]
			return runF(c.Context(), opts)
		},
	}
}

func run(ctx context.Context, opts *Options) error {
	cfg, err := opts.Config()
	if err != nil {
		return err
	}
	if opts.Key == set.BackendKey {
		// Back to the default backend: the same refusal as a set to it.
		st, _ := configstore.LookupSetting(set.BackendKey)
		if err := set.RefuseStranding(cfg, st.Default); err != nil {
			return err
		}
	}
	if opts.Key == set.KeyFileKey && opts.SecretsFile != nil {
		// Back to the passphrase: refused if the secrets file would not open.
		if current := cfg.String(set.KeyFileKey); current != "" {
			to, err := opts.SecretsFile("")
			if err != nil {
				return err
			}
			if err := set.RefuseKeyFileStranding(ctx, opts.IO, cfg, to, current); err != nil {
				return err
			}
		}
	}
	if err := cfg.Unset(ctx, opts.Key); err != nil {
		return err
	}
	opts.IO.Statusf("%sUnset %s", opts.IO.Success(), opts.Key)
	return nil
}
