// Package list implements `connctl jobs list` (and `connctl jobs` alone).
package list

import (
	"context"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/connctl/connctl/internal/commands/complete"
	"github.com/connctl/connctl/internal/commands/jobs/jobview"
	"github.com/connctl/connctl/internal/connection"
	"github.com/connctl/connctl/internal/deps"
	"github.com/connctl/connctl/internal/iostreams"
	"github.com/connctl/connctl/internal/jsonexport"
	"github.com/connctl/connctl/internal/tableprint"
)

// Options are the inputs of jobs list.
type Options struct {
	IO     *iostreams.IOStreams
	Config func() (jobview.Definitions, error)
	// Activities opens the activity log if it exists (nil when none).
	Activities func() (jobview.Runs, error)
	Now        func() time.Time

	Connection string
	Search     string
	Sort       string
	Limit      int
	Export     jsonexport.Exporter
}

// NewCmd returns `connctl jobs list`.
func NewCmd(d *deps.Deps, runF func(context.Context, *Options) error) *cobra.Command {
	opts := &Options{IO: d.IO, Config: jobview.Config(d), Activities: jobview.Activities(d), Now: d.Now}
	if runF == nil {
		runF = run
	}
	cmd := &cobra.Command{
		Use:     "list [--connection C] [--search TEXT] [--sort KEY] [--limit N]",
		Aliases: []string{"ls"},
		Short:   "List jobs: NAME, CONNECTION, SOURCE, DESTINATION, LAST RUN STATUS, LAST RUN, SCHEDULE",
		Long: `List jobs, sorted by name (or by --sort; ties by name). --limit keeps the
first N after sorting, in every output format. When piped: name, connection,
source, dest, last_run_status, last_run_at (RFC 3339 UTC), schedule,
tab-separated. A job paused after repeated failed runs has "(paused)" after
its schedule (` + "`connctl jobs resume NAME`" + ` resumes it).`,
		Example: "  connctl jobs list --connection support",
		Args:    cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			return runF(c.Context(), opts)
		},
	}
	cmd.Flags().StringVar(&opts.Connection, "connection", "", "only jobs of this connection `name`")
	cmd.Flags().StringVar(&opts.Search, "search", "", "only jobs whose name contains `text`")
	cmd.Flags().StringVar(&opts.Sort, "sort", "name", sortFlagHelp())
	cmd.Flags().IntVar(&opts.Limit, "limit", 0, "show at most `N` jobs (0: all)")
	_ = cmd.RegisterFlagCompletionFunc("sort", complete.Values(SortKeys...))
	jsonexport.AddFlags(cmd, &opts.Export, jobview.Fields)
	_ = cmd.RegisterFlagCompletionFunc("connection", complete.ConnectionNames(d))
	return cmd
}

func run(ctx context.Context, opts *Options) error {
	cfg, err := opts.Config()
	if err != nil {
		return err
	}
	doc := cfg.Document()
	connID := ""
	if opts.Connection != "" {
		cc, ok := cfg.Find(opts.Connection)
		if !ok {
			return connection.NotFound(opts.Connection)
		}
		connID = cc.ID
	}
	store, err := opts.Activities()
	if err != nil {
		opts.IO.Warnf("cannot read the activity log: %v", err)
		store = nil
	}
	views := []jobview.View{}
	for i := range doc.Jobs {
		j := &doc.Jobs[i]
		if connID != "" && j.ConnectionID != connID {
			continue
		}
		if opts.Search != "" && !strings.Contains(strings.ToLower(j.Name), strings.ToLower(opts.Search)) {
			continue
		}
		views = append(views, jobview.From(ctx, doc, j, store))
	}
	if views, err = sortViews(views, opts.Sort, opts.Limit); err != nil {
		return err
	}
	if opts.Export != nil {
		for i := range views {
			views[i].ReadCheckpoint(ctx, store)
		}
		return jsonexport.WriteList(opts.Export, opts.IO.Out, views)
	}
	tty := opts.IO.IsStdoutTTY()
	t := tableprint.NewIO(opts.IO, "NAME", "CONNECTION", "SOURCE", "DESTINATION", "LAST RUN STATUS", "LAST RUN", "SCHEDULE")
	t.Keep(1, 2)
	t.ColorColumn(4, tableprint.StatusColor)
	for _, v := range views {
		last := ""
		if v.LastRunAt != nil {
			last = v.LastRunAt.UTC().Format(time.RFC3339)
			if tty {
				last = tableprint.RelativeTime(opts.Now(), *v.LastRunAt)
			}
		}
		sched := v.Schedule
		if sched == "" && tty {
			sched = "on demand"
		}
		if v.PausedAt != nil {
			sched += " (paused)"
		}
		t.Row(v.Name, v.Connection, v.Source, v.Dest, strings.ReplaceAll(v.LastRunStatus, "_", " "), last, sched)
	}
	if len(views) == 0 {
		if tty {
			opts.IO.Statusf("No jobs. Define one with `connctl jobs create <name> --connection C --source S`.")
		}
		return nil
	}
	return t.Render()
}
