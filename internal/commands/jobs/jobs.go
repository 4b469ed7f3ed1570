// Package jobs implements `connctl jobs`: create, list, show, edit, delete
// and run job definitions.
package jobs

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/connctl/connctl/internal/activitylog"
	"github.com/connctl/connctl/internal/commands/complete"
	"github.com/connctl/connctl/internal/configstore"
	"github.com/connctl/connctl/internal/connection"
	"github.com/connctl/connctl/internal/deps"
	"github.com/connctl/connctl/internal/exitcode"
	"github.com/connctl/connctl/internal/jobs"
	"github.com/connctl/connctl/internal/jsonexport"
	"github.com/connctl/connctl/internal/tableprint"
)

// Fields are the JSON fields of a job.
var Fields = []string{"id", "name", "connection", "connection_id", "source", "params", "dest", "format", "mode", "schedule",
	"last_run_status", "last_run_at", "created_at", "updated_at"}

// View is a job as printed.
type View struct {
	ID            string            `json:"id"`
	Name          string            `json:"name"`
	Connection    string            `json:"connection"`
	ConnectionID  string            `json:"connection_id"`
	Source        string            `json:"source"`
	Params        map[string]string `json:"params"`
	Dest          string            `json:"dest"`
	Format        string            `json:"format"`
	Mode          string            `json:"mode"`
	Schedule      string            `json:"schedule"`
	LastRunStatus string            `json:"last_run_status"`
	LastRunAt     *time.Time        `json:"last_run_at"`
	CreatedAt     time.Time         `json:"created_at"`
	UpdatedAt     time.Time         `json:"updated_at"`
}

func view(ctx context.Context, d *deps.Deps, doc *configstore.Document, j *configstore.Job, store activitylog.Reader) View {
	v := View{ID: j.ID, Name: j.Name, ConnectionID: j.ConnectionID, Source: j.Source, Params: j.Params, Dest: j.Dest,
		Format: j.Format, Mode: j.Mode, Schedule: j.Schedule, CreatedAt: j.CreatedAt, UpdatedAt: j.UpdatedAt}
	if v.Params == nil {
		v.Params = map[string]string{}
	}
	if c := doc.ConnectionByID(j.ConnectionID); c != nil {
		v.Connection = c.Name
	}
	if store != nil {
		if runs, err := store.List(ctx, activitylog.Filter{JobID: j.ID, Type: activitylog.TypeExecution, Limit: 1}); err == nil && len(runs) > 0 {
			v.LastRunStatus = string(runs[0].Status)
			t := runs[0].StartedAt
			v.LastRunAt = &t
		}
	}
	return v
}

// Manager builds the jobs manager, recording update activities.
func Manager(d *deps.Deps) (*jobs.Manager, error) { return d.Jobs() }

// JobNames completes job names from the config only.
func JobNames(d *deps.Deps) func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
	return func(c *cobra.Command, args []string, prefix string) ([]string, cobra.ShellCompDirective) {
		cfg, err := d.Config()
		if err != nil {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		var out []string
		for _, j := range cfg.Document().Jobs {
			if strings.HasPrefix(strings.ToLower(j.Name), strings.ToLower(prefix)) {
				out = append(out, j.Name)
			}
		}
		return out, cobra.ShellCompDirectiveNoFileComp
	}
}

// NewCmd returns `connctl jobs` and its subcommands.
func NewCmd(d *deps.Deps) *cobra.Command {
	list := newList(d)
	cmd := &cobra.Command{
		Use:     "jobs",
		Aliases: []string{"job"},
		Short:   "Define and run jobs that fetch records through connections",
		Long: `A job fetches records from a connection's system into a file or stdout: a
source (e.g. freshdesk tickets), parameters, a destination and format, and
incremental mode (later runs fetch only what changed since the last
successful run) or full. ` + "`connctl jobs`" + ` alone lists them.`,
		Example: `  connctl jobs create tickets --connection support --source tickets --dest tickets.ndjson
  connctl jobs run tickets
  connctl jobs list --connection support`,
		Args: cobra.NoArgs,
		RunE: list.RunE,
	}
	cmd.Flags().AddFlagSet(list.Flags())
	cmd.AddCommand(list, newCreate(d), newShow(d), newEdit(d), newDelete(d), newRun(d))
	return cmd
}

