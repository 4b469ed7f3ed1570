package jobs

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/connctl/connctl/internal/activitylog"
	"github.com/connctl/connctl/internal/authorization"
	"github.com/connctl/connctl/internal/configstore"
	"github.com/connctl/connctl/internal/connection"
	"github.com/connctl/connctl/internal/connector/all"
	"github.com/connctl/connctl/internal/deps"
	"github.com/connctl/connctl/internal/exitcode"
	"github.com/connctl/connctl/internal/jobrunner"
	"github.com/connctl/connctl/internal/jobs"
	"github.com/connctl/connctl/internal/secretstore"
)

func newRun(d *deps.Deps) *cobra.Command {
	var due, full bool
	var timeout time.Duration
	cmd := &cobra.Command{
		Use:   "run <name>... | --due",
		Short: "Run jobs now (or the scheduled ones that are due)",
		Long: `Run jobs. Each run pages through the source as the vendor documents, retries
429 and 5xx with backoff (honouring Retry-After), streams the records to the
destination (a file is written atomically: temp file, then rename), and saves
the incremental checkpoint only after the output is durable, so a failed run
loses nothing and the next run resumes. Each run replaces the destination
file with what that run fetched: an incremental run writes only the records
changed since the last successful run (the one at the checkpoint instant may
come again: deduplicate on the source's primary key). Every run is an
execution activity.

--due runs the jobs whose schedule is due (for cron or a systemd timer).
On a terminal a progress line is shown on stderr; when piped, stderr carries
only errors. Ctrl-C stops cleanly: partial output discarded, checkpoint
unchanged, activity cancelled, exit 130.

A source may stop early on purpose, keeping what it fetched: Mixpanel's
export allows 60 queries an hour, so a long backfill stops when the hour's
queries are spent. The output and checkpoint are saved, the activity is
partially_succeeded, the exit code is 3, and the next run resumes.

Each run has a time limit, --timeout or the jobs.timeout setting (default
6h; 0 means none), so that a server that never stops handing out next
pages cannot keep a cron job running for ever. A run that reaches it stops
and fails like any other failure: no output file written, the checkpoint
unchanged, the activity failed with reason timeout, exit 1. With several
jobs (or --due) the limit applies to each run. Within a run, a server that
sends no response headers, or no byte of a body, for 60s fails the run too.

Exit codes: 0 all succeeded, 1 failed, 3 some of several jobs failed or a
job stopped early (partial), 4 authorization needed.`,
		Example: `  connctl jobs run tickets
  connctl jobs run tickets --full-refresh
  connctl jobs run --due          # from cron: */15 * * * * connctl jobs run --due
  connctl jobs run backfill --full-refresh --timeout 24h
  connctl config set jobs.timeout 2h   # the limit for every run without --timeout`,
		ValidArgsFunction: JobNames(d),
		RunE: func(c *cobra.Command, args []string) error {
			if due == (len(args) > 0) {
				return exitcode.UsageError("give job names or --due (not both)")
			}
			cfg, err := d.Config()
			if err != nil {
				return err
			}
			limit := runLimit{d: timeout, source: "--timeout"}
			if !c.Flags().Changed("timeout") {
				if limit, err = settingLimit(cfg); err != nil {
					return err
				}
			} else if timeout < 0 {
				return exitcode.UsageError("--timeout %s is negative; give a duration such as 30m or 6h (0: no limit)", timeout)
			}
			store, err := d.Activities()
			if err != nil {
				return err
			}
			var names []string
			if due {
				if names, err = dueJobs(c.Context(), d, cfg.Document(), store); err != nil {
					return err
				}
				if len(names) == 0 {
					d.IO.Statusf("No job is due.")
					return nil
				}
			} else {
				for _, n := range args {
					if _, j := cfg.Document().FindJob(n); j == nil {
						return jobs.NotFound(n)
					}
				}
				names = args
			}
			failed, authNeeded := 0, false
			var last error
			for _, n := range names {
				err := runOne(c.Context(), d, store, n, full, limit)
				if err != nil {
					if c.Context().Err() != nil {
						return err
					}
					failed++
					last = err
					if exitcode.FromError(err) == exitcode.AuthNeeded {
						authNeeded = true
					}
					if len(names) > 1 {
						fmt.Fprintf(d.IO.ErrOut, "error: %s: %s\n", n, err.Error())
						for _, h := range exitcode.Hints(err) {
							fmt.Fprintf(d.IO.ErrOut, "hint: %s\n", h)
						}
					}
				}
			}
			switch {
			case failed == 0:
				return nil
			case len(names) == 1:
				return last
			case failed < len(names):
				return exitcode.WithCode(exitcode.Partial, fmt.Errorf("%d of %d jobs failed", failed, len(names)))
			case authNeeded:
				return exitcode.WithCode(exitcode.AuthNeeded, fmt.Errorf("all %d jobs failed", failed))
			default:
				return exitcode.New(exitcode.Failure, "all %d jobs failed", failed)
			}
		},
	}
	cmd.Flags().BoolVar(&due, "due", false, "run the scheduled jobs that are due")
	cmd.Flags().BoolVar(&full, "full-refresh", false, "fetch everything this time, ignoring the checkpoint")
	cmd.Flags().DurationVar(&timeout, "timeout", 0, "stop and fail a run that takes longer than this (0: no limit; default: the jobs.timeout setting, 6h)")
	return cmd
}

