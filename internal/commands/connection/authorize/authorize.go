// Package authorize implements `connctl authorize` and `connctl reauthorize`.
package authorize

import (
	"context"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/connctl/connctl/internal/authorization"
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

	Name      string
	Secret    *secretflags.Flags
	Export    jsonexport.Exporter
	NoBrowser bool
	Timeout   time.Duration
	Force     bool
}

// NewCmd returns `connctl authorize`, or `connctl reauthorize` when re is set.
func NewCmd(d *deps.Deps, runF func(context.Context, *Options) error, re bool) *cobra.Command {
	opts := &Options{Deps: d, Re: re}
	if runF == nil {
		runF = run
	}
	cmd := &cobra.Command{
		Use:   "authorize <name> [--no-browser] [--timeout 5m] [--secret-stdin | --secret-file F | --secret-env VAR]",
		Short: "Authorize a connection that is not authorized yet",
		Long: `Authorize a connection that is not authorized yet (never authorized, or revoked).

OAuth connections sign in through your browser: connctl listens on the loopback
interface for the provider's redirect (RFC 8252, PKCE), prints the URL on stderr
and opens it with $BROWSER or the system opener. --no-browser only prints it:
open it on any machine that reaches this one's loopback, e.g. through
` + "`ssh -L PORT:127.0.0.1:PORT`" + `. The flow ends after --timeout or on Ctrl-C
(exit 130), storing nothing. A client secret, where the app needs one, is given
with --secret-stdin (it fills client_secret).

Key-based connections store the secret given with --secret-stdin,
--secret-file or --secret-env, or typed at the hidden prompt.`,
		Example: `  connctl authorize crm
  connctl authorize crm --no-browser --timeout 10m
  printf %s "$FD_KEY" | connctl authorize support --secret-stdin`,
		Args:              cobra.ExactArgs(1),
		ValidArgsFunction: complete.ConnectionNames(d),
		RunE: func(c *cobra.Command, args []string) error {
			opts.Name = args[0]
			return runF(c.Context(), opts)
		},
	}
	if re {
		cmd.Use = "reauthorize <name> [--no-browser] [--force] [--secret-stdin | --secret-file F | --secret-env VAR]"
		cmd.Short = "Give a connection new credentials"
		cmd.Long = `Replace a connection's credentials: after a password or key change, when the
authorizing admin leaves (another admin signs in), when a licence expired, or
to bring back a revoked connection. The old credentials stay until the new
ones are stored.

For OAuth connections the browser flow runs again (see ` + "`connctl authorize --help`" + `).
A grant for a different org or instance than the connection had is refused
unless --force.`
		cmd.Example = `  connctl reauthorize crm
  connctl reauthorize crm --force          # switch to another org
  connctl reauthorize support --secret-env NEW_FD_KEY`
		cmd.Flags().BoolVar(&opts.Force, "force", false, "accept a grant for a different org or instance than before")
	}
	cmd.Flags().BoolVar(&opts.NoBrowser, "no-browser", false, "print the authorization URL instead of opening a browser (OAuth)")
	cmd.Flags().DurationVar(&opts.Timeout, "timeout", 5*time.Minute, "give up waiting for the browser after this long (OAuth)")
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
	verb := "Authorized"
	if opts.Re {
		verb = "Reauthorized"
	}
	var c *configstore.Connection
	if m.Kind.Interactive() {
		c, err = AuthorizeOAuth(ctx, d, cur.Name, opts.Secret, authorization.Options{NoBrowser: opts.NoBrowser, Timeout: opts.Timeout, Force: opts.Force})
		if err != nil {
			if ctx.Err() == nil && exitcode.FromError(err) != exitcode.Usage {
				action := "authorize"
				if opts.Re {
					action = "reauthorize"
				}
				connview.RecordFailedAuthorization(ctx, d, cur, action, err)
			}
			return err
		}
		who := ""
		if c.Account != "" {
			who = " as " + c.Account
		}
		d.IO.Statusf("%s%s connection %s (%s)%s", d.IO.Success(), verb, c.Name, ctr.ID, who)
	} else {
		secrets, err := opts.Secret.Collect(d.IO, d.Getenv, connection.SecretFields(ctr, m), true)
		if err != nil {
			return err
		}
		if c, err = mgr.Authorize(ctx, cur.Name, secrets); err != nil {
			return err
		}
		d.IO.Statusf("%s%s connection %s (%s)", d.IO.Success(), verb, c.Name, ctr.ID)
	}
	if exp != nil {
		return exp.Write(d.IO.Out, connview.From(d.Catalog(), c))
	}
	return nil
}

// AuthorizeOAuth stores a client secret given through the secret flags (if
// any), then runs the browser flow for the connection named name.
func AuthorizeOAuth(ctx context.Context, d *deps.Deps, name string, sf *secretflags.Flags, o authorization.Options) (*configstore.Connection, error) {
	svc, err := connview.Authz(d)
	if err != nil {
		return nil, err
	}
	if sf != nil && sf.Given() {
		cur, _ := svc.Mgr.Config.Find(name)
		ctr, m, err := svc.Mgr.Lookup(cur)
		if err != nil {
			return nil, err
		}
		secrets, err := sf.Collect(d.IO, d.Getenv, connection.SecretFields(ctr, m), false)
		if err != nil {
			return nil, err
		}
		if _, _, err := svc.Mgr.Edit(ctx, name, connection.EditRequest{Secrets: secrets}); err != nil {
			return nil, err
		}
	}
	return svc.Authorize(ctx, name, o)
}
