// Package show implements `connctl activities show`.
package show

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/connctl/connctl/internal/activitylog"
	"github.com/connctl/connctl/internal/commands/activities/list"
	"github.com/connctl/connctl/internal/deps"
	"github.com/connctl/connctl/internal/exitcode"
	"github.com/connctl/connctl/internal/iostreams"
	"github.com/connctl/connctl/internal/jsonexport"
	"github.com/connctl/connctl/internal/tableprint"
)

// Fields are the JSON fields of `activities show` (the whole record).
var Fields = append(append([]string{}, list.Fields...), "pid", "host")

// Options are the inputs of activities show.
type Options struct {
	IO         *iostreams.IOStreams
	Activities func() (activitylog.Log, error) // nil store: no log yet
	Now        func() time.Time

	ID     string
	Export jsonexport.Exporter
}

// NewCmd returns `connctl activities show`.
func NewCmd(d *deps.Deps, runF func(context.Context, *Options) error) *cobra.Command {
	opts := &Options{IO: d.IO, Activities: d.ActivitiesIfAny, Now: d.Now}
	if runF == nil {
		runF = run
	}
	cmd := &cobra.Command{
		Use:   "show <id>",
		Short: "Show one activity: every field, and each change with its old and new value",
		Long: `Show one activity, by the ID that ` + "`connctl activities`" + ` lists: type, action,
connection and job (with their ids), status, reason, the whole message, who,
start and finish, the counts of a run, and for an update each changed field
with its old and new value (a secret shows only its name).

On a terminal: a PROPERTY/VALUE table; piped: field<TAB>value lines.`,
		Example: `  connctl activities show 47
  connctl activities show 47 -o json`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) != 1 {
				return exitcode.UsageError("give one activity ID (the ID column of `connctl activities`)")
			}
			return nil
		},
		RunE: func(c *cobra.Command, args []string) error {
			opts.ID = args[0]
			return runF(c.Context(), opts)
		},
	}
	jsonexport.AddFlags(cmd, &opts.Export, Fields)
	return cmd
}

func run(ctx context.Context, opts *Options) error {
	id, err := strconv.ParseInt(strings.TrimPrefix(opts.ID, "#"), 10, 64)
	if err != nil || id <= 0 {
		return exitcode.UsageError("activity ID %q is not a number: use the ID column of `connctl activities`", opts.ID)
	}
	store, err := opts.Activities()
	if err != nil {
		return err
	}
	var a activitylog.Activity
	if store != nil {
		a, err = store.Get(ctx, id)
	}
	if store == nil || errors.Is(err, activitylog.ErrNoActivity) {
		return exitcode.WithHint(exitcode.UsageError("activity %d not found", id), "list activities with `connctl activities`")
	}
	if err != nil {
		return err
	}
	if a.Changes == nil {
		a.Changes = []activitylog.Change{}
	}
	if opts.Export != nil {
		return opts.Export.Write(opts.IO.Out, a)
	}
	return printActivity(opts, a)
}

func printActivity(opts *Options, a activitylog.Activity) error {
	tty := opts.IO.IsStdoutTTY()
	ts := func(t time.Time) string {
		if tty {
			return fmt.Sprintf("%s (%s)", t.Local().Format("2006-01-02 15:04:05"), tableprint.RelativeTime(opts.Now(), t))
		}
		return t.UTC().Format(time.RFC3339)
	}
	named := func(name, id string) string {
		switch {
		case name == "":
			return id
		case id == "":
			return name
		}
		return name + " (" + id + ")"
	}
	rows := [][2]string{
		{"id", strconv.FormatInt(a.ID, 10)},
		{"type", string(a.Type)},
		{"action", a.Action},
		{"connection", named(a.ConnectionName, a.ConnectionID)},
		{"job", named(a.JobName, a.JobID)},
		{"status", string(a.Status)},
		{"reason", string(a.Reason)},
		{"message", a.Message},
		{"who", a.Who},
		{"started_at", ts(a.StartedAt)},
	}
	if a.FinishedAt != nil {
		rows = append(rows, [2]string{"finished_at", ts(*a.FinishedAt)},
			[2]string{"duration", a.FinishedAt.Sub(a.StartedAt).Round(time.Millisecond).String()})
	}
	if a.Type == activitylog.TypeExecution {
		rows = append(rows, [2]string{"records", strconv.FormatInt(a.Records, 10)}, [2]string{"pages", strconv.FormatInt(a.Pages, 10)},
			[2]string{"bytes", strconv.FormatInt(a.Bytes, 10)}, [2]string{"retries", strconv.FormatInt(a.Retries, 10)})
		if a.Host != "" {
			rows = append(rows, [2]string{"process", fmt.Sprintf("%d on %s", a.PID, a.Host)})
		}
	}
	for _, ch := range a.Changes {
		v := ch.Old + " → " + ch.New
		switch {
		case ch.Secret:
			v = "(secret changed)"
		case ch.Old == "":
			v = ch.New
		}
		rows = append(rows, [2]string{"changes." + ch.Field, v})
	}
	t := tableprint.NewIO(opts.IO, "PROPERTY", "VALUE")
	for _, r := range rows {
		if !tty || r[1] != "" {
			t.Row(r[0], r[1])
		}
	}
	return t.Render()
}