// dueJobs lists scheduled jobs whose last run started an interval ago or more.
func dueJobs(ctx context.Context, d *deps.Deps, doc *configstore.Document, store activitylog.Reader) ([]string, error) {
	var out []string
	for _, j := range doc.Jobs {
		every, err := jobs.Interval(j.Schedule)
		if err != nil || every == 0 {
			continue
		}
		runs, err := store.List(ctx, activitylog.Filter{JobID: j.ID, Type: activitylog.TypeExecution, Limit: 1})
		if err != nil {
			return nil, err
		}
		if len(runs) == 0 || !runs[0].StartedAt.Add(every).After(d.Now()) {
			out = append(out, j.Name)
		}
	}
	return out, nil
}

// runLimit is how long one run may take (0: no limit) and where that came
// from, for the message when a run reaches it.
type runLimit struct {
	d      time.Duration
	source string // "--timeout" or "jobs.timeout"
}

// errRunTimeout is the cause of a run's context when the run reached its
// limit, telling it apart from Ctrl-C.
var errRunTimeout = errors.New("the run reached its time limit")

// settingLimit reads jobs.timeout (from the file or CONNCTL_JOBS_TIMEOUT).
func settingLimit(cfg configstore.Config) (runLimit, error) {
	v := strings.TrimSpace(cfg.String("jobs.timeout"))
	if v == "" {
		v = "6h"
	}
	if v == "0" {
		return runLimit{source: "jobs.timeout"}, nil
	}
	dur, err := time.ParseDuration(v)
	if err != nil || dur < 0 {
		return runLimit{}, exitcode.UsageError("the setting jobs.timeout is %q, not a duration such as 30m or 6h (0: no limit); fix it with `connctl config set jobs.timeout 6h`", v)
	}
	return runLimit{d: dur, source: "jobs.timeout"}, nil
}

// timedOut is the error of a run stopped at its limit: one line saying
// what happened and what was kept, and a hint to raise the limit.
func timedOut(job *configstore.Job, limit runLimit) error {
	kept := "nothing was saved (no output written, checkpoint unchanged)"
	if job.Dest == "-" {
		kept = "the checkpoint is unchanged (records already written to stdout are incomplete)"
	}
	return exitcode.WithHint(exitcode.New(exitcode.Failure, "job %q: the run took longer than %s %s and was stopped; %s", job.Name, limit.source, limit.d, kept),
		"if the job is just big, raise the limit: --timeout 24h, or `connctl config set jobs.timeout 24h` for every run (0: no limit)")
}