func newCreate(d *deps.Deps) *cobra.Command {
	var spec jobs.Spec
	var params []string
	var defaults bool
	var exp jsonexport.Exporter
	cmd := &cobra.Command{
		Use:   "create (<name> --source S | --default-jobs) --connection C [--param k=v]... [--dest PATH|-] [--format ndjson|csv] [--full-refresh] [--schedule SPEC]",
		Short: "Define a job",
		Long: `Define a job. Sources and their parameters are listed by
` + "`connctl connectors show <connector>`" + `. --dest is a file (kept as an absolute
path, written atomically) or - for stdout (the default); --format defaults to
csv for a .csv file and ndjson otherwise. Sources with an incremental field
run incrementally unless --full-refresh. --schedule: hourly, daily, weekly or
"every 15m"; ` + "`connctl jobs run --due`" + ` runs the jobs that are due.

--default-jobs creates the connector's out-of-the-box jobs instead (as
` + "`connctl create --default-jobs`" + ` does): one per source that needs no
parameter, named <connection>-<source>, writing NDJSON under
$XDG_DATA_HOME/connctl/jobs/<connection>/. Jobs that already exist are
skipped, so it can be run again at any time.`,
		Example: `  connctl jobs create tickets --connection support --source tickets --dest /data/tickets.ndjson --schedule hourly
  connctl jobs create --default-jobs --connection support`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			if defaults {
				return createDefaults(c.Context(), d, c, args, spec.Connection)
			}
			if len(args) == 0 {
				return exitcode.UsageError("give the job's name: `connctl jobs create <name> --connection C --source S` (or --default-jobs)")
			}
			spec.Name = args[0]
			if spec.Connection == "" || spec.Source == "" {
				return exitcode.UsageError("--connection and --source are required")
			}
			for _, p := range params {
				a, err := connection.ParseAssignment(p)
				if err != nil {
					return exitcode.UsageError("--param %q is not key=value", p)
				}
				spec.Params = append(spec.Params, a)
			}
			m, err := Manager(d)
			if err != nil {
				return err
			}
			j, err := m.Create(c.Context(), spec)
			if err != nil {
				return err
			}
			d.IO.Statusf("%sCreated job %s (%s, %s, to %s)", d.IO.Success(), j.Name, j.Source, j.Mode, j.Dest)
			if exp != nil {
				store, _ := d.ActivitiesIfAny()
				return exp.Write(d.IO.Out, view(c.Context(), d, m.Config.Document(), j, store))
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&spec.Connection, "connection", "", "connection `name`")
	cmd.Flags().StringVar(&spec.Source, "source", "", "the connector's `source` (see connctl connectors show)")
	cmd.Flags().StringArrayVar(&params, "param", nil, "a source parameter `key=value` (repeatable)")
	cmd.Flags().StringVar(&spec.Dest, "dest", "-", "output `file`, or - for stdout")
	cmd.Flags().StringVar(&spec.Format, "format", "", "ndjson or csv (default from --dest)")
	cmd.Flags().BoolVar(&spec.FullRefresh, "full-refresh", false, "always fetch everything (no incremental checkpoint)")
	cmd.Flags().StringVar(&spec.Schedule, "schedule", "", "hourly, daily, weekly or \"every DURATION\"")
	cmd.Flags().BoolVar(&defaults, "default-jobs", false, "create the connector's out-of-the-box jobs for --connection (skips those that exist)")
	jsonexport.AddFlags(cmd, &exp, Fields)
	_ = cmd.RegisterFlagCompletionFunc("connection", complete.ConnectionNames(d))
	_ = cmd.RegisterFlagCompletionFunc("format", complete.Values("ndjson", "csv"))
	return cmd
}

// createDefaults runs `jobs create --default-jobs --connection C`.
func createDefaults(ctx context.Context, d *deps.Deps, c *cobra.Command, args []string, connName string) error {
	if len(args) > 0 {
		return exitcode.UsageError("%s", defaultJobsError("the job name "+args[0]).Error())
	}
	for _, f := range []string{"source", "param", "dest", "format", "full-refresh", "schedule", "output", "jq", "template"} {
		if fl := c.Flags().Lookup(f); fl != nil && fl.Changed {
			return exitcode.UsageError("%s", defaultJobsError("--"+f).Error())
		}
	}
	if connName == "" {
		return exitcode.UsageError("--default-jobs needs --connection <name>")
	}
	cfg, err := d.Config()
	if err != nil {
		return err
	}
	conn, ok := cfg.Find(connName)
	if !ok {
		return connection.NotFound(connName)
	}
	ctr, ok := d.Catalog().Lookup(conn.Connector)
	if !ok {
		return fmt.Errorf("connection %q uses connector %q, which this connctl does not know: upgrade connctl", conn.Name, conn.Connector)
	}
	return CreateDefaultJobs(ctx, d, conn, ctr)
}

func newList(d *deps.Deps) *cobra.Command {
	var connName, search, sortKey string
	var limit int
	var exp jsonexport.Exporter
	cmd := &cobra.Command{
		Use:     "list [--connection C] [--search TEXT] [--sort KEY] [--limit N]",
		Aliases: []string{"ls"},
		Short:   "List jobs: NAME, CONNECTION, SOURCE, DESTINATION, LAST RUN STATUS, LAST RUN, SCHEDULE",
		Long: `List jobs, sorted by name (or by --sort; ties by name). --limit keeps the
first N after sorting, in every output format. When piped: name, connection,
source, dest, last_run_status, last_run_at (RFC 3339 UTC), schedule,
tab-separated.`,
		Example: "  connctl jobs list --connection support",
		Args:    cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			cfg, err := d.Config()
			if err != nil {
				return err
			}
			doc := cfg.Document()
			connID := ""
			if connName != "" {
				cc, ok := cfg.Find(connName)
				if !ok {
					return connection.NotFound(connName)
				}
				connID = cc.ID
			}
			store, err := d.ActivitiesIfAny()
			if err != nil {
				d.IO.Warnf("cannot read the activity log: %v", err)
				store = nil
			}
			views := []View{}
			for i := range doc.Jobs {
				j := &doc.Jobs[i]
				if connID != "" && j.ConnectionID != connID {
					continue
				}
				if search != "" && !strings.Contains(strings.ToLower(j.Name), strings.ToLower(search)) {
					continue
				}
				views = append(views, view(c.Context(), d, doc, j, store))
			}
			if views, err = sortViews(views, sortKey, limit); err != nil {
				return err
			}
			if exp != nil {
				return exp.Write(d.IO.Out, views)
			}
			tty := d.IO.IsStdoutTTY()
			t := tableprint.NewIO(d.IO, "NAME", "CONNECTION", "SOURCE", "DESTINATION", "LAST RUN STATUS", "LAST RUN", "SCHEDULE")
			t.Keep(1, 2)
			t.ColorColumn(4, tableprint.StatusColor)
			for _, v := range views {
				last := ""
				if v.LastRunAt != nil {
					last = v.LastRunAt.UTC().Format(time.RFC3339)
					if tty {
						last = tableprint.RelativeTime(d.Now(), *v.LastRunAt)
					}
				}
				sched := v.Schedule
				if sched == "" && tty {
					sched = "on demand"
				}
				t.Row(v.Name, v.Connection, v.Source, v.Dest, strings.ReplaceAll(v.LastRunStatus, "_", " "), last, sched)
			}
			if len(views) == 0 {
				if tty {
					d.IO.Statusf("No jobs. Define one with `connctl jobs create <name> --connection C --source S`.")
				}
				return nil
			}
			return t.Render()
		},
	}
	cmd.Flags().StringVar(&connName, "connection", "", "only jobs of this connection `name`")
	cmd.Flags().StringVar(&search, "search", "", "only jobs whose name contains `text`")
	cmd.Flags().StringVar(&sortKey, "sort", "name", sortFlagHelp())
	cmd.Flags().IntVar(&limit, "limit", 0, "show at most `N` jobs (0: all)")
	_ = cmd.RegisterFlagCompletionFunc("sort", complete.Values(SortKeys...))
	jsonexport.AddFlags(cmd, &exp, Fields)
	_ = cmd.RegisterFlagCompletionFunc("connection", complete.ConnectionNames(d))
	return cmd
}

