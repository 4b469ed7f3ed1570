// Package list implements `connctl activities`: the activities, newest
// first.
package list

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/connctl/connctl/internal/activitylog"
	"github.com/connctl/connctl/internal/commands/complete"
	"github.com/connctl/connctl/internal/configstore"
	"github.com/connctl/connctl/internal/deps"
	"github.com/connctl/connctl/internal/exitcode"
	"github.com/connctl/connctl/internal/iostreams"
	"github.com/connctl/connctl/internal/jsonexport"
	"github.com/connctl/connctl/internal/tableprint"
)

// Fields are the JSON fields of an activity.
var Fields = []string{"id", "type", "action", "connection_id", "connection_name", "job_id", "job_name", "status", "reason",
	"message", "who", "started_at", "finished_at", "records", "bytes", "pages", "retries", "without_cursor", "changes"}

// Options are the inputs of activities.
type Options struct {
	IO         *iostreams.IOStreams
	Config     func() (configstore.Config, error)
	Activities func() (activitylog.Log, error) // nil store: no log yet
	Now        func() time.Time

	Connection string
	Job        string
	Type       string
	Status     string
	Failed     bool
	Since      string
	Limit      int
	Export     jsonexport.Exporter
}

// NewCmd returns `connctl activities`.
func NewCmd(d *deps.Deps, runF func(context.Context, *Options) error) *cobra.Command {
	opts := &Options{IO: d.IO, Config: d.Config, Activities: d.ActivitiesIfAny, Now: d.Now}
	if runF == nil {
		runF = run
	}
	cmd := &cobra.Command{
		Use:     "activities [--connection C] [--type execution|update] [--failed] [--since 24h|TIME] [--limit N]",
		Aliases: []string{"activity"},
		Short:   "List activities: job runs and changes to connections, newest first",
		Long: `List activities, newest first: every job run (execution) and every change to a
connection or job (update: who, what, old and new values; secrets never).

--connection and --job take a name or an id, of a connection or job that
exists or of one the log remembers (deleted or renamed: the name it had).
` + "`connctl activities show ID`" + ` prints one activity whole.

--since takes a duration back from now (24h, 90m, 7d) or a time (RFC 3339 or
YYYY-MM-DD). --failed keeps failed and stale runs and failed changes: the
activities behind the FAILED 24H column of ` + "`connctl list`" + `.

When piped: id, started_at (RFC 3339 UTC), type, action, connection, job,
status, reason, message, tab-separated.`,
		Example: `  connctl activities --connection support
  connctl activities --job tickets --failed
  connctl activities --connection old-support     # a deleted connection, by its name
  connctl activities show 47
  connctl activities --failed --since 24h
  connctl activities --type update -o json
  connctl activities prune --older-than 90d`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			switch opts.Type {
			case "", "execution", "update":
			default:
				return exitcode.UsageError("--type %q: choose execution or update", opts.Type)
			}
			if opts.Limit < 0 {
				return exitcode.UsageError("--limit must be 0 or more")
			}
			return runF(c.Context(), opts)
		},
	}
	cmd.Flags().StringVar(&opts.Connection, "connection", "", "only activities of this connection (`name` or id; deleted ones too)")
	cmd.Flags().StringVar(&opts.Job, "job", "", "only activities of this job (`name` or id; deleted ones too)")
	cmd.Flags().StringVar(&opts.Type, "type", "", "only this `type`: execution or update")
	cmd.Flags().StringVar(&opts.Status, "status", "", "only this `status`: running, succeeded, partially_succeeded, failed, cancelled, stale")
	cmd.Flags().BoolVar(&opts.Failed, "failed", false, "only failed activities (failed and stale)")
	cmd.Flags().StringVar(&opts.Since, "since", "", "only activities started after this: a `duration` back (24h, 7d) or a time")
	cmd.Flags().IntVar(&opts.Limit, "limit", 50, "at most `N` activities (0: all)")
	jsonexport.AddFlags(cmd, &opts.Export, Fields)
	_ = cmd.RegisterFlagCompletionFunc("connection", complete.ConnectionNames(d))
	_ = cmd.RegisterFlagCompletionFunc("type", complete.Values("execution", "update"))
	_ = cmd.RegisterFlagCompletionFunc("status", complete.Values("running", "succeeded", "partially_succeeded", "failed", "cancelled", "stale"))
	_ = cmd.RegisterFlagCompletionFunc("job", complete.JobNames(d))
	return cmd
}

