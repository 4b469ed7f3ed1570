// Package run implements `connctl jobs run`: flags, the progress line and
// the summary. The run itself (lock, credentials, fetch, checkpoint,
// activity) is jobs.Runner's.
package run

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/connctl/connctl/internal/commands/complete"
	"github.com/connctl/connctl/internal/configstore"
	"github.com/connctl/connctl/internal/connection"
	"github.com/connctl/connctl/internal/connector/all"
	"github.com/connctl/connctl/internal/deps"
	"github.com/connctl/connctl/internal/exitcode"
	"github.com/connctl/connctl/internal/iostreams"
	"github.com/connctl/connctl/internal/jobs"
)

// Config is what run reads of the config (*configstore.Store): the jobs,
// and the jobs.timeout setting.
type Config interface {
	Document() *configstore.Document
	String(key string) string
}

// Options are the inputs of jobs run.
type Options struct {
	IO     *iostreams.IOStreams
	Config func() (Config, error)
	// Runner builds the job runner (opening the activity log).
	Runner func() (*jobs.Runner, error)

	Names []string
	Due   bool
	Full  bool
	// Timeout is --timeout; nil when not given (the jobs.timeout setting).
	Timeout *time.Duration
}

// NewCmd returns `connctl jobs run`.
func NewCmd(d *deps.Deps, runF func(context.Context, *Options) error) *cobra.Command {
	opts := &Options{IO: d.IO, Runner: func() (*jobs.Runner, error) { return newRunner(d) }}
	opts.Config = func() (Config, error) {
		cfg, err := d.Config()
		if err != nil {
			return nil, err
		}
		return cfg, nil
	}
	if runF == nil {
		runF = run
	}
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

--due runs the jobs whose schedule is due (for cron or a systemd timer),
except paused ones, which it names on stderr. A scheduled job whose runs
fail jobs.pause_after times in a row (default 3; 0: never) is paused:
` + "`connctl jobs resume NAME`" + ` resumes it. Running a paused job by name runs it
(and says it is paused). When a job starts failing or recovers, the
notify.webhook and notify.command settings are told, as the job's
--notify-on says (see docs/health.md).
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

With several jobs (or --due), each failure is reported as it happens and
the others still run; the exit code is then 3 if some failed, and if all
did, 4 when one needed authorization, else 1.`,
		Example: `  connctl jobs run tickets
  connctl jobs run tickets --full-refresh
  connctl jobs run --due          # from cron: */15 * * * * connctl jobs run --due
  connctl jobs run backfill --full-refresh --timeout 24h
  connctl config set jobs.timeout 2h   # the limit for every run without --timeout
  connctl config set jobs.pause_after 5   # pause a scheduled job after 5 failed runs in a row
  connctl jobs resume tickets             # run it with --due again`,
		ValidArgsFunction: complete.JobNames(d),
		RunE: func(c *cobra.Command, args []string) error {
			if opts.Due == (len(args) > 0) {
				return exitcode.UsageError("give job names or --due (not both)")
			}
			opts.Names = args
			if c.Flags().Changed("timeout") {
				opts.Timeout = &timeout
			}
			return runF(c.Context(), opts)
		},
	}
	cmd.Flags().BoolVar(&opts.Due, "due", false, "run the scheduled jobs that are due")
	cmd.Flags().BoolVar(&opts.Full, "full-refresh", false, "fetch everything this time, ignoring the checkpoint")
	cmd.Flags().DurationVar(&timeout, "timeout", 0, "stop and fail a run that takes longer than this (0: no limit; default: the jobs.timeout setting, 6h)")
	return cmd
}

// NewRunner is newRunner for the worker (same noun).
func NewRunner(d *deps.Deps) (*jobs.Runner, error) { return newRunner(d) }

// Summarize and TellPaused are the run's report
// and choices, shared with `connctl worker`.
func Summarize(ios *iostreams.IOStreams, res jobs.Result, err error) error {
	return summarize(ios, res, err)
}

// TellPaused: see tellPaused.
func TellPaused(ios *iostreams.IOStreams, res jobs.Result, due bool) { tellPaused(ios, res, due) }

