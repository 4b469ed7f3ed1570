// Package create implements `connctl create`.
package create

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/connctl/connctl/internal/authorization"
	"github.com/connctl/connctl/internal/commands/complete"
	"github.com/connctl/connctl/internal/commands/connection/credcheck"
	"github.com/connctl/connctl/internal/commands/connview"
	jobscmd "github.com/connctl/connctl/internal/commands/jobs/jobview"
	"github.com/connctl/connctl/internal/commands/secretflags"
	"github.com/connctl/connctl/internal/configstore"
	"github.com/connctl/connctl/internal/connection"
	"github.com/connctl/connctl/internal/connector"
	"github.com/connctl/connctl/internal/connector/mixpanel"
	"github.com/connctl/connctl/internal/deps"
	"github.com/connctl/connctl/internal/exitcode"
	"github.com/connctl/connctl/internal/iostreams"
	"github.com/connctl/connctl/internal/jsonexport"
	"github.com/connctl/connctl/internal/keycheck"
)

// AuthAssignment adds `--auth METHOD` to the --set assignments as auth=METHOD;
// a different --set auth=... is a usage error.
func AuthAssignment(auth string, sets []connection.Assignment) ([]connection.Assignment, error) {
	if auth == "" {
		return sets, nil
	}
	for _, a := range sets {
		if a.Key == "auth" && a.Value != auth {
			return nil, exitcode.UsageError("--auth %s and --set auth=%s disagree: give the method once, with --auth", auth, a.Value)
		}
	}
	return append([]connection.Assignment{{Key: "auth", Value: auth}}, sets...), nil
}

// Options are the inputs of create.
type Options struct {
	IO          *iostreams.IOStreams
	Getenv      func(string) string // for --secret-env
	Catalog     func() *connector.Catalogue
	Connections func() (*connection.Manager, error)
	// Authz signs in to an OAuth connection at once (unless --no-authorize).
	Authz func() (*authorization.Service, error)
	// Creds checks key-based credentials with the provider before they are
	// saved, and records the outcome.
	Creds *credcheck.Checker
	// RecordFailedAuthorization logs a failed sign-in in the activity log.
	RecordFailedAuthorization func(ctx context.Context, c *configstore.Connection, action string, cause error)
	// CreateDefaults makes the connector's out-of-the-box jobs for the
	// connection (--default-jobs; jobview.CreateDefaultJobs).
	CreateDefaults func(context.Context, *configstore.Connection, *connector.Connector) error

	Connector string
	Name      string
	Set       []string
	Secret    *secretflags.Flags
	Export    jsonexport.Exporter

	Auth        string
	NoVerify    bool
	NoAuthorize bool
	NoBrowser   bool
	Timeout     time.Duration
	DefaultJobs bool
}

// newOptions returns create's Options with d's services and no flags set.
func newOptions(d *deps.Deps) *Options {
	return &Options{IO: d.IO, Getenv: d.Getenv, Catalog: d.Catalog, Connections: d.Connections, Authz: d.Authz,
		Creds: credcheck.New(d), RecordFailedAuthorization: d.RecordFailedAuthorization,
		CreateDefaults: func(ctx context.Context, conn *configstore.Connection, ctr *connector.Connector) error {
			return jobscmd.CreateDefaultJobs(ctx, d, conn, ctr)
		}}
}

