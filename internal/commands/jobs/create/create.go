// Package create implements `connctl jobs create`.
package create

import (
	"context"
	"fmt"
	"slices"

	"github.com/spf13/cobra"

	"github.com/connctl/connctl/internal/commands/complete"
	"github.com/connctl/connctl/internal/commands/jobs/jobview"
	"github.com/connctl/connctl/internal/configstore"
	"github.com/connctl/connctl/internal/connection"
	"github.com/connctl/connctl/internal/connector"
	"github.com/connctl/connctl/internal/deps"
	"github.com/connctl/connctl/internal/exitcode"
	"github.com/connctl/connctl/internal/iostreams"
	"github.com/connctl/connctl/internal/jobs"
	"github.com/connctl/connctl/internal/jsonexport"
)

// Options are the inputs of jobs create.
type Options struct {
	IO      *iostreams.IOStreams
	Config  func() (jobview.Definitions, error)
	Catalog func() *connector.Catalogue
	// Jobs builds the jobs manager (recording update activities).
	Jobs func() (*jobs.Manager, error)
	// Activities opens the activity log if it exists (nil when none).
	Activities func() (jobview.Runs, error)
	// CreateDefaults makes a connector's out-of-the-box jobs for a
	// connection (jobview.CreateDefaultJobs).
	CreateDefaults func(context.Context, *configstore.Connection, *connector.Connector) error

	Spec        jobs.Spec // Name empty with DefaultJobs
	DefaultJobs bool
	Export      jsonexport.Exporter
}

// NewCmd returns `connctl jobs create`.
func NewCmd(d *deps.Deps, runF func(context.Context, *Options) error) *cobra.Command {
	opts := &Options{IO: d.IO, Config: jobview.Config(d), Catalog: d.Catalog, Activities: jobview.Activities(d),
		Jobs: d.Jobs,
		CreateDefaults: func(ctx context.Context, conn *configstore.Connection, ctr *connector.Connector) error {
			return jobview.CreateDefaultJobs(ctx, d, conn, ctr)
		}}
	if runF == nil {
		runF = run
	}
	var params []string
	cmd := &cobra.Command{
		Use:   "create (<name> --source S | --default-jobs) --connection C [--param k=v]... [--dest PATH|-] [--format ndjson|csv] [--full-refresh] [--schedule SPEC] [--notify-on failure|always|never]",
		Short: "Define a job",
		Long: `Define a job. Sources and their parameters are listed by
` + "`connctl connectors show <connector>`" + `. --dest is a file (kept as an absolute
path, written atomically) or - for stdout (the default); --format defaults to
csv for a .csv file and ndjson otherwise. Sources with an incremental field
run incrementally unless --full-refresh. --schedule: hourly, daily, weekly or
"every 15m"; ` + "`connctl jobs run --due`" + ` runs the jobs that are due.
--notify-on says when the notify.webhook and notify.command settings hear
of the job's runs: failure (the default: when it starts failing, reminders
while it fails, and when it recovers), always (after every success too) or
never.

--default-jobs creates the connector's out-of-the-box jobs instead (as
` + "`connctl create --default-jobs`" + ` does): one per source that needs no
parameter, named <connection>-<source>, writing NDJSON under
$XDG_DATA_HOME/connctl/jobs/<connection>/. Jobs that already exist are
skipped, so it can be run again at any time.`,
		Example: `  connctl jobs create tickets --connection support --source tickets --dest /data/tickets.ndjson --schedule hourly
  connctl jobs create nightly --connection support --source tickets --dest /data/all.ndjson --schedule daily --notify-on always
  connctl jobs create --default-jobs --connection support`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			if opts.DefaultJobs {
				if len(args) > 0 {
					return exitcode.UsageError("%s", defaultJobsError("the job name "+args[0]).Error())
				}
				for _, f := range []string{"source", "param", "dest", "format", "full-refresh", "schedule", "notify-on", "output", "jq", "template"} {
					if fl := c.Flags().Lookup(f); fl != nil && fl.Changed {
						return exitcode.UsageError("%s", defaultJobsError("--"+f).Error())
					}
				}
				if opts.Spec.Connection == "" {
					return exitcode.UsageError("--default-jobs needs --connection <name>")
				}
				return runF(c.Context(), opts)
			}
			if len(args) == 0 {
				return exitcode.UsageError("give the job's name: `connctl jobs create <name> --connection C --source S` (or --default-jobs)")
			}
			opts.Spec.Name = args[0]
			if opts.Spec.Connection == "" || opts.Spec.Source == "" {
				return exitcode.UsageError("--connection and --source are required")
			}
			if !slices.Contains(jobs.NotifyOnValues, opts.Spec.NotifyOn) {
				return exitcode.UsageError("--notify-on %q: choose failure, always or never", opts.Spec.NotifyOn)
			}
			for _, p := range params {
				a, err := connection.ParseAssignment(p)
				if err != nil {
					return exitcode.UsageError("--param %q is not key=value", p)
				}
				opts.Spec.Params = append(opts.Spec.Params, a)
			}
			return runF(c.Context(), opts)
		},
	}
	cmd.Flags().StringVar(&opts.Spec.Connection, "connection", "", "connection `name`")
	cmd.Flags().StringVar(&opts.Spec.Source, "source", "", "the connector's `source` (see connctl connectors show)")
	cmd.Flags().StringArrayVar(&params, "param", nil, "a source parameter `key=value` (repeatable)")
	cmd.Flags().StringVar(&opts.Spec.Dest, "dest", "-", "output `file`, or - for stdout")
	cmd.Flags().StringVar(&opts.Spec.Format, "format", "", "ndjson or csv (default from --dest)")
	cmd.Flags().BoolVar(&opts.Spec.FullRefresh, "full-refresh", false, "always fetch everything (no incremental checkpoint)")
	cmd.Flags().StringVar(&opts.Spec.Schedule, "schedule", "", "hourly, daily, weekly or \"every DURATION\"")
	cmd.Flags().StringVar(&opts.Spec.NotifyOn, "notify-on", jobs.NotifyOnFailure, "when to notify (notify.webhook, notify.command): failure (when it starts failing and when it recovers), always (every success too) or never")
	cmd.Flags().BoolVar(&opts.DefaultJobs, "default-jobs", false, "create the connector's out-of-the-box jobs for --connection (skips those that exist)")
	jsonexport.AddFlags(cmd, &opts.Export, jobview.Fields)
	_ = cmd.RegisterFlagCompletionFunc("connection", complete.ConnectionNames(d))
	_ = cmd.RegisterFlagCompletionFunc("format", complete.Values("ndjson", "csv"))
	_ = cmd.RegisterFlagCompletionFunc("notify-on", complete.Values(jobs.NotifyOnValues...))
	return cmd
}

