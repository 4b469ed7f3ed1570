// Package connectors implements `connctl connectors`, the noun that groups
// the verbs list (also `connctl connectors` alone) and show, each in its
// own package.
package connectors

import (
	"github.com/spf13/cobra"

	"github.com/connctl/connctl/internal/commands/connectors/list"
	"github.com/connctl/connctl/internal/commands/connectors/show"
	"github.com/connctl/connctl/internal/deps"
)

// NewCmd returns `connctl connectors` with its subcommands.
func NewCmd(d *deps.Deps) *cobra.Command {
	ls := list.NewCmd(d, nil)
	cmd := &cobra.Command{
		Use:     "connectors",
		Aliases: []string{"connector"},
		Short:   "List the systems connctl can connect to, and what each needs",
		Long: `List the connectors connctl knows (the same as ` + "`connctl connectors list`" + `),
or show one connector's fields, auth methods and sources.

When piped, list prints one tab-separated row per connector:
id, name, category, auth methods (comma-separated; the names ` + "`create --auth`" + `
takes, the first is the default), multiple (yes/no).`,
		Example: `  connctl connectors
  connctl connectors show freshdesk
  connctl connectors show sfdc -o json`,
		Args: cobra.NoArgs,
		RunE: ls.RunE,
	}
	cmd.Flags().AddFlagSet(ls.Flags())
	cmd.AddCommand(ls, show.NewCmd(d, nil))
	return cmd
}
