// Package complete provides shell completion for connection names, connector
// ids and fixed flag values. It reads the config file only: never the keyring
// or the network, so completion stays instant and never prompts.
package complete

import (
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/connctl/connctl/internal/configstore"
	"github.com/connctl/connctl/internal/deps"
)

// ConnectionNames completes the first argument with connection names.
func ConnectionNames(d *deps.Deps) func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
	return func(c *cobra.Command, args []string, prefix string) ([]string, cobra.ShellCompDirective) {
		if len(args) > 0 {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		cfg, err := config(c, d)
		if err != nil {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		return matching(cfg, prefix), cobra.ShellCompDirectiveNoFileComp
	}
}

// EachConnectionName completes every argument with the connection names
// not given yet (commands that take several).
func EachConnectionName(d *deps.Deps) func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
	return func(c *cobra.Command, args []string, prefix string) ([]string, cobra.ShellCompDirective) {
		cfg, err := config(c, d)
		if err != nil {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		var out []string
		for _, n := range matching(cfg, prefix) {
			if !slices.Contains(args, n) {
				out = append(out, n)
			}
		}
		return out, cobra.ShellCompDirectiveNoFileComp
	}
}

// config opens the config file the command line names. cobra does not run
// the root's PersistentPreRunE while completing, so a --config flag has not
// reached d yet: take it from the parsed flags here.
func config(c *cobra.Command, d *deps.Deps) (configstore.Config, error) {
	if f := c.Flag("config"); f != nil && f.Changed {
		d.SetConfigPath(f.Value.String())
	}
	return d.Config()
}

// Names returns connection names starting with prefix (case-insensitive).
func Names(d *deps.Deps, prefix string) []string {
	cfg, err := d.Config()
	if err != nil {
		return nil
	}
	return matching(cfg, prefix)
}

func matching(cfg configstore.Config, prefix string) []string {
	var out []string
	lp := strings.ToLower(prefix)
	for _, c := range cfg.Connections() {
		if strings.HasPrefix(strings.ToLower(c.Name), lp) {
			out = append(out, c.Name)
		}
	}
	return out
}

// ConnectorIDs completes connector ids, with their names as descriptions.
func ConnectorIDs(d *deps.Deps) func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
	return func(c *cobra.Command, args []string, prefix string) ([]string, cobra.ShellCompDirective) {
		var out []string
		for _, ctr := range d.Catalog().All() {
			if strings.HasPrefix(ctr.ID, prefix) {
				out = append(out, ctr.ID+"\t"+ctr.Name)
			}
		}
		return out, cobra.ShellCompDirectiveNoFileComp
	}
}

// Values completes a flag with a fixed list.
func Values(values ...string) func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
	return func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
		return values, cobra.ShellCompDirectiveNoFileComp
	}
}

// JobNames completes job names.
func JobNames(d *deps.Deps) func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
	return func(c *cobra.Command, _ []string, prefix string) ([]string, cobra.ShellCompDirective) {
		cfg, err := config(c, d)
		if err != nil {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		var out []string
		for _, j := range cfg.Document().Jobs {
			if strings.HasPrefix(strings.ToLower(j.Name), strings.ToLower(prefix)) {
				out = append(out, j.Name)
			}
		}
		return out, cobra.ShellCompDirectiveNoFileComp
	}
}