func newShow(d *deps.Deps) *cobra.Command {
	var exp jsonexport.Exporter
	cmd := &cobra.Command{
		Use:               "show <name>",
		Short:             "Show a job",
		Example:           "  connctl jobs show tickets -o json",
		Args:              cobra.ExactArgs(1),
		ValidArgsFunction: JobNames(d),
		RunE: func(c *cobra.Command, args []string) error {
			cfg, err := d.Config()
			if err != nil {
				return err
			}
			_, j := cfg.Document().FindJob(args[0])
			if j == nil {
				return jobs.NotFound(args[0])
			}
			store, _ := d.ActivitiesIfAny()
			v := view(c.Context(), d, cfg.Document(), j, store)
			if exp != nil {
				return exp.Write(d.IO.Out, v)
			}
			t := tableprint.NewIO(d.IO, "PROPERTY", "VALUE")
			t.Row("name", v.Name)
			t.Row("id", v.ID)
			t.Row("connection", v.Connection)
			t.Row("source", v.Source)
			for k, p := range v.Params {
				t.Row("params."+k, p)
			}
			t.Row("dest", v.Dest)
			t.Row("format", v.Format)
			t.Row("mode", v.Mode)
			t.Row("schedule", v.Schedule)
			t.Row("last_run_status", v.LastRunStatus)
			if v.LastRunAt != nil {
				t.Row("last_run_at", v.LastRunAt.UTC().Format(time.RFC3339))
			}
			return t.Render()
		},
	}
	jsonexport.AddFlags(cmd, &exp, Fields)
	return cmd
}