// runOne runs one job, recording it as an execution activity. The run
// stops with an error when it takes longer than limit.
func runOne(ctx context.Context, d *deps.Deps, store activitylog.Log, name string, fullRefresh bool, limit runLimit) error {
	cfg, err := d.Config()
	if err != nil {
		return err
	}
	_, j := cfg.Document().FindJob(name)
	if j == nil {
		return jobs.NotFound(name)
	}
	job := *j
	conn := cfg.Document().ConnectionByID(job.ConnectionID)
	if conn == nil {
		return exitcode.New(exitcode.Failure, "job %q refers to a connection that no longer exists", job.Name)
	}
	act := activitylog.Activity{Type: activitylog.TypeExecution, Action: activitylog.ActionRun, JobID: job.ID, JobName: job.Name,
		ConnectionID: conn.ID, ConnectionName: conn.Name, Status: activitylog.StatusRunning, Who: d.Who(), StartedAt: d.Now()}
	id, err := store.BeginRun(ctx, act)
	if err != nil {
		var re *activitylog.RunningError
		if errors.As(err, &re) {
			return exitcode.New(exitcode.Failure, "job %q is already running (activity %d, pid %d, started %s)", job.Name, re.ID, re.PID, re.StartedAt.Local().Format("15:04:05"))
		}
		return err
	}
	if limit.d > 0 {
		// Only the run is bounded; the activity is already begun above
		// with the caller's context, and finish uses WithoutCancel.
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeoutCause(ctx, limit.d, errRunTimeout)
		defer cancel()
	}
	stats := &jobrunner.Stats{}
	finish := func(st activitylog.Status, reason activitylog.Reason, msg string) {
		c := activitylog.Counts{Records: stats.Records.Load(), Bytes: stats.Bytes.Load(), Pages: stats.Pages.Load(), Retries: stats.Retries.Load(), WithoutCursor: stats.WithoutCursor.Load()}
		if err := store.Finish(context.WithoutCancel(ctx), id, st, reason, msg, c); err != nil {
			d.IO.Warnf("the run was not recorded in the activity log: %v", err)
		}
	}
	req, src, err := prepare(ctx, d, cfg, &job, conn)
	if err != nil {
		finish(activitylog.StatusFailed, reasonOf(err), err.Error())
		return err
	}
	if job.Mode == jobs.ModeIncremental && !fullRefresh {
		if cp, ok, err := store.Checkpoint(ctx, job.ID); err == nil && ok {
			req.Since = cp
		}
	}
	sleep := jobrunner.Sleep
	if d.Sleep != nil {
		sleep = d.Sleep
	}
	req.HTTP = jobrunner.NewHTTP(d.HTTP(), sleep, stats, nil)
	var dst jobrunner.Destination
	if job.Dest == "-" {
		dst = jobrunner.NewStreamDestination(d.IO.Out, job.Format, nil)
	} else if dst, err = jobrunner.NewFileDestination(job.Dest, job.Format, nil); err != nil {
		finish(activitylog.StatusFailed, activitylog.ReasonDestination, err.Error())
		return exitcode.New(exitcode.Failure, "job %q: %v", job.Name, err)
	}
	start := time.Now()
	var progress func(*jobrunner.Stats)
	if d.IO.IsStderrTTY() {
		progress = func(s *jobrunner.Stats) {
			el := time.Since(start)
			rate := float64(s.Records.Load()) / max(el.Seconds(), 0.001)
			wait := ""
			if until := s.WaitUntil.Load(); until != 0 {
				// The server asked to slow down (or failed): say how
				// long the silence will last, and until when.
				at := time.Unix(0, until)
				wait = fmt.Sprintf(", waiting %s to retry (until %s)", time.Until(at).Round(time.Second), at.Format("15:04:05"))
			}
			fmt.Fprintf(d.IO.ErrOut, "\r\x1b[K%s: %d records, %d pages, %.0f/s, %s%s", job.Name, s.Records.Load(), s.Pages.Load(), rate, el.Round(100*time.Millisecond), wait)
		}
	}
	checkpoint, err := jobrunner.Run(ctx, src, req, dst, progress)
	if progress != nil {
		fmt.Fprint(d.IO.ErrOut, "\r\x1b[K")
	}
	// A source that stopped early on purpose kept its output: save the
	// checkpoint as for a success, then say it is partial.
	var partial *jobrunner.Partial
	if errors.As(err, &partial) {
		err = nil
	}
	if err != nil {
		if errors.Is(context.Cause(ctx), errRunTimeout) {
			terr := timedOut(&job, limit)
			finish(activitylog.StatusFailed, activitylog.ReasonTimeout, terr.Error())
			return terr
		}
		if ctx.Err() != nil {
			finish(activitylog.StatusCancelled, "", "interrupted")
			return ctx.Err()
		}
		finish(activitylog.StatusFailed, reasonOf(err), err.Error())
		var f *jobrunner.Failure
		if errors.As(err, &f) && f.Reason == jobrunner.ReasonAuth {
			return exitcode.WithHint(exitcode.New(exitcode.AuthNeeded, "job %q: %s", job.Name, f.Message),
				fmt.Sprintf("check the connection with `connctl test %s`, then `connctl reauthorize %s`", connection.QuoteArg(conn.Name), connection.QuoteArg(conn.Name)))
		}
		return exitcode.New(exitcode.Failure, "job %q: %s", job.Name, err.Error())
	}
	// The output is durable: only now does the checkpoint move.
	if job.Mode == jobs.ModeIncremental && checkpoint != "" {
		if err := store.SetCheckpoint(context.WithoutCancel(ctx), job.ID, checkpoint); err != nil {
			d.IO.Warnf("the checkpoint was not saved (the next run fetches these records again): %v", err)
		}
	}
	if partial != nil {
		finish(activitylog.StatusPartiallySucceeded, activitylog.Reason(partial.Reason), partial.Message)
		d.IO.Warnf("%s: %s in %s kept; the run stopped early", job.Name, plural(stats.Records.Load(), "record"), plural(stats.Pages.Load(), "page"))
		return exitcode.WithHint(exitcode.New(exitcode.Partial, "job %q: %s", job.Name, partial.Message),
			fmt.Sprintf("run `connctl jobs run %s` again later to fetch the rest", connection.QuoteArg(job.Name)))
	}
	finish(activitylog.StatusSucceeded, "", "")
	if n := stats.WithoutCursor.Load(); n > 0 {
		d.IO.Warnf("%s: %s had no incremental field; they were written but did not move the checkpoint", job.Name, plural(n, "record"))
	}
	where := job.Dest
	if where == "-" {
		where = "stdout"
	}
	d.IO.Statusf("%s%s: %s in %s (%s) → %s", d.IO.Success(), job.Name, plural(stats.Records.Load(), "record"), plural(stats.Pages.Load(), "page"),
		time.Since(start).Round(10*time.Millisecond), where)
	return nil
}

