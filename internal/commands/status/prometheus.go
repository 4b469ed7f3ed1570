package status

import (
	"bytes"
	"context"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/connctl/connctl/internal/configstore"
	"github.com/connctl/connctl/internal/jsonexport"
)

// FormatPrometheus is `-o prometheus`: the Prometheus text exposition
// format (0.0.4), for node_exporter's textfile collector.
const FormatPrometheus jsonexport.Format = "prometheus"

// states are every state, in the order the state gauge lists them.
var states = []string{StateOK, StateExpiring, StateNeedsReauthorization, StateUnreachable, StateRateLimited, StateMisconfigured}

// writePrometheus writes results as gauges: one per connection and state
// (1 for its state, 0 for the others), the seconds until its earliest
// dated forecast (negative once past), each job's last successful run
// (from the activity log) and when this check ran. It is written by hand,
// without a client library: the format is a few lines of text, and
// connctl gains no runtime dependency for it. The whole text is built
// first and written at once, so nothing half-written reaches stdout.
func writePrometheus(w io.Writer, results []Result, cfg configstore.Definitions, lastSuccess map[string]time.Time, now time.Time) error {
	var b bytes.Buffer
	family := func(name, help string) {
		b.WriteString("# HELP " + name + " " + escapeHelp(help) + "\n# TYPE " + name + " gauge\n")
	}
	sample := func(name string, v float64, labels ...string) {
		b.WriteString(name)
		if len(labels) > 0 {
			b.WriteByte('{')
			for i := 0; i+1 < len(labels); i += 2 {
				if i > 0 {
					b.WriteByte(',')
				}
				b.WriteString(labels[i] + `="` + escapeLabel(labels[i+1]) + `"`)
			}
			b.WriteByte('}')
		}
		b.WriteString(" " + strconv.FormatFloat(v, 'f', -1, 64) + "\n")
	}

	family("connctl_connection_state", "State of each connection from connctl status: 1 for the current state, 0 for the others.")
	for _, r := range results {
		for _, st := range states {
			v := 0.0
			if r.State == st {
				v = 1
			}
			sample("connctl_connection_state", v, "name", r.Name, "connector", r.Connector, "state", st)
		}
	}
	family("connctl_connection_expiry_seconds", "Seconds until the earliest dated expiry forecast of the connection's credentials (negative once past); absent when no rule gives a date.")
	for _, r := range results {
		if r.ExpiresAt != nil {
			sample("connctl_connection_expiry_seconds", r.ExpiresAt.Sub(now).Round(time.Second).Seconds(), "name", r.Name, "connector", r.Connector)
		}
	}
	family("connctl_job_last_success_timestamp_seconds", "Unix time at which the job's last successful run finished, from the activity log; absent when it never succeeded.")
	names := map[string]string{}
	for _, c := range cfg.Connections() {
		names[c.ID] = c.Name
	}
	jobs := slices.Clone(cfg.Document().Jobs)
	slices.SortFunc(jobs, func(a, b configstore.Job) int {
		return strings.Compare(configstore.NameKey(a.Name), configstore.NameKey(b.Name))
	})
	for _, j := range jobs {
		if at, ok := lastSuccess[j.ID]; ok {
			sample("connctl_job_last_success_timestamp_seconds", float64(at.Unix()), "connection", names[j.ConnectionID], "job", j.Name)
		}
	}
	family("connctl_status_checked_timestamp_seconds", "Unix time at which connctl status ran.")
	sample("connctl_status_checked_timestamp_seconds", float64(now.Unix()))
	_, err := w.Write(b.Bytes())
	return err
}

// jobIDs are the IDs of every job, for the last-success query.
func jobIDs(cfg configstore.Definitions) []string {
	var ids []string
	for _, j := range cfg.Document().Jobs {
		ids = append(ids, j.ID)
	}
	return ids
}

// escapeLabel escapes a label value as the exposition format asks:
// backslash, double quote and line feed.
func escapeLabel(s string) string {
	return strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`).Replace(s)
}

// escapeHelp escapes a HELP text: backslash and line feed.
func escapeHelp(s string) string {
	return strings.NewReplacer(`\`, `\\`, "\n", `\n`).Replace(s)
}

// output prints the results: -o prometheus here, the rest by print.
func (opts *Options) output(ctx context.Context, cfg configstore.Definitions, results []Result) error {
	if jsonexport.FormatOf(opts.Export) != FormatPrometheus {
		return opts.print(results)
	}
	var last map[string]time.Time
	if opts.LastSuccess != nil {
		last = opts.LastSuccess(ctx, jobIDs(cfg))
	}
	return writePrometheus(opts.IO.Out, results, cfg, last, opts.Now())
}
