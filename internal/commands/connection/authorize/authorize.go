// Package authorize implements `connctl authorize` and `connctl reauthorize`.
package authorize

import (
	"context"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/connctl/connctl/internal/authorization"
	"github.com/connctl/connctl/internal/commands/complete"
	"github.com/connctl/connctl/internal/commands/connection/credcheck"
	"github.com/connctl/connctl/internal/commands/connview"
	"github.com/connctl/connctl/internal/commands/secretflags"
	"github.com/connctl/connctl/internal/configstore"
	"github.com/connctl/connctl/internal/connection"
	"github.com/connctl/connctl/internal/connector"
	"github.com/connctl/connctl/internal/deps"
	"github.com/connctl/connctl/internal/exitcode"
	"github.com/connctl/connctl/internal/iostreams"
	"github.com/connctl/connctl/internal/jsonexport"
	"github.com/connctl/connctl/internal/keycheck"
)

// Options are the inputs of authorize and reauthorize.
type Options struct {
	IO          *iostreams.IOStreams
	Getenv      func(string) string // for --secret-env
	Catalog     func() *connector.Catalogue
	Connections func() (*connection.Manager, error)
	// Authz runs the OAuth browser flow.
	Authz func() (*authorization.Service, error)
	// Creds checks key-based credentials with the provider before they are
	// stored, and records the outcome.
	Creds *credcheck.Checker
	// RecordFailedAuthorization logs a failed sign-in in the activity log.
	RecordFailedAuthorization func(ctx context.Context, c *configstore.Connection, action string, cause error)

	Re bool // reauthorize

	Name      string
	Secret    *secretflags.Flags
	Export    jsonexport.Exporter
	NoBrowser bool
	Timeout   time.Duration
	Force     bool
	NoVerify  bool
	Auth      string   // reauthorize: switch to this auth method
	Set       []string // reauthorize --auth: the new method's fields
}

// NewCmd returns `connctl authorize`, or `connctl reauthorize` when re is set.
func NewCmd(d *deps.Deps, runF func(context.Context, *Options) error, re bool) *cobra.Command {
	opts := &Options{IO: d.IO, Getenv: d.Getenv, Catalog: d.Catalog, Connections: d.Connections, Authz: d.Authz,
		Creds: credcheck.New(d), RecordFailedAuthorization: d.RecordFailedAuthorization, Re: re}
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
--secret-file or --secret-env, or typed at the hidden prompt. The secret is
checked with the provider first (as ` + "`connctl test`" + ` does): a rejected one is
exit 4 and nothing is stored. --no-verify stores it unchecked (offline
set-up); the connection shows as unverified until ` + "`connctl test`" + ` passes.`,
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
unless --force.

A new key is checked with the provider before it replaces the old one: when
the provider rejects it (exit 4) the old key stays. --no-verify skips the
check (the connection shows as unverified until ` + "`connctl test`" + ` passes).

--auth switches a key-based connection to another key-based auth method,
with that method's fields given by --set (e.g. a Mixpanel project secret to
a service account). The old method's secrets are removed once the new ones
are stored.`
		cmd.Example = `  connctl reauthorize crm
  connctl reauthorize crm --force          # switch to another org
  connctl reauthorize support --secret-env NEW_FD_KEY

  # Mixpanel: from the deprecated project secret to a service account
  printf %s "$SA_SECRET" | connctl reauthorize mixpanel --auth service_account \
      --set service_account_username=export.a1b2c3.mp-service-account --secret-stdin`
		cmd.Flags().BoolVar(&opts.Force, "force", false, "accept a grant for a different org or instance than before")
		cmd.Flags().StringVar(&opts.Auth, "auth", "", "switch to this key-based auth `method` (see `connctl connectors show <id>`)")
		cmd.Flags().StringArrayVarP(&opts.Set, "set", "s", nil, "with --auth: set a field of the new method, `field=value` (repeatable)")
	}
	cmd.Flags().BoolVar(&opts.NoVerify, "no-verify", false, "store key-based credentials without checking them with the provider (shown as unverified)")
	cmd.Flags().BoolVar(&opts.NoBrowser, "no-browser", false, "print the authorization URL instead of opening a browser (OAuth)")
	cmd.Flags().DurationVar(&opts.Timeout, "timeout", 5*time.Minute, "give up waiting for the browser after this long (OAuth)")
	opts.Secret = secretflags.Add(cmd)
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
	ctr, m, err := mgr.Lookup(cur)
	if err != nil {
		return err
	}
	if len(opts.Set) > 0 && opts.Auth == "" {
		return exitcode.UsageError("--set goes with --auth (to change fields, use `connctl edit`)")
	}
	if opts.Auth != "" {
		to, err := ctr.Auth(opts.Auth)
		if err != nil {
			return exitcode.UsageError("%s", err.Error())
		}
		if to.ID != m.ID {
			return switchAuth(ctx, opts, mgr, cur, ctr, to)
		}
		if len(opts.Set) > 0 {
			return exitcode.UsageError("connection %q already uses %s: change its fields with `connctl edit`", cur.Name, to.ID)
		}
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
		c, err = AuthorizeOAuth(ctx, opts.Authz, ios, opts.Getenv, cur.Name, opts.Secret, authorization.Options{NoBrowser: opts.NoBrowser, Timeout: opts.Timeout, Force: opts.Force})
		if err != nil {
			if ctx.Err() == nil && exitcode.FromError(err) != exitcode.Usage {
				action := "authorize"
				if opts.Re {
					action = "reauthorize"
				}
				opts.RecordFailedAuthorization(ctx, cur, action, err)
			}
			return err
		}
		who := ""
		if c.Account != "" {
			who = " as " + c.Account
		}
		ios.Statusf("%s%s connection %s (%s)%s", ios.Success(), verb, c.Name, ctr.ID, who)
	} else {
		secrets, err := opts.Secret.Collect(ios, opts.Getenv, connection.SecretFields(ctr, m), true)
		if err != nil {
			return err
		}
		var id *keycheck.Identity
		if !opts.NoVerify {
			v := credcheck.Verification{Connector: ctr, Auth: m, Fields: cur.Fields, Secrets: secrets, Current: cur, Saved: "nothing was stored"}
			if opts.Re {
				v.Saved = "the old credentials stay"
			}
			if id, err = opts.Creds.Verify(ctx, mgr, v); err != nil {
				return err
			}
		}
		if c, err = mgr.Authorize(ctx, cur.Name, secrets); err != nil {
			return err
		}
		c = opts.Creds.AfterSave(ctx, mgr, c, m, opts.NoVerify, id)
		ios.Statusf("%s%s connection %s (%s, %s)", ios.Success(), verb, c.Name, ctr.ID, connview.StatusText(c))
	}
	if exp != nil {
		return exp.Write(ios.Out, connview.From(opts.Catalog(), c))
	}
	return nil
}