// ParseSince reads a duration back from now (with d for days) or a time.
func ParseSince(s string, now time.Time) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	if d, err := ParseAge(s); err == nil {
		return now.Add(-d), nil
	}
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04", "2006-01-02"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t, nil
		}
	}
	return time.Time{}, exitcode.UsageError("--since %q is neither a duration (24h, 7d) nor a time (2026-11-26 or RFC 3339)", s)
}

// ParseAge reads a duration, with d for days (90d, 720h).
func ParseAge(s string) (time.Duration, error) {
	if n, ok := strings.CutSuffix(s, "d"); ok {
		days, err := strconv.Atoi(n)
		if err != nil || days < 0 {
			return 0, fmt.Errorf("bad days")
		}
		return time.Duration(days) * 24 * time.Hour, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d < 0 {
		return 0, fmt.Errorf("bad duration")
	}
	return d, nil
}

func run(ctx context.Context, opts *Options) error {
	f := activitylog.Filter{JobID: opts.Job, FailedOnly: opts.Failed, Limit: opts.Limit, Type: activitylog.Type(opts.Type), Status: activitylog.Status(opts.Status)}
	var err error
	if f.Since, err = ParseSince(opts.Since, opts.Now()); err != nil {
		return err
	}
	store, err := opts.Activities()
	if err != nil {
		return err
	}
	// Names or ids, of current connections and jobs or of those the log
	// remembers (deleted, renamed).
	if opts.Connection != "" {
		if f.ConnectionIDs, err = resolve(ctx, opts, store, activitylog.SubjectConnection, opts.Connection); err != nil {
			return err
		}
	}
	if opts.Job != "" {
		f.JobID = ""
		if f.JobIDs, err = resolve(ctx, opts, store, activitylog.SubjectJob, opts.Job); err != nil {
			return err
		}
	}
	list := []activitylog.Activity{}
	if store != nil {
		if list, err = store.List(ctx, f); err != nil {
			return exitcode.UsageError("%s", err.Error())
		}
	}
	if opts.Export != nil {
		return jsonexport.WriteList(opts.Export, opts.IO.Out, list)
	}
	tty := opts.IO.IsStdoutTTY()
	t := tableprint.NewIO(opts.IO, "ID", "STARTED", "TYPE", "ACTION", "CONNECTION", "JOB", "STATUS", "REASON", "MESSAGE")
	t.Keep(4, 5)
	t.ColorColumn(6, tableprint.StatusColor)
	for _, a := range list {
		started := a.StartedAt.UTC().Format(time.RFC3339)
		if tty {
			started = tableprint.RelativeTime(opts.Now(), a.StartedAt)
		}
		msg := a.Message
		if msg == "" && len(a.Changes) > 0 {
			msg = describeChanges(a.Changes)
		}
		t.Row(strconv.FormatInt(a.ID, 10), started, string(a.Type), a.Action, a.ConnectionName, a.JobName, string(a.Status), string(a.Reason), msg)
	}
	if len(list) == 0 && tty {
		opts.IO.Statusf("No activities match.")
		return nil
	}
	return t.Render()
}

func describeChanges(chs []activitylog.Change) string {
	parts := make([]string, 0, len(chs))
	for _, c := range chs {
		switch {
		case c.Secret:
			parts = append(parts, c.Field+" (secret)")
		case c.Old == "" && c.New != "":
			parts = append(parts, c.Field+"="+c.New)
		case c.Old != "" || c.New != "":
			parts = append(parts, c.Field+": "+c.Old+" → "+c.New)
		default:
			parts = append(parts, c.Field)
		}
	}
	return strings.Join(parts, ", ")
}