func run(ctx context.Context, opts *Options) error {
	if opts.DefaultJobs {
		return createDefaults(ctx, opts)
	}
	m, err := opts.Jobs()
	if err != nil {
		return err
	}
	j, err := m.Create(ctx, opts.Spec)
	if err != nil {
		return err
	}
	opts.IO.Statusf("%sCreated job %s (%s, %s, to %s)", opts.IO.Success(), j.Name, j.Source, j.Mode, j.Dest)
	if opts.Export != nil {
		store, _ := opts.Activities()
		v := jobview.From(ctx, m.Config.Document(), j, store)
		v.ReadCheckpoint(ctx, store)
		return opts.Export.Write(opts.IO.Out, v)
	}
	return nil
}

// createDefaults runs `jobs create --default-jobs --connection C`.
func createDefaults(ctx context.Context, opts *Options) error {
	cfg, err := opts.Config()
	if err != nil {
		return err
	}
	conn, ok := cfg.Find(opts.Spec.Connection)
	if !ok {
		return connection.NotFound(opts.Spec.Connection)
	}
	ctr, ok := opts.Catalog().Lookup(conn.Connector)
	if !ok {
		return fmt.Errorf("connection %q uses connector %q, which this connctl does not know: upgrade connctl", conn.Name, conn.Connector)
	}
	return opts.CreateDefaults(ctx, conn, ctr)
}

// defaultJobsError is the usage error for flags --default-jobs cannot take.
func defaultJobsError(what string) error {
	return fmt.Errorf("--default-jobs names its jobs <connection>-<source>: drop %s", what)
}
