// Package revoke implements `connctl revoke`.
package revoke

import (
	"context"

	"github.com/spf13/cobra"

	"github.com/connctl/connctl/internal/commands/complete"
	"github.com/connctl/connctl/internal/commands/connview"
	"github.com/connctl/connctl/internal/configstore"
	"github.com/connctl/connctl/internal/connection"
	"github.com/connctl/connctl/internal/deps"
	"github.com/connctl/connctl/internal/jsonexport"
)

// Options are the inputs of revoke.
type Options struct {
	Deps *deps.Deps

	Name   string
	Export jsonexport.Exporter
}

// NewCmd returns `connctl revoke`.
func NewCmd(d *deps.Deps, runF func(context.Context, *Options) error) *cobra.Command {
	opts := &Options{Deps: d}
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
provider: to invalidate the key itself, reset it in the provider's admin.`,
		Example: `  connctl revoke support
  connctl reauthorize support --secret-stdin < new-key.txt`,
		Args:              cobra.ExactArgs(1),
		ValidArgsFunction: complete.ConnectionNames(d),
		RunE: func(c *cobra.Command, args []string) error {
			opts.Name = args[0]
			return runF(c.Context(), opts)
		},
	}
	jsonexport.AddFlags(cmd, &opts.Export, connview.Fields)
	return cmd
}

func run(ctx context.Context, opts *Options) error {
	d := opts.Deps
	exp := opts.Export
	mgr, err := connview.Manager(d)
	if err != nil {
		return err
	}
	cur, ok := mgr.Config.Find(opts.Name)
	if !ok {
		return connection.NotFound(opts.Name)
	}
	if cur.Status == configstore.StatusRevoked {
		d.IO.Statusf("Connection %s is already revoked", cur.Name)
		if exp != nil {
			return exp.Write(d.IO.Out, connview.From(d.Catalog(), cur))
		}
		return nil
	}
	svc, err := connview.Authz(d)
	if err != nil {
		return err
	}
	if svc.IsOAuth(cur) {
		rep, err := svc.Revoke(ctx, cur.Name)
		if rep == nil {
			return err
		}
		if err == nil {
			d.IO.Statusf("%sRevoked connection %s: %s", d.IO.Success(), rep.Name, rep.Remote)
		}
		if exp != nil && rep.Connection != nil {
			_ = exp.Write(d.IO.Out, connview.From(d.Catalog(), rep.Connection))
		}
		return err
	}
	c, err := mgr.Revoke(ctx, opts.Name)
	if err != nil {
		return err
	}
	d.IO.Statusf("%sRevoked connection %s: secrets removed locally (%s keys are not revoked through an API: reset the key in %s to invalidate it)", d.IO.Success(), c.Name, c.Connector, c.Connector)
	if exp != nil {
		return exp.Write(d.IO.Out, connview.From(d.Catalog(), c))
	}
	return nil
}
