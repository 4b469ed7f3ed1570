package activities

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/connctl/connctl/internal/activitylog"
	"github.com/connctl/connctl/internal/deps"
	"github.com/connctl/connctl/internal/exitcode"
	"github.com/connctl/connctl/internal/jsonexport"
	"github.com/connctl/connctl/internal/tableprint"
)

// resolve turns what the user gave for --connection or --job into the ids
// the log filters on: a current connection or job by name, an id as it is
// (conn_…, job_…), or a name the log recorded (a deleted or renamed
// connection or job; a name used by several over time gives them all). An
// unknown name is a usage error with the closest known name.
func resolve(ctx context.Context, d *deps.Deps, store activitylog.Reader, sub activitylog.Subject, given string) ([]string, error) {
	cfg, err := d.Config()
	if err != nil {
		return nil, err
	}
	prefix := "conn_"
	var current []string
	if sub == activitylog.SubjectConnection {
		if c, ok := cfg.Find(given); ok {
			return []string{c.ID}, nil
		}
		for _, c := range cfg.Document().Connections {
			current = append(current, c.Name)
		}
	} else {
		prefix = "job_"
		if _, j := cfg.Document().FindJob(given); j != nil {
			return []string{j.ID}, nil
		}
		for _, j := range cfg.Document().Jobs {
			current = append(current, j.Name)
		}
	}
	if strings.HasPrefix(given, prefix) {
		return []string{given}, nil
	}
	var logged []string
	if store != nil {
		ids, err := store.IDsNamed(ctx, sub, given)
		if err != nil {
			return nil, err
		}
		if len(ids) > 0 {
			return ids, nil
		}
		if logged, err = store.Names(ctx, sub); err != nil {
			return nil, err
		}
	}
	err = exitcode.UsageError("%s %q not found (neither now nor in the activity log)", sub, given)
	if s := closest(given, append(current, logged...)); s != "" {
		return nil, exitcode.WithHint(err, fmt.Sprintf("did you mean %s?", s))
	}
	if sub == activitylog.SubjectJob {
		return nil, exitcode.WithHint(err, "list jobs with `connctl jobs list`")
	}
	return nil, exitcode.WithHint(err, "list connections with `connctl list`")
}

// closest returns the name nearest to typed: the same ignoring case, a
// prefix of at least 3 characters, or at most 2 edits away.
func closest(typed string, names []string) string {
	t := strings.ToLower(typed)
	sort.Strings(names)
	best, bestDist := "", 3
	for _, n := range names {
		l := strings.ToLower(n)
		if l == t || (len(t) >= 3 && strings.HasPrefix(l, t)) {
			return n
		}
		if dist := editDistance(t, l); dist < bestDist {
			best, bestDist = n, dist
		}
	}
	return best
}

func editDistance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(rb)]
}

// ShowFields are the JSON fields of `activities show` (the whole record).
var ShowFields = append(append([]string{}, Fields...), "pid", "host")

func newShow(d *deps.Deps) *cobra.Command {
	var exp jsonexport.Exporter
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
			id, err := strconv.ParseInt(strings.TrimPrefix(args[0], "#"), 10, 64)
			if err != nil || id <= 0 {
				return exitcode.UsageError("activity ID %q is not a number: use the ID column of `connctl activities`", args[0])
			}
			store, err := d.ActivitiesIfAny()
			if err != nil {
				return err
			}
			var a activitylog.Activity
			if store != nil {
				a, err = store.Get(c.Context(), id)
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
			if exp != nil {
				return exp.Write(d.IO.Out, a)
			}
			return printActivity(d, a)
		},
	}
	jsonexport.AddFlags(cmd, &exp, ShowFields)
	return cmd
}

func printActivity(d *deps.Deps, a activitylog.Activity) error {
	tty := d.IO.IsStdoutTTY()
	ts := func(t time.Time) string {
		if tty {
			return fmt.Sprintf("%s (%s)", t.Local().Format("2006-01-02 15:04:05"), tableprint.RelativeTime(d.Now(), t))
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
	t := tableprint.NewIO(d.IO, "PROPERTY", "VALUE")
	for _, r := range rows {
		if !tty || r[1] != "" {
			t.Row(r[0], r[1])
		}
	}
	return t.Render()
}
