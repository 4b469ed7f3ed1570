// Package team implements `connctl team`: the noun command that groups
// the verbs that move connections into a team store and back (init,
// export), each in its own package.
package team

import (
	"github.com/spf13/cobra"

	"github.com/connctl/connctl/internal/commands/team/export"
	teaminit "github.com/connctl/connctl/internal/commands/team/init"
	"github.com/connctl/connctl/internal/deps"
)

// NewCmd returns `connctl team` and its subcommands.
func NewCmd(d *deps.Deps) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "team",
		Short: "Move this machine's connections into a team store and back",
		Long: `A team keeps its connection and job definitions in PostgreSQL and its secrets in
Vault, shared by every admin's connctl (docs/team.md). ` + "`connctl team init`" + ` moves
this machine's setup in; ` + "`connctl team export`" + ` brings the team's back out.`,
		Example: `  printf %s "$DATABASE_URL" | connctl team init --store - --vault https://vault.example.com:8200
  connctl team export --secrets`,
		Args: cobra.NoArgs,
	}
	cmd.AddCommand(teaminit.NewCmd(d, nil), export.NewCmd(d, nil))
	return cmd
}
