// Package activities implements `connctl activities`: the list of
// activities (package list) with the verbs show and prune, each in its own
// package.
package activities

import (
	"github.com/spf13/cobra"

	"github.com/connctl/connctl/internal/commands/activities/list"
	"github.com/connctl/connctl/internal/commands/activities/prune"
	"github.com/connctl/connctl/internal/commands/activities/show"
	"github.com/connctl/connctl/internal/deps"
)

// NewCmd returns `connctl activities` and its subcommands.
func NewCmd(d *deps.Deps) *cobra.Command {
	cmd := list.NewCmd(d, nil)
	cmd.AddCommand(show.NewCmd(d, nil), prune.NewCmd(d, nil))
	return cmd
}