// NewCmd returns `connctl create`.
func NewCmd(d *deps.Deps, runF func(context.Context, *Options) error) *cobra.Command {
	opts := newOptions(d)
	if runF == nil {
		runF = run
	}
	cmd := &cobra.Command{
		Use:   "create --connector <id> [--name <name>] [--auth <method>] [--set field=value]... [--secret-stdin]",
		Short: "Create a connection",
		Long: `Create a connection to an external system.

Fields are given with --set (see ` + "`connctl connectors show <id>`" + ` for each
connector's fields). Secrets never go in argv: give them with --secret-stdin,
--secret-file or --secret-env, or type them at the hidden prompt on a terminal.
--auth picks the auth method (the first one listed by ` + "`connctl connectors`" + ` is
the default). Key-based credentials are checked with the provider before
anything is saved, with the same call as ` + "`connctl test`" + `: a rejected key is
exit 4 and nothing is saved. --no-verify saves without the check (offline
set-up); the connection then shows as unverified until ` + "`connctl test`" + ` passes.
For OAuth connections create signs in at once: it opens the browser (or prints
the URL with --no-browser) and waits for the provider's redirect. With
--no-authorize it only saves the connection, as not_authorized, for a later
` + "`connctl authorize <name>`" + `; if signing in fails or times out, the connection
stays saved as not_authorized and ` + "`connctl authorize <name>`" + ` tries again.

The name defaults to the connector id (then id-2, id-3 ...). On a terminal,
missing fields are asked for, and so is the auth method when the connector has
several and --auth is not given (Enter takes the first); otherwise a missing
required field is an error (exit 2) that names it, and the first auth method
is used.`,
		Example: `  # Freshdesk, API key from a variable, no prompt
  printf %s "$FD_KEY" | connctl create --connector freshdesk --name support --set domain=acme --secret-stdin

  # S3-compatible store
  connctl create --connector s3 --name archive --set bucket=exports --set access_key_id=AKIA... \
      --set endpoint=https://minio.internal:9000 --secret-env AWS_SECRET_ACCESS_KEY

  # BigQuery with a service-account key file
  connctl create --connector bigquery --set project_id=acme-dw --secret-file key.json

  # Jira with email + API token (asks for the token on a terminal)
  connctl create --connector jira --auth api_token --set site_url=https://acme.atlassian.net --set email=me@acme.com

  # Mixpanel with the project's API secret (deprecated by Mixpanel), saved without a check
  printf %s "$MP_SECRET" | connctl create --connector mixpanel --auth api_secret --set project_id=1234567 \
      --secret-stdin --no-verify

  # and its out-of-the-box jobs
  connctl create --connector jira --set site_url=https://acme.atlassian.net --set email=me@acme.com --default-jobs`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			return runF(c.Context(), opts)
		},
	}
	cmd.Flags().StringVarP(&opts.Connector, "connector", "c", "", "connector `id` or alias (see `connctl connectors`)")
	cmd.Flags().StringVarP(&opts.Name, "name", "n", "", "connection `name` (default: the connector id)")
	cmd.Flags().StringArrayVarP(&opts.Set, "set", "s", nil, "set a field: `field=value` (repeatable)")
	cmd.Flags().StringVar(&opts.Auth, "auth", "", "auth `method` (see `connctl connectors show <id>`; default: the connector's first)")
	cmd.Flags().BoolVar(&opts.NoVerify, "no-verify", false, "save key-based credentials without checking them with the provider (shown as unverified)")
	cmd.Flags().BoolVar(&opts.DefaultJobs, "default-jobs", false, "also create the connector's out-of-the-box jobs (one per source that needs no parameter)")
	cmd.Flags().BoolVar(&opts.NoAuthorize, "no-authorize", false, "save an OAuth connection without signing in now (authorize later)")
	cmd.Flags().BoolVar(&opts.NoBrowser, "no-browser", false, "print the authorization URL instead of opening a browser (OAuth)")
	cmd.Flags().DurationVar(&opts.Timeout, "timeout", 5*time.Minute, "give up waiting for the browser after this long (OAuth)")
	opts.Secret = secretflags.Add(cmd)
	jsonexport.AddFlags(cmd, &opts.Export, connview.Fields)
	_ = cmd.RegisterFlagCompletionFunc("connector", complete.ConnectorIDs(d))
	return cmd
}

