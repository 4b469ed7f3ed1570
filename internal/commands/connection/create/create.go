// Package create implements `connctl create`.
package create

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/connctl/connctl/internal/authorization"
	"github.com/connctl/connctl/internal/commands/complete"
	"github.com/connctl/connctl/internal/commands/connview"
	jobscmd "github.com/connctl/connctl/internal/commands/jobs"
	"github.com/connctl/connctl/internal/commands/secretflags"
	"github.com/connctl/connctl/internal/configstore"
	"github.com/connctl/connctl/internal/connection"
	"github.com/connctl/connctl/internal/connector"
	"github.com/connctl/connctl/internal/deps"
	"github.com/connctl/connctl/internal/exitcode"
	"github.com/connctl/connctl/internal/iostreams"
	"github.com/connctl/connctl/internal/jobs"
	"github.com/connctl/connctl/internal/jsonexport"
)

// Options are the inputs of create.
type Options struct {
	Deps *deps.Deps

	Connector string
	Name      string
	Set       []string
	Secret    *secretflags.Flags
	Export    jsonexport.Exporter

	NoAuthorize bool
	NoBrowser   bool
	Timeout     time.Duration
	DefaultJobs bool
}

// NewCmd returns `connctl create`.
func NewCmd(d *deps.Deps, runF func(context.Context, *Options) error) *cobra.Command {
	opts := &Options{Deps: d}
	if runF == nil {
		runF = run
	}
	cmd := &cobra.Command{
		Use:   "create --connector <id> [--name <name>] [--set field=value]... [--secret-stdin]",
		Short: "Create a connection",
		Long: `Create a connection to an external system.

Fields are given with --set (see ` + "`connctl connectors show <id>`" + ` for each
connector's fields). Secrets never go in argv: give them with --secret-stdin,
--secret-file or --secret-env, or type them at the hidden prompt on a terminal.
Key-based connections are authorized once saved. For OAuth connections create
saves the connection, then signs in at once: it opens the browser (or prints
the URL with --no-browser) and waits for the provider's redirect. With
--no-authorize it only saves the connection, as not_authorized, for a later
` + "`connctl authorize <name>`" + `; if signing in fails or times out, the connection
stays saved as not_authorized and ` + "`connctl authorize <name>`" + ` tries again.

The name defaults to the connector id (then id-2, id-3 ...). On a terminal,
missing fields are asked for; otherwise a missing required field is an error
(exit 2) that names it.`,
		Example: `  # Freshdesk, API key from a variable, no prompt
  printf %s "$FD_KEY" | connctl create --connector freshdesk --name support --set domain=acme --secret-stdin

  # S3-compatible store
  connctl create --connector s3 --name archive --set bucket=exports --set access_key_id=AKIA... \
      --set endpoint=https://minio.internal:9000 --secret-env AWS_SECRET_ACCESS_KEY

  # BigQuery with a service-account key file
  connctl create --connector bigquery --set project_id=acme-dw --secret-file key.json

  # Jira with email + API token (asks for the token on a terminal)
  connctl create --connector jira --set site_url=https://acme.atlassian.net --set email=me@acme.com`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			return runF(c.Context(), opts)
		},
	}
	cmd.Flags().StringVarP(&opts.Connector, "connector", "c", "", "connector `id` or alias (see `connctl connectors`)")
	cmd.Flags().StringVarP(&opts.Name, "name", "n", "", "connection `name` (default: the connector id)")
	cmd.Flags().StringArrayVarP(&opts.Set, "set", "s", nil, "set a field: `field=value` (repeatable)")
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
	d := opts.Deps
	exp := opts.Export
	ios := d.IO
	cat := d.Catalog()
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
	for _, s := range opts.Set {
		a, err := connection.ParseAssignment(s)
		if err != nil {
			return err
		}
		sets = append(sets, a)
	}
	m, err := connection.ResolveAuth(ctr, "", sets)
	if err != nil {
		return err
	}
	fields, err := connection.ApplyFields(ctr, m, nil, sets, nil)
	if err != nil {
		return err
	}
	mgr, err := connview.Manager(d)
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
	secrets, err := opts.Secret.Collect(ios, d.Getenv, connection.SecretFields(ctr, m), !m.Kind.Interactive())
	if err != nil {
		return err
	}
	conn, err := mgr.Create(ctx, connection.CreateRequest{Connector: ctr, Auth: m, Name: opts.Name, Fields: fields, Secrets: secrets})
	if err != nil {
		return err
	}
	ios.Statusf("%sCreated connection %s (%s, %s)", ios.Success(), conn.Name, ctr.ID, conn.Status)
	if m.Kind.Interactive() {
		q := connection.QuoteArg(conn.Name)
		if opts.NoAuthorize {
			ios.Statusf("Next: sign in with `connctl authorize %s`", q)
		} else {
			svc, err := connview.Authz(d)
			if err != nil {
				return err
			}
			authorized, err := svc.Authorize(ctx, conn.Name, authorization.Options{NoBrowser: opts.NoBrowser, Timeout: opts.Timeout})
			if err != nil {
				if ctx.Err() == nil && exitcode.FromError(err) != exitcode.Usage {
					connview.RecordFailedAuthorization(ctx, d, conn, "authorize", err)
				}
				return exitcode.WithHint(err, fmt.Sprintf("the connection is saved as not_authorized; try again with `connctl authorize %s`", q))
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
		if err := createDefaultJobs(ctx, d, conn, ctr); err != nil {
			return err
		}
	}
	if exp != nil {
		return exp.Write(ios.Out, connview.From(cat, conn))
	}
	return nil
}

// createDefaultJobs creates one job per source that needs no parameter,
// named <connection>-<source>, writing NDJSON under
// $XDG_DATA_HOME/connctl/jobs/<connection>/.
func createDefaultJobs(ctx context.Context, d *deps.Deps, conn *configstore.Connection, ctr *connector.Connector) error {
	m, err := jobscmd.Manager(d)
	if err != nil {
		return err
	}
	dir := filepath.Join(filepath.Dir(deps.DefaultSecretsFile(d.Getenv)), "jobs", safeName(conn.Name))
	var made []string
	for _, src := range ctr.Sources {
		needs := false
		for _, p := range src.Params {
			needs = needs || (p.Required && p.Default == "")
		}
		if needs {
			continue
		}
		name := conn.Name + "-" + src.Name
		if _, err := m.Create(ctx, jobs.Spec{Name: name, Connection: conn.Name, Source: src.Name, Dest: filepath.Join(dir, src.Name+".ndjson")}); err != nil {
			return exitcode.WithHint(err, "the connection was created; create its jobs with `connctl jobs create`")
		}
		made = append(made, name)
	}
	if len(made) == 0 {
		d.IO.Statusf("%s has no out-of-the-box jobs", ctr.Name)
		return nil
	}
	d.IO.Statusf("%sCreated jobs %s (run them with `connctl jobs run <job>`)", d.IO.Success(), strings.Join(made, ", "))
	return nil
}

// safeName makes a connection name usable as a folder name.
func safeName(s string) string {
	return strings.Map(func(r rune) rune {
		if r == '/' || r == '\\' || r == ':' || r < ' ' {
			return '_'
		}
		return r
	}, s)
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