// Limit is a run's time limit and where it came from: --timeout when given
// (flag), else the jobs.timeout setting.
func Limit(cfg Config, flag *time.Duration) (time.Duration, string, error) {
	switch {
	case flag == nil:
		d, err := settingLimit(cfg)
		return d, "jobs.timeout", err
	case *flag < 0:
		return 0, "", exitcode.UsageError("--timeout %s is negative; give a duration such as 30m or 6h (0: no limit)", *flag)
	}
	return *flag, "--timeout", nil
}

// newRunner wires the runner to the real stores, the connection manager,
// the OAuth service and the connectors' sources.
func newRunner(d *deps.Deps) (*jobs.Runner, error) {
	cfg, err := d.Config()
	if err != nil {
		return nil, err
	}
	store, err := d.Activities()
	if err != nil {
		return nil, err
	}
	mgr, err := d.Connections()
	if err != nil {
		return nil, err
	}
	authz, err := d.Authz()
	if err != nil {
		return nil, err
	}
	r := &jobs.Runner{Config: cfg, Log: store, Credentials: mgr, Tokens: authz, Sources: all.JobSource, HTTP: d.HTTP(),
		Sleep: d.Sleep, Stdout: d.IO.Out, Now: d.Now, Who: d.Who(), Warnf: d.IO.Warnf, PauseAfter: deps.PauseAfter(cfg)}
	n, err := d.Notifier()
	if err != nil {
		return nil, err
	}
	if n != nil {
		r.Observer = n
	}
	return r, nil
}

func run(ctx context.Context, opts *Options) error {
	cfg, err := opts.Config()
	if err != nil {
		return err
	}
	ro := jobs.RunOptions{Full: opts.Full, Progress: progressLine(opts.IO), Due: opts.Due}
	if ro.Timeout, ro.TimeoutFrom, err = Limit(cfg, opts.Timeout); err != nil {
		return err
	}
	runner, err := opts.Runner()
	if err != nil {
		return err
	}
	names := opts.Names
	if opts.Due {
		if names, err = runner.Due(ctx); err != nil {
			return err
		}
		if names, err = skipPaused(ctx, opts.IO, cfg, runner, names); err != nil {
			return err
		}
		if len(names) == 0 {
			opts.IO.Statusf("No job is due.")
			return nil
		}
	} else {
		for _, n := range names {
			if _, j := cfg.Document().FindJob(n); j == nil {
				return jobs.NotFound(n)
			}
		}
	}
	var t Tally
	for _, n := range names {
		res, err := runner.Run(ctx, n, ro)
		var skip *jobs.SkipError
		if errors.As(err, &skip) {
			// Another process ran it since it was found due: not a failure.
			opts.IO.Statusf("%s: skipped: %s", n, skip.Why)
			continue
		}
		err = summarize(opts.IO, res, err)
		tellPaused(opts.IO, res, opts.Due)
		if err != nil {
			if ctx.Err() != nil {
				return err
			}
			t.Fail(err)
			if len(names) > 1 {
				// The others still run: report this one now.
				opts.IO.Error(n+": "+err.Error(), exitcode.Hints(err)...)
			}
		}
	}
	return t.Err(len(names))
}

// Tally adds up the failed runs among several (`jobs run a b`, --due,
// `worker --once`) into one outcome.
type Tally struct {
	failed     int
	authNeeded bool
	last       error
}

// Fail counts a failed run.
func (t *Tally) Fail(err error) {
	t.failed++
	t.last = err
	if exitcode.FromError(err) == exitcode.AuthNeeded {
		t.authNeeded = true
	}
}

// Err is the outcome of total runs: nil when none failed; the error of a
// single run; exit 3 when some failed; when all did, exit 4 if one
// needed authorization, else 1.
func (t *Tally) Err(total int) error {
	switch {
	case t.failed == 0:
		return nil
	case total == 1:
		return t.last
	case t.failed < total:
		return exitcode.WithCode(exitcode.Partial, fmt.Errorf("%d of %d jobs failed", t.failed, total))
	case t.authNeeded:
		return exitcode.WithCode(exitcode.AuthNeeded, fmt.Errorf("all %d jobs failed", t.failed))
	default:
		return exitcode.New(exitcode.Failure, "all %d jobs failed", t.failed)
	}
}