func run(ctx context.Context, opts *Options) error {
	exp := opts.Export
	ios := opts.IO
	cat := opts.Catalog()
	if opts.Connector == "" {
		if !ios.CanPrompt() {
			return exitcode.WithHint(exitcode.UsageError("--connector is required"), "see the connectors with `connctl connectors`")
		}
		var err error
		if opts.Connector, err = promptConnector(ios, cat); err != nil {
			return err
		}
	}
	ctr, ok := cat.Lookup(opts.Connector)
	if !ok {
		return exitcode.WithHint(exitcode.UsageError("unknown connector %q", opts.Connector),
			cat.UnknownHint(opts.Connector))
	}
	var sets []connection.Assignment
	var err error
	for _, s := range opts.Set {
		a, err := connection.ParseAssignment(s)
		if err != nil {
			return err
		}
		sets = append(sets, a)
	}
	if sets, err = AuthAssignment(opts.Auth, sets); err != nil {
		return err
	}
	if opts.Auth == "" && askAuth(ios, ctr, sets) {
		auth, err := promptAuth(ios, ctr)
		if err != nil {
			return err
		}
		sets = append([]connection.Assignment{{Key: "auth", Value: auth}}, sets...)
	}
	m, err := connection.ResolveAuth(ctr, "", sets)
	if err != nil {
		return err
	}
	fields, err := connection.ApplyFields(ctr, m, nil, sets, nil)
	if err != nil {
		return err
	}
	mgr, err := opts.Connections()
	if err != nil {
		return err
	}
	// Refuse early, before any prompt or keyring call.
	if opts.Name != "" {
		if err := configstore.ValidateName(opts.Name); err != nil {
			return exitcode.UsageError("%s", err.Error())
		}
		if c, taken := mgr.Config.Find(opts.Name); taken {
			return connection.NameTaken(opts.Name, c.Name)
		}
	}
	if err := mgr.CheckRules(mgr.Config.Document(), ctr); err != nil {
		return err
	}
	miss := connection.MissingRequired(ctr, m, fields)
	if m.OAuth != nil && mgr.Config.String("oauth."+ctr.ID+".client_id") != "" {
		// The per-connector default client ID (connctl config set
		// oauth.<id>.client_id) stands in for a missing client_id.
		kept := miss[:0]
		for _, f := range miss {
			if f.Name != "client_id" {
				kept = append(kept, f)
			}
		}
		miss = kept
	}
	if len(miss) > 0 {
		if !ios.CanPrompt() {
			names := make([]string, len(miss))
			for i, f := range miss {
				names[i] = f.Name
			}
			return exitcode.WithHint(exitcode.UsageError("%s needs the field %s", ctr.ID, strings.Join(names, ", ")),
				fmt.Sprintf("give it with --set %s=... (%s)", miss[0].Name, miss[0].Help))
		}
		for _, f := range miss {
			v, err := promptField(ios, f)
			if err != nil {
				return err
			}
			fields[f.Name] = v
		}
	}
	secrets, err := opts.Secret.Collect(ios, opts.Getenv, connection.SecretFields(ctr, m), !m.Kind.Interactive())
	if err != nil {
		return err
	}
	var id *keycheck.Identity
	if !opts.NoVerify {
		if id, err = opts.Creds.Verify(ctx, mgr, credcheck.Verification{Connector: ctr, Auth: m, Fields: fields, Secrets: secrets}); err != nil {
			return err
		}
	}
	if m.Kind.Interactive() && !opts.NoAuthorize {
		// The sign-in's tokens must be storable: a secret store that is
		// down (a sealed Vault, a locked keyring) refuses the create
		// before anything is saved or a grant made.
		if err := mgr.ProbeStore(ctx, connection.NewID()); err != nil {
			return err
		}
	}
	conn, err := mgr.Create(ctx, connection.CreateRequest{Connector: ctr, Auth: m, Name: opts.Name, Fields: fields, Secrets: secrets})
	if err != nil {
		return err
	}
	conn = opts.Creds.AfterSave(ctx, mgr, conn, m, opts.NoVerify, id)
	ios.Statusf("%sCreated connection %s (%s, %s)", ios.Success(), conn.Name, ctr.ID, connview.StatusText(conn))
	if ctr.ID == "mixpanel" && m.ID == "api_secret" {
		ios.Statusf("%s", mixpanel.SecretNotice(connection.QuoteArg(conn.Name)))
	}
	if m.Kind.Interactive() {
		q := connection.QuoteArg(conn.Name)
		if opts.NoAuthorize {
			ios.Statusf("Next: sign in with `connctl authorize %s`", q)
		} else {
			svc, err := opts.Authz()
			if err != nil {
				return err
			}
			authorized, err := svc.Authorize(ctx, conn.Name, authorization.Options{NoBrowser: opts.NoBrowser, Timeout: opts.Timeout, Created: true})
			if err != nil {
				if ctx.Err() == nil && exitcode.FromError(err) != exitcode.Usage {
					opts.RecordFailedAuthorization(ctx, conn, "authorize", err)
				}
				if !authorization.FlowFailed(err) {
					// A failed browser flow already says what it left
					// (Options.Created); anything else gets it here.
					err = exitcode.WithHint(err, fmt.Sprintf("the connection is saved as not_authorized; sign in with `connctl authorize %s`", q))
				}
				return err
			}
			conn = authorized
			who := ""
			if conn.Account != "" {
				who = " as " + conn.Account
			}
			ios.Statusf("%sAuthorized connection %s%s", ios.Success(), conn.Name, who)
		}
	}
	if opts.DefaultJobs {
		if err := createDefaultJobs(ctx, opts, conn, ctr); err != nil {
			return err
		}
	}
	if exp != nil {
		return exp.Write(ios.Out, connview.From(cat, conn))
	}
	return nil
}

// createDefaultJobs creates the connector's out-of-the-box jobs for the
// connection just created.
func createDefaultJobs(ctx context.Context, opts *Options, conn *configstore.Connection, ctr *connector.Connector) error {
	if err := opts.CreateDefaults(ctx, conn, ctr); err != nil {
		return exitcode.WithHint(err, "the connection was created; create its jobs with `connctl jobs create --default-jobs --connection "+connection.QuoteArg(conn.Name)+"`")
	}
	return nil
}

func promptConnector(ios *iostreams.IOStreams, cat *connector.Catalogue) (string, error) {
	fmt.Fprintln(ios.ErrOut, "Connectors: "+strings.Join(cat.IDs(), ", "))
	for range 3 {
		v, err := ios.Prompt("Connector: ")
		if err != nil {
			return "", err
		}
		if _, ok := cat.Lookup(v); ok {
			return v, nil
		}
		fmt.Fprintf(ios.ErrOut, "unknown connector %q\n", v)
	}
	return "", exitcode.UsageError("no valid connector given")
}

func promptField(ios *iostreams.IOStreams, f connector.Field) (string, error) {
	label := f.Label
	if label == "" {
		label = f.Name
	}
	if f.Help != "" {
		fmt.Fprintln(ios.ErrOut, f.Help)
	}
	for range 3 {
		v, err := ios.Prompt(label + ": ")
		if err != nil {
			return "", err
		}
		v = strings.TrimSpace(v)
		if v == "" {
			fmt.Fprintf(ios.ErrOut, "%s is required\n", f.Name)
			continue
		}
		if err := connection.CheckValue(&f, v); err != nil {
			fmt.Fprintln(ios.ErrOut, err.Error())
			continue
		}
		return v, nil
	}
	return "", exitcode.UsageError("no valid value for %s", f.Name)
}
