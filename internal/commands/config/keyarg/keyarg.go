// Package keyarg is the <key> argument the `connctl config` verbs share:
// its check (a known setting, the right number of arguments) and its
// completion. It never reads the config file.
package keyarg

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/connctl/connctl/internal/commands/complete"
	"github.com/connctl/connctl/internal/configstore"
	"github.com/connctl/connctl/internal/exitcode"
)

// Args accepts n arguments, the first a known setting's key.
func Args(n int) cobra.PositionalArgs {
	return func(c *cobra.Command, args []string) error {
		if len(args) != n {
			return &exitcode.FlagError{Err: fmt.Errorf("%s takes %d argument(s), got %d", c.CommandPath(), n, len(args))}
		}
		return Known(args[0])
	}
}

// Known is a usage error unless key names a setting.
func Known(key string) error {
	if _, err := configstore.LookupSetting(key); err != nil {
		return exitcode.UsageError("%s", err.Error())
	}
	return nil
}

// Complete completes the first argument with the settings' keys.
func Complete(c *cobra.Command, args []string, prefix string) ([]string, cobra.ShellCompDirective) {
	if len(args) > 0 {
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	return complete.Values(configstore.SettingKeys()...)(c, args, prefix)
}
