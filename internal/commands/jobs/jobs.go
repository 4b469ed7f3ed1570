// Package jobs implements `connctl jobs`: the noun command that groups the
// verbs (list, create, show, edit, delete, run, resume), each in its own package.
package jobs

import (
	"github.com/spf13/cobra"

	"github.com/connctl/connctl/internal/commands/jobs/create"
	"github.com/connctl/connctl/internal/commands/jobs/delete"
	"github.com/connctl/connctl/internal/commands/jobs/edit"
	"github.com/connctl/connctl/internal/commands/jobs/list"
	"github.com/connctl/connctl/internal/commands/jobs/resume"
	"github.com/connctl/connctl/internal/commands/jobs/run"
	"github.com/connctl/connctl/internal/commands/jobs/show"
	"github.com/connctl/connctl/internal/deps"
)

// NewCmd returns `connctl jobs` and its subcommands.
func NewCmd(d *deps.Deps) *cobra.Command {
	ls := list.NewCmd(d, nil)
	cmd := &cobra.Command{
		Use:     "jobs",
		Aliases: []string{"job"},
		Short:   "Define and run jobs that fetch records through connections",
		Long: `A job fetches records from a connection's system into a file or stdout: a
source (e.g. freshdesk tickets), parameters, a destination and format, and
incremental mode (later runs fetch only what changed since the last
successful run) or full. ` + "`connctl jobs`" + ` alone lists them.`,
		Example: `  connctl jobs create tickets --connection support --source tickets --dest tickets.ndjson
  connctl jobs run tickets
  connctl jobs list --connection support`,
		Args: cobra.NoArgs,
		RunE: ls.RunE,
	}
	cmd.Flags().AddFlagSet(ls.Flags())
	cmd.AddCommand(ls, create.NewCmd(d, nil), show.NewCmd(d, nil), edit.NewCmd(d, nil), delete.NewCmd(d, nil), run.NewCmd(d, nil), resume.NewCmd(d, nil))
	return cmd
}
