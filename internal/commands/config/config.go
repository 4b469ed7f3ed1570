// Package config implements `connctl config`, the noun that groups the
// verbs get, set, unset, list and path, each in its own package.
package config

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/connctl/connctl/internal/commands/config/get"
	"github.com/connctl/connctl/internal/commands/config/list"
	"github.com/connctl/connctl/internal/commands/config/path"
	"github.com/connctl/connctl/internal/commands/config/set"
	"github.com/connctl/connctl/internal/commands/config/unset"
	"github.com/connctl/connctl/internal/configstore"
	"github.com/connctl/connctl/internal/deps"
)

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
	cmd.AddCommand(get.NewCmd(d, nil), set.NewCmd(d, nil), unset.NewCmd(d, nil), list.NewCmd(d, nil), path.NewCmd(d, nil))
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
