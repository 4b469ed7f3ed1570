// Package delete implements `connctl delete`.
package delete

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/connctl/connctl/internal/commands/complete"
	"github.com/connctl/connctl/internal/commands/connview"
	"github.com/connctl/connctl/internal/connection"
	"github.com/connctl/connctl/internal/deps"
	"github.com/connctl/connctl/internal/exitcode"
)

// Options are the inputs of delete.
type Options struct {
	Deps *deps.Deps

	Name        string
	Yes         bool
	KeepSecrets bool
	KeepRemote  bool
}

// NewCmd returns `connctl delete`.
func NewCmd(d *deps.Deps, runF func(context.Context, *Options) error) *cobra.Command {
	opts := &Options{Deps: d}
	if runF == nil {
		runF = run
	}
	cmd := &cobra.Command{
		Use:     "delete <name> [--yes]",
		Aliases: []string{"rm"},
		Short:   "Delete a connection and its secrets",
		Long: `Delete a connection: an OAuth grant is revoked at the provider first (unless
--keep-remote), its definition is removed from the config, then its secrets
from the keyring. If the config cannot be written nothing is deleted; if the
keyring cannot be reached nothing is deleted either (no secret is left
orphaned) unless --keep-secrets is given.

On a terminal, delete asks for confirmation; otherwise it needs --yes (exit 2
without it).`,
		Example: `  connctl delete support
  connctl delete support --yes`,
		Args:              cobra.ExactArgs(1),
		ValidArgsFunction: complete.ConnectionNames(d),
		RunE: func(c *cobra.Command, args []string) error {
			opts.Name = args[0]
			return runF(c.Context(), opts)
		},
	}
	cmd.Flags().BoolVarP(&opts.Yes, "yes", "y", false, "delete without asking")
	cmd.Flags().BoolVar(&opts.KeepRemote, "keep-remote", false, "do not revoke an OAuth grant at the provider first")
	cmd.Flags().BoolVar(&opts.KeepSecrets, "keep-secrets", false, "remove only the definition, leaving its secrets in the store (when the keyring is unreachable)")
	return cmd
}

func run(ctx context.Context, opts *Options) error {
	d := opts.Deps
	mgr, err := connview.Manager(d)
	if err != nil {
		return err
	}
	c, ok := mgr.Config.Find(opts.Name)
	if !ok {
		return connection.NotFound(opts.Name)
	}
	if !opts.Yes {
		if !d.IO.CanPrompt() {
			return exitcode.UsageError("not running interactively; pass --yes to delete %q", c.Name)
		}
		ok, err := d.IO.Confirm(fmt.Sprintf("Delete connection %s (%s) and its secrets?", c.Name, c.Connector))
		if err != nil {
			return err
		}
		if !ok {
			return exitcode.New(exitcode.Interrupted, "deletion of %q cancelled", c.Name)
		}
	}
	if !opts.KeepRemote && !opts.KeepSecrets {
		svc, err := connview.Authz(d)
		if err != nil {
			return err
		}
		if svc.IsOAuth(c) && len(c.Secrets) > 0 {
			rep, err := svc.Revoke(ctx, c.Name)
			if err != nil {
				return exitcode.WithHint(err, "the connection was not deleted; delete it anyway with --keep-remote")
			}
			d.IO.Statusf("%s: %s", rep.Name, rep.Remote)
		}
	}
	deleted, err := mgr.Delete(ctx, c.Name, opts.KeepSecrets)
	if err != nil {
		return err
	}
	d.IO.Statusf("%sDeleted connection %s", d.IO.Success(), deleted.Name)
	if opts.KeepSecrets && len(deleted.Secrets) > 0 {
		d.IO.Warnf("its secrets stay in the secret store under service %q, user %s/<kind>", "connctl", deleted.ID)
	}
	return nil
}