// summarize tells on stderr what a run that kept its output did, and
// returns its error.
func summarize(ios *iostreams.IOStreams, res jobs.Result, err error) error {
	c := res.Counts
	// A partial run keeps its output too, so it warns about records
	// without the incremental field as a success does.
	withoutCursor := func() {
		if c.WithoutCursor > 0 {
			they := "they were"
			if c.WithoutCursor == 1 {
				they = "it was"
			}
			ios.Warnf("%s: %s had no incremental field; %s written but did not move the checkpoint", res.Job.Name, plural(c.WithoutCursor, "record"), they)
		}
	}
	if res.Partial != nil {
		ios.Warnf("%s: %s in %s kept; the run stopped early", res.Job.Name, plural(c.Records, "record"), plural(c.Pages, "page"))
		withoutCursor()
		return err
	}
	if err != nil {
		return err
	}
	withoutCursor()
	where := res.Job.Dest
	if where == "-" {
		where = "stdout"
	}
	ios.Statusf("%s%s: %s in %s (%s) → %s", ios.Success(), res.Job.Name, plural(c.Records, "record"), plural(c.Pages, "page"),
		res.Elapsed.Round(10*time.Millisecond), where)
	return nil
}

// progressLine is the live progress line on a terminal's stderr, cleared
// when the fetch ends; nil when stderr is not a terminal.
func progressLine(ios *iostreams.IOStreams) func(jobs.Progress) {
	if !ios.IsStderrTTY() {
		return nil
	}
	return func(p jobs.Progress) {
		if p.Done {
			fmt.Fprint(ios.ErrOut, "\r\x1b[K")
			return
		}
		s := p.Stats
		rate := float64(s.Records.Load()) / max(p.Elapsed.Seconds(), 0.001)
		wait := ""
		if until := s.WaitUntil.Load(); until != 0 {
			// The server asked to slow down (or failed): say how
			// long the silence will last, and until when.
			at := time.Unix(0, until)
			wait = fmt.Sprintf(", waiting %s to retry (until %s)", time.Until(at).Round(time.Second), at.Format("15:04:05"))
		}
		fmt.Fprintf(ios.ErrOut, "\r\x1b[K%s: %d records, %d pages, %.0f/s, %s%s", p.Job, s.Records.Load(), s.Pages.Load(), rate, p.Elapsed.Round(100*time.Millisecond), wait)
	}
}

// settingLimit reads jobs.timeout (from the file or CONNCTL_JOBS_TIMEOUT).
func settingLimit(cfg Config) (time.Duration, error) {
	v := strings.TrimSpace(cfg.String("jobs.timeout"))
	if v == "" {
		v = "6h"
	}
	if v == "0" {
		return 0, nil
	}
	dur, err := time.ParseDuration(v)
	if err != nil || dur < 0 {
		return 0, exitcode.UsageError("the setting jobs.timeout is %q, not a duration such as 30m or 6h (0: no limit); fix it with `connctl config set jobs.timeout 6h`", v)
	}
	return dur, nil
}

func plural(n int64, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return fmt.Sprintf("%d %ss", n, word)
}

// skipPaused drops the paused jobs from the due ones, saying so on stderr.
func skipPaused(ctx context.Context, ios *iostreams.IOStreams, cfg Config, runner *jobs.Runner, names []string) ([]string, error) {
	out := names[:0:0]
	for _, n := range names {
		_, j := cfg.Document().FindJob(n)
		if j == nil {
			continue
		}
		at, err := runner.Paused(ctx, j.ID)
		if err != nil {
			return nil, err
		}
		if !at.IsZero() {
			ios.Warnf("%s is paused (since %s, after repeated failed runs): skipped; resume it with `connctl jobs resume %s`",
				j.Name, at.UTC().Format(time.RFC3339), connection.QuoteArg(j.Name))
			continue
		}
		out = append(out, n)
	}
	return out, nil
}

// tellPaused says on stderr that a job is paused: paused by this run, or
// run by name while paused.
func tellPaused(ios *iostreams.IOStreams, res jobs.Result, due bool) {
	q := connection.QuoteArg(res.Job.Name)
	switch {
	case res.Paused:
		ios.Warnf("%s is now paused after repeated failed scheduled runs (jobs.pause_after): `connctl jobs run --due` skips it until `connctl jobs resume %s`", res.Job.Name, q)
	case !res.PausedAt.IsZero() && !due:
		ios.Warnf("%s is paused (since %s): it ran because it was named; `connctl jobs run --due` skips it until `connctl jobs resume %s`",
			res.Job.Name, res.PausedAt.UTC().Format(time.RFC3339), q)
	}
}