// AuthorizeOAuth stores a client secret given through the secret flags (if
// any), then runs the browser flow for the connection named name.
func AuthorizeOAuth(ctx context.Context, authz func() (*authorization.Service, error), ios *iostreams.IOStreams, getenv func(string) string,
	name string, sf *secretflags.Flags, o authorization.Options) (*configstore.Connection, error) {
	svc, err := authz()
	if err != nil {
		return nil, err
	}
	if sf != nil && sf.Given() {
		cur, _ := svc.Mgr.Config.Find(name)
		ctr, m, err := svc.Mgr.Lookup(cur)
		if err != nil {
			return nil, err
		}
		secrets, err := sf.Collect(ios, getenv, connection.SecretFields(ctr, m), false)
		if err != nil {
			return nil, err
		}
		if _, _, err := svc.Mgr.Edit(ctx, name, connection.EditRequest{Secrets: secrets}); err != nil {
			return nil, err
		}
	}
	return svc.Authorize(ctx, name, o)
}

// switchAuth moves a connection to another key-based auth method: the new
// method's fields and secrets are checked with the provider (unless
// --no-verify), then saved in one edit, and the connection is authorized
// again. A rejected secret leaves the connection as it was.
func switchAuth(ctx context.Context, opts *Options, mgr *connection.Manager, cur *configstore.Connection, ctr *connector.Connector, to *connector.AuthMethod) error {
	ios := opts.IO
	q := connection.QuoteArg(cur.Name)
	if !opts.Re {
		return exitcode.UsageError("--auth is for `connctl reauthorize %s`", q)
	}
	if to.Kind.Interactive() {
		return exitcode.WithHint(exitcode.UsageError("reauthorize --auth switches only to key-based methods, and %s signs in through the browser", to.ID),
			fmt.Sprintf("switch with `connctl edit %s --set auth=%s`, then run `connctl authorize %s`", q, to.ID, q))
	}
	sets := []connection.Assignment{{Key: "auth", Value: to.ID}}
	for _, s := range opts.Set {
		a, err := connection.ParseAssignment(s)
		if err != nil {
			return err
		}
		sets = append(sets, a)
	}
	fields, err := connection.ApplyFields(ctr, to, cur.Fields, sets, nil)
	if err != nil {
		return err
	}
	if miss := connection.MissingRequired(ctr, to, fields); len(miss) > 0 {
		return exitcode.WithHint(exitcode.UsageError("auth method %s needs the field %s", to.ID, miss[0].Name),
			fmt.Sprintf("give it with --set %s=... (%s)", miss[0].Name, miss[0].Help))
	}
	secrets, err := opts.Secret.Collect(ios, opts.Getenv, connection.SecretFields(ctr, to), true)
	if err != nil {
		return err
	}
	var id *keycheck.Identity
	if !opts.NoVerify {
		if id, err = opts.Creds.Verify(ctx, mgr, credcheck.Verification{Connector: ctr, Auth: to, Fields: fields, Secrets: secrets, Saved: "the connection is unchanged"}); err != nil {
			return err
		}
	}
	if _, _, err := mgr.Edit(ctx, cur.Name, connection.EditRequest{Set: sets, Secrets: secrets}); err != nil {
		return err
	}
	// Edit stores the secrets; Authorize marks the connection authorized
	// (also when it was revoked) and records the reauthorization.
	c, err := mgr.Authorize(ctx, cur.Name, secrets)
	if err != nil {
		return err
	}
	c = opts.Creds.AfterSave(ctx, mgr, c, to, opts.NoVerify, id)
	ios.Statusf("%sReauthorized connection %s (%s, %s, %s)", ios.Success(), c.Name, ctr.ID, to.ID, connview.StatusText(c))
	if opts.Export != nil {
		return opts.Export.Write(ios.Out, connview.From(opts.Catalog(), c))
	}
	return nil
}
