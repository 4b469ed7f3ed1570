// Package config implements `connctl config get|set|unset|list|path`.
package config

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/connctl/connctl/internal/commands/complete"
	"github.com/connctl/connctl/internal/configstore"
	"github.com/connctl/connctl/internal/deps"
	"github.com/connctl/connctl/internal/exitcode"
	"github.com/connctl/connctl/internal/jsonexport"
	"github.com/connctl/connctl/internal/tableprint"
)

// Fields are the JSON fields of `config list`.
var Fields = []string{"key", "value", "source"}

// NewCmd returns `connctl config` and its subcommands.
func NewCmd(d *deps.Deps) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "config <command>",
		Short: "Read and change connctl's settings",
		Long: `Read and change settings. Each setting can be overridden for one run with its
CONNCTL_* environment variable (see ` + "`connctl help environment`" + `).

Settings:
` + settingsHelp(),
		Example: `  connctl config list
  connctl config set limits.crm 2
  connctl config set secrets.backend file
  connctl config get keyring.timeout
  connctl config path`,
	}
	cmd.AddCommand(newGet(d), newSet(d), newUnset(d), newList(d), newPath(d))
	return cmd
}

func settingsHelp() string {
	s := ""
	for _, st := range configstore.Settings {
		def := st.Default
		if def == "" {
			def = "unset"
		}
		s += fmt.Sprintf("  %-16s %s (default %s)\n", st.Key, st.Help, def)
	}
	return s
}

func keyArgs(n int) cobra.PositionalArgs {
	return func(c *cobra.Command, args []string) error {
		if len(args) != n {
			return &exitcode.FlagError{Err: fmt.Errorf("%s takes %d argument(s), got %d", c.CommandPath(), n, len(args))}
		}
		if _, err := configstore.LookupSetting(args[0]); err != nil {
			return exitcode.UsageError("%s", err.Error())
		}
		return nil
	}
}

func keyCompletion(c *cobra.Command, args []string, prefix string) ([]string, cobra.ShellCompDirective) {
	if len(args) > 0 {
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	return complete.Values(configstore.SettingKeys()...)(c, args, prefix)
}

func newGet(d *deps.Deps) *cobra.Command {
	return &cobra.Command{
		Use:               "get <key>",
		Short:             "Print a setting's effective value",
		Example:           "  connctl config get limits.crm",
		Args:              keyArgs(1),
		ValidArgsFunction: keyCompletion,
		RunE: func(c *cobra.Command, args []string) error {
			cfg, err := d.Config()
			if err != nil {
				return err
			}
			v, err := cfg.Get(args[0])
			if err != nil {
				return exitcode.UsageError("%s", err.Error())
			}
			fmt.Fprintln(d.IO.Out, v.Value)
			return nil
		},
	}
}

func newSet(d *deps.Deps) *cobra.Command {
	var migrate bool
	cmd := &cobra.Command{
		Use:   "set <key> <value>",
		Short: "Change a setting in the config file",
		Long: `Change a setting in the config file.

Changing secrets.backend while connections keep secrets in the old backend
would strand them, so it is refused unless --migrate is given: --migrate
copies every secret into the new backend, reads each back, switches the
setting, and only then deletes the old copies. Any failure before the switch
leaves the old backend in force and nothing deleted.`,
		Example: `  connctl config set limits.support 2
  connctl config set keyring.timeout 30s
  CONNCTL_PASSPHRASE=... connctl config set secrets.backend file --migrate`,
		// The value is taken as is, even when it starts with "-" (a
		// negative number is a bad value, not a flag): flags go before the
		// key, and only --migrate is recognised after it.
		Args:              setArgs,
		ValidArgsFunction: keyCompletion,
		RunE: func(c *cobra.Command, args []string) error {
			args, migrateAfter, help := splitSetArgs(args)
			if help {
				return c.Help()
			}
			migrate = migrate || migrateAfter
			cfg, err := d.Config()
			if err != nil {
				return err
			}
			st, _ := configstore.LookupSetting(args[0])
			if _, err := st.Validate(args[1]); err != nil {
				return exitcode.UsageError("invalid value for %s: %s", args[0], err.Error())
			}
			if args[0] == backendKey {
				return setBackend(c.Context(), d, cfg, args[1], migrate)
			}
			if migrate {
				return &exitcode.FlagError{Err: fmt.Errorf("--migrate applies only to %s", backendKey)}
			}
			if err := cfg.Set(c.Context(), args[0], args[1]); err != nil {
				return err
			}
			v, _ := cfg.Get(args[0])
			d.IO.Statusf("%sSet %s to %s", d.IO.Success(), args[0], args[1])
			if v.Source == configstore.SourceEnv {
				d.IO.Warnf("%s is set in the environment and overrides the file (now %s)", st.EnvName(), v.Value)
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&migrate, "migrate", false, "with secrets.backend: move every connection's secrets to the new backend")
	cmd.Flags().SetInterspersed(false)
	return cmd
}

func newUnset(d *deps.Deps) *cobra.Command {
	return &cobra.Command{
		Use:               "unset <key>",
		Short:             "Remove a setting from the config file (its default applies)",
		Example:           "  connctl config unset limits.crm",
		Args:              keyArgs(1),
		ValidArgsFunction: keyCompletion,
		RunE: func(c *cobra.Command, args []string) error {
			cfg, err := d.Config()
			if err != nil {
				return err
			}
			if args[0] == backendKey {
				st, _ := configstore.LookupSetting(backendKey)
				if err := refuseStranding(d, cfg, st.Default); err != nil {
					return err
				}
			}
			if err := cfg.Unset(c.Context(), args[0]); err != nil {
				return err
			}
			d.IO.Statusf("%sUnset %s", d.IO.Success(), args[0])
			return nil
		},
	}
}

func newList(d *deps.Deps) *cobra.Command {
	var exp jsonexport.Exporter
	cmd := &cobra.Command{
		Use:     "list",
		Aliases: []string{"ls"},
		Short:   "List every setting with its value and source (env, file, default)",
		Long:    "List every setting. When piped: key, value, source, tab-separated.",
		Example: "  connctl config list\n  connctl config list -o json",
		Args:    cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			cfg, err := d.Config()
			if err != nil {
				return err
			}
			all := cfg.All()
			if exp != nil {
				return exp.Write(d.IO.Out, all)
			}
			t := tableprint.NewIO(d.IO, "KEY", "VALUE", "SOURCE")
			for _, v := range all {
				t.Row(v.Key, v.Value, string(v.Source))
			}
			return t.Render()
		},
	}
	jsonexport.AddFlags(cmd, &exp, Fields)
	return cmd
}

func newPath(d *deps.Deps) *cobra.Command {
	return &cobra.Command{
		Use:     "path",
		Short:   "Print the config file's path",
		Example: "  connctl config path",
		Args:    cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			p, err := d.ConfigPath()
			if err != nil {
				return err
			}
			fmt.Fprintln(d.IO.Out, p)
			return nil
		},
	}
}
