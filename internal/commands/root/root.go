// Package root builds connctl's command tree: global flags, every command,
// and the help topics.
package root

import (
	"strings"

	"github.com/spf13/cobra"

	"github.com/connctl/connctl/internal/build"
	activitiescmd "github.com/connctl/connctl/internal/commands/activities"
	configcmd "github.com/connctl/connctl/internal/commands/config"
	authorizecmd "github.com/connctl/connctl/internal/commands/connection/authorize"
	createcmd "github.com/connctl/connctl/internal/commands/connection/create"
	deletecmd "github.com/connctl/connctl/internal/commands/connection/delete"
	editcmd "github.com/connctl/connctl/internal/commands/connection/edit"
	listcmd "github.com/connctl/connctl/internal/commands/connection/list"
	revokecmd "github.com/connctl/connctl/internal/commands/connection/revoke"
	showcmd "github.com/connctl/connctl/internal/commands/connection/show"
	testcmd "github.com/connctl/connctl/internal/commands/connection/test"
	tokencmd "github.com/connctl/connctl/internal/commands/connection/token"
	connectorscmd "github.com/connctl/connctl/internal/commands/connectors"
	execcmd "github.com/connctl/connctl/internal/commands/exec"
	jobscmd "github.com/connctl/connctl/internal/commands/jobs"
	workercmd "github.com/connctl/connctl/internal/commands/jobs/worker"
	statuscmd "github.com/connctl/connctl/internal/commands/status"
	teamcmd "github.com/connctl/connctl/internal/commands/team"
	uicmd "github.com/connctl/connctl/internal/commands/ui"
	versioncmd "github.com/connctl/connctl/internal/commands/version"
	"github.com/connctl/connctl/internal/deps"
	"github.com/connctl/connctl/internal/exitcode"
)

// strictCompletion makes `connctl completion <shell>` fail for a shell it
// cannot complete (cobra's default prints its help and exits 0).
func strictCompletion(root *cobra.Command) {
	root.InitDefaultCompletionCmd()
	for _, c := range root.Commands() {
		if c.Name() != "completion" {
			continue
		}
		var shells []string
		for _, s := range c.Commands() {
			shells = append(shells, s.Name())
		}
		c.Args = cobra.ArbitraryArgs
		c.RunE = func(c *cobra.Command, args []string) error {
			if len(args) == 0 {
				return exitcode.WithHint(exitcode.UsageError("name the shell: connctl completion <shell>"), "supported shells: "+strings.Join(shells, ", "))
			}
			return exitcode.WithHint(exitcode.UsageError("connctl cannot complete %q", args[0]), "supported shells: "+strings.Join(shells, ", "))
		}
	}
}

// NewCmd returns the root command with every subcommand attached.
func NewCmd(d *deps.Deps) *cobra.Command {
	var configPath string
	var quiet bool
	cmd := &cobra.Command{
		Use:   "connctl <command> [flags]",
		Short: "Manage connections to the systems your data lives in",
		Long: `connctl keeps named, authorized connections to external systems (CRMs,
support desks, warehouses, object stores, analytics tools and any OAuth 2.0
server: ` + "`connctl connectors`" + ` lists them). Definitions live in a config file;
secrets live only in the OS keyring (or, when chosen, an encrypted file).`,
		Example: `  connctl connectors
  printf %s "$FRESHDESK_KEY" | connctl create --connector freshdesk --set domain=acme --secret-stdin
  connctl list --search prod
  connctl show support -o json
  connctl revoke support && connctl reauthorize support --secret-env FRESHDESK_KEY`,
		SilenceErrors: true,
		SilenceUsage:  true,
		Version:       build.Info().Version,
		PersistentPreRunE: func(c *cobra.Command, _ []string) error {
			d.SetConfigPath(configPath)
			d.IO.SetQuiet(quiet)
			return nil
		},
	}
	cmd.SetVersionTemplate("connctl {{.Version}}\n")
	cmd.PersistentFlags().StringVar(&configPath, "config", "", "config `file` (default $XDG_CONFIG_HOME/connctl/config.yaml; env CONNCTL_CONFIG)")
	cmd.PersistentFlags().BoolVarP(&quiet, "quiet", "q", false, "do not print confirmations on stderr")
	cmd.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		return &exitcode.FlagError{Err: err}
	})
	cmd.AddGroup(&cobra.Group{ID: "conn", Title: "Connection commands:"}, &cobra.Group{ID: "more", Title: "More commands:"})
	for _, c := range []*cobra.Command{
		createcmd.NewCmd(d, nil),
		listcmd.NewCmd(d, nil),
		showcmd.NewCmd(d, nil),
		editcmd.NewCmd(d, nil),
		deletecmd.NewCmd(d, nil),
		authorizecmd.NewCmd(d, nil, false),
		authorizecmd.NewCmd(d, nil, true),
		revokecmd.NewCmd(d, nil),
		testcmd.NewCmd(d, nil),
		statuscmd.NewCmd(d, nil),
		tokencmd.NewCmd(d, nil),
		execcmd.NewCmd(d, nil),
		// ui runs the verbs above through a fresh tree of its own.
		uicmd.NewCmd(d, func(d *deps.Deps) *cobra.Command { return NewCmd(d) }, nil),
	} {
		c.GroupID = "conn"
		cmd.AddCommand(c)
	}
	for _, c := range []*cobra.Command{
		jobscmd.NewCmd(d),
		workercmd.NewCmd(d, nil),
		teamcmd.NewCmd(d),
		activitiescmd.NewCmd(d),
		connectorscmd.NewCmd(d),
		configcmd.NewCmd(d),
		versioncmd.NewCmd(d, nil),
	} {
		c.GroupID = "more"
		cmd.AddCommand(c)
	}
	cmd.SetHelpCommandGroupID("more")
	cmd.SetCompletionCommandGroupID("more")
	strictCompletion(cmd)
	addHelpTopics(cmd)
	return cmd
}
