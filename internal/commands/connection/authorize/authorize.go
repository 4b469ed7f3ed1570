// Package authorize implements `connctl authorize` and `connctl reauthorize`.
package authorize

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/connctl/connctl/internal/commands/complete"
	"github.com/connctl/connctl/internal/commands/connview"
	"github.com/connctl/connctl/internal/commands/secretflags"
	"github.com/connctl/connctl/internal/configstore"
	"github.com/connctl/connctl/internal/connection"
	"github.com/connctl/connctl/internal/deps"
	"github.com/connctl/connctl/internal/exitcode"
	"github.com/connctl/connctl/internal/jsonexport"
)

// Options are the inputs of authorize and reauthorize.
type Options struct {
	Deps *deps.Deps
	Re   bool // reauthorize

	Name   string
	Secret *secretflags.Flags
	Export jsonexport.Exporter
}

// NewCmd returns `connctl authorize`, or `connctl reauthorize` when re is set.
func NewCmd(d *deps.Deps, runF func(context.Context, *Options) error, re bool) *cobra.Command {
	opts := &Options{Deps: d, Re: re}
	if runF == nil {
		runF = run
	}
	cmd := &cobra.Command{
		Use:   "authorize <name> [--secret-stdin | --secret-file F | --secret-env VAR]",
		Short: "Authorize a connection that is not authorized yet",
		Long: `Authorize a connection that is not authorized yet (never authorized, or
revoked). For key-based connectors this stores the secret given with
--secret-stdin, --secret-file or --secret-env, or typed at the hidden prompt.
An authorized connection is changed with ` + "`connctl reauthorize`" + `.`,
		Example:           `  printf %s "$FD_KEY" | connctl authorize support --secret-stdin`,
		Args:              cobra.ExactArgs(1),
		ValidArgsFunction: complete.ConnectionNames(d),
		RunE: func(c *cobra.Command, args []string) error {
			opts.Name = args[0]
			return runF(c.Context(), opts)
		},
	}
	if re {
		cmd.Use = "reauthorize <name> [--secret-stdin | --secret-file F | --secret-env VAR]"
		cmd.Short = "Give a connection new credentials"
		cmd.Long = `Replace a connection's credentials: after a password or key change, when the
authorizing admin leaves, when a licence expired, or to bring back a revoked
connection. The old secret stays until the new one is stored.`
		cmd.Example = `  connctl reauthorize support --secret-env NEW_FD_KEY
  connctl reauthorize archive --secret-file new-credentials.txt`
	}
	opts.Secret = secretflags.Add(cmd)
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
	ctr, m, err := mgr.Lookup(cur)
	if err != nil {
		return err
	}
	quoted := connection.QuoteArg(cur.Name)
	if !opts.Re && cur.Status == configstore.StatusAuthorized {
		return exitcode.WithHint(exitcode.UsageError("connection %q is already authorized", cur.Name),
			fmt.Sprintf("to give it new credentials run `connctl reauthorize %s`", quoted))
	}
	if m.Kind.Interactive() {
		return exitcode.WithHint(exitcode.New(exitcode.Failure, "%s uses OAuth (%s): signing in through the browser is not available in this version of connctl", cur.Name, ctr.Name),
			"use a key-based auth method where the connector has one (see `connctl connectors show "+ctr.ID+"`)")
	}
	secrets, err := opts.Secret.Collect(d.IO, d.Getenv, connection.SecretFields(ctr, m), true)
	if err != nil {
		return err
	}
	c, err := mgr.Authorize(ctx, cur.Name, secrets)
	if err != nil {
		return err
	}
	verb := "Authorized"
	if opts.Re {
		verb = "Reauthorized"
	}
	d.IO.Statusf("%s%s connection %s (%s)", d.IO.Success(), verb, c.Name, ctr.ID)
	if exp != nil {
		return exp.Write(d.IO.Out, connview.From(d.Catalog(), c))
	}
	return nil
}
