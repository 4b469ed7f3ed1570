// Package revoke implements `connctl revoke`.
package revoke

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/connctl/connctl/internal/authorization"
	"github.com/connctl/connctl/internal/commands/complete"
	"github.com/connctl/connctl/internal/commands/connview"
	"github.com/connctl/connctl/internal/configstore"
	"github.com/connctl/connctl/internal/connection"
	"github.com/connctl/connctl/internal/connector"
	"github.com/connctl/connctl/internal/deps"
	"github.com/connctl/connctl/internal/exitcode"
	"github.com/connctl/connctl/internal/iostreams"
	"github.com/connctl/connctl/internal/jsonexport"
)

// Options are the inputs of revoke.
type Options struct {
	IO          *iostreams.IOStreams
	Connections func() (*connection.Manager, error)
	Authz       func() (*authorization.Service, error)
	Catalog     func() *connector.Catalogue

	Name   string
	Export jsonexport.Exporter
	Yes    bool
}

// NewCmd returns `connctl revoke`.
func NewCmd(d *deps.Deps, runF func(context.Context, *Options) error) *cobra.Command {
	opts := &Options{IO: d.IO, Connections: d.Connections, Authz: d.Authz, Catalog: d.Catalog}
	if runF == nil {
		runF = run
	}
	cmd := &cobra.Command{
		Use:   "revoke <name>",
		Short: "Revoke a connection: remove its secrets, keep its definition",
		Long: `Revoke a connection: its secrets are removed from the secret store and its
status becomes revoked, so nothing can use it. The definition stays; bring
it back with ` + "`connctl reauthorize <name>`" + `.

OAuth connections are first revoked at the provider (RFC 7009 or the
provider's own call), then their tokens are removed locally; connctl says
which happened: "revoked at provider", "provider has no revocation endpoint:
removed locally", or the provider's error (exit 1, the local tokens are still
removed). The client secret is kept for reauthorization.

Key-based connectors (API keys, access keys) have nothing to call at the
provider: to invalidate the key itself, reset it in the provider's admin.
Their key is removed for good (connctl cannot fetch it again), so revoke
asks first on a terminal, and needs --yes otherwise (exit 2 without it);
answering no removes nothing (exit 1).`,
		Example: `  connctl revoke crm
  connctl revoke support --yes
  connctl reauthorize support --secret-stdin < new-key.txt`,
		Args:              cobra.ExactArgs(1),
		ValidArgsFunction: complete.ConnectionNames(d),
		RunE: func(c *cobra.Command, args []string) error {
			opts.Name = args[0]
			return runF(c.Context(), opts)
		},
	}
	cmd.Flags().BoolVarP(&opts.Yes, "yes", "y", false, "revoke a key-based connection without asking")
	jsonexport.AddFlags(cmd, &opts.Export, connview.Fields)
	return cmd
}

func run(ctx context.Context, opts *Options) error {
	ios := opts.IO
	exp := opts.Export
	mgr, err := opts.Connections()
	if err != nil {
		return err
	}
	cur, ok := mgr.Config.Find(opts.Name)
	if !ok {
		return connection.NotFound(opts.Name)
	}
	if cur.Status == configstore.StatusRevoked {
		ios.Statusf("Connection %s is already revoked", cur.Name)
		if exp != nil {
			return exp.Write(ios.Out, connview.From(opts.Catalog(), cur))
		}
		return nil
	}
	svc, err := opts.Authz()
	if err != nil {
		return err
	}
	if svc.IsOAuth(cur) {
		rep, err := svc.Revoke(ctx, cur.Name)
		if rep == nil {
			return err
		}
		if err == nil {
			ios.Statusf("%sRevoked connection %s: %s", ios.Success(), rep.Name, rep.Remote)
		}
		if exp != nil && rep.Connection != nil {
			_ = exp.Write(ios.Out, connview.From(opts.Catalog(), rep.Connection))
		}
		return err
	}
	if !opts.Yes && len(cur.Secrets) > 0 {
		if !ios.CanPrompt() {
			return exitcode.UsageError("not running interactively; pass --yes to revoke %q (its key is removed for good)", cur.Name)
		}
		ok, err := ios.Confirm(fmt.Sprintf("Revoke connection %s (%s)? Its key is removed from the secret store for good; reauthorizing needs the key again", cur.Name, cur.Connector))
		if err != nil {
			return err
		}
		if !ok {
			return exitcode.New(exitcode.Failure, "nothing revoked")
		}
	}
	c, err := mgr.Revoke(ctx, opts.Name)
	if err != nil {
		return err
	}
	ios.Statusf("%sRevoked connection %s: secrets removed locally (%s keys are not revoked through an API: reset the key in %s to invalidate it)", ios.Success(), c.Name, c.Connector, c.Connector)
	if exp != nil {
		return exp.Write(ios.Out, connview.From(opts.Catalog(), c))
	}
	return nil
}