func newEdit(d *deps.Deps) *cobra.Command {
	var spec jobs.EditSpec
	var params []string
	var schedule string
	var full, incremental bool
	cmd := &cobra.Command{
		Use:               "edit <name> [--param k=v]... [--dest PATH|-] [--format F] [--schedule S] [--full-refresh|--incremental] [--rename NEW]",
		Short:             "Change a job",
		Example:           "  connctl jobs edit tickets --schedule daily\n  connctl jobs edit tickets --schedule ''   # on demand",
		Args:              cobra.ExactArgs(1),
		ValidArgsFunction: JobNames(d),
		RunE: func(c *cobra.Command, args []string) error {
			for _, p := range params {
				a, err := connection.ParseAssignment(p)
				if err != nil {
					return exitcode.UsageError("--param %q is not key=value", p)
				}
				spec.Params = append(spec.Params, a)
			}
			if c.Flags().Changed("schedule") {
				spec.Schedule = &schedule
			}
			if full || incremental {
				f := full
				spec.FullRefresh = &f
			}
			m, err := Manager(d)
			if err != nil {
				return err
			}
			j, changes, err := m.Edit(c.Context(), args[0], spec)
			if err != nil {
				return err
			}
			if len(changes) == 0 {
				d.IO.Statusf("Job %s unchanged", j.Name)
				return nil
			}
			names := make([]string, len(changes))
			for i, ch := range changes {
				names[i] = ch.Field
			}
			d.IO.Statusf("%sUpdated job %s (%s)", d.IO.Success(), j.Name, strings.Join(names, ", "))
			return nil
		},
	}
	cmd.Flags().StringArrayVar(&params, "param", nil, "set a source parameter `key=value` (empty value removes it)")
	cmd.Flags().StringVar(&spec.Dest, "dest", "", "output `file`, or - for stdout")
	cmd.Flags().StringVar(&spec.Format, "format", "", "ndjson or csv")
	cmd.Flags().StringVar(&schedule, "schedule", "", "hourly, daily, weekly, \"every DURATION\", or empty for on demand")
	cmd.Flags().BoolVar(&full, "full-refresh", false, "always fetch everything")
	cmd.Flags().BoolVar(&incremental, "incremental", false, "fetch only what changed since the last successful run")
	cmd.Flags().StringVar(&spec.Rename, "rename", "", "new `name`")
	cmd.MarkFlagsMutuallyExclusive("full-refresh", "incremental")
	return cmd
}

func newDelete(d *deps.Deps) *cobra.Command {
	var yes bool
	cmd := &cobra.Command{
		Use:     "delete <name>... [--yes]",
		Aliases: []string{"rm"},
		Short:   "Delete jobs (their activities stay)",
		Long: `Delete one or more jobs. Every name is checked before anything is asked or
deleted. On a terminal, delete asks for confirmation; answering no deletes
nothing (exit 1). Otherwise it needs --yes (exit 2 without it).`,
		Example: "  connctl jobs delete tickets --yes\n  connctl jobs delete support-tickets support-agents",
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 {
				return exitcode.UsageError("give the name of the job to delete (see `connctl jobs list`)")
			}
			return nil
		},
		ValidArgsFunction: JobNames(d),
		RunE: func(c *cobra.Command, args []string) error {
			m, err := Manager(d)
			if err != nil {
				return err
			}
			doc := m.Config.Document()
			var names []string
			seen := map[string]bool{}
			for _, a := range args {
				_, j := doc.FindJob(a)
				if j == nil {
					return jobs.NotFound(a)
				}
				if !seen[j.ID] {
					seen[j.ID] = true
					names = append(names, j.Name)
				}
			}
			what := "job " + names[0]
			if len(names) > 1 {
				what = fmt.Sprintf("%d jobs %s", len(names), strings.Join(names, ", "))
			}
			if !yes {
				if !d.IO.CanPrompt() {
					return exitcode.UsageError("not running interactively; pass --yes to delete %s", what)
				}
				ok, err := d.IO.Confirm(fmt.Sprintf("Delete %s?", what))
				if err != nil {
					return err
				}
				if !ok {
					return exitcode.New(exitcode.Failure, "nothing deleted")
				}
			}
			for _, name := range names {
				deleted, err := m.Delete(c.Context(), name)
				if err != nil {
					return err
				}
				if store, err := d.ActivitiesIfAny(); err == nil && store != nil {
					_ = store.DeleteCheckpoint(c.Context(), deleted.ID)
				}
				d.IO.Statusf("%sDeleted job %s", d.IO.Success(), deleted.Name)
			}
			return nil
		},
	}
	cmd.Flags().BoolVarP(&yes, "yes", "y", false, "delete without asking")
	return cmd
}