// prepare resolves the source and the connection's fields and credentials.
func prepare(ctx context.Context, d *deps.Deps, cfg configstore.Config, job *configstore.Job, conn *configstore.Connection) (jobrunner.Request, jobrunner.Source, error) {
	if err := authorization.Usable(conn); err != nil {
		return jobrunner.Request{}, nil, err
	}
	mgr, err := d.Connections()
	if err != nil {
		return jobrunner.Request{}, nil, err
	}
	ctr, m, err := mgr.Lookup(conn)
	if err != nil {
		return jobrunner.Request{}, nil, err
	}
	src, ok := all.JobSource(ctr.ID, job.Source)
	if !ok {
		return jobrunner.Request{}, nil, exitcode.New(exitcode.Failure, "connctl cannot run %s %s jobs yet", ctr.ID, job.Source)
	}
	req := jobrunner.Request{Fields: connection.Effective(ctr, m, conn.Fields), Secrets: map[string]string{}, Params: job.Params}
	if m.OAuth != nil {
		svc, err := d.Authz()
		if err != nil {
			return req, nil, err
		}
		tok, err := svc.AccessToken(ctx, conn.Name, false)
		if err != nil {
			return req, nil, err
		}
		req.Secrets[connection.KindAccessToken] = tok.AccessToken
		req.Fields["api_base"] = tok.APIBase
		// Sources ask again through Token, forcing a refresh after a 401.
		req.Token = func(ctx context.Context, force bool) (string, error) {
			tok, err := svc.AccessToken(ctx, conn.Name, force)
			if err != nil {
				return "", err
			}
			return tok.AccessToken, nil
		}
		return req, src, nil
	}
	for _, f := range connection.SecretFields(ctr, m) {
		if !conn.HasSecret(f.Name) {
			continue
		}
		v, err := mgr.Secret(ctx, conn, f.Name)
		if errors.Is(err, secretstore.ErrNotFound) {
			return req, nil, mgr.SecretMissing(ctx, conn, f.Name, err)
		}
		if err != nil {
			return req, nil, err
		}
		req.Secrets[f.Name] = v
	}
	return req, src, nil
}

func plural(n int64, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return fmt.Sprintf("%d %ss", n, word)
}

func reasonOf(err error) activitylog.Reason {
	var f *jobrunner.Failure
	if errors.As(err, &f) {
		return activitylog.Reason(f.Reason)
	}
	if exitcode.FromError(err) == exitcode.AuthNeeded {
		return activitylog.ReasonAuth
	}
	return activitylog.ReasonConfig
}
