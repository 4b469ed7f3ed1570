// Package worker implements `connctl worker`: it runs scheduled jobs as
// they fall due, continuously (or once, with --once), on any number of
// machines that share the activity log: each due run begins only if no
// other worker ran the job since it was found due (jobs.RunOptions.Due).
package worker

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/connctl/connctl/internal/commands/jobs/run"
	"github.com/connctl/connctl/internal/configstore"
	"github.com/connctl/connctl/internal/connection"
	"github.com/connctl/connctl/internal/deps"
	"github.com/connctl/connctl/internal/exitcode"
	"github.com/connctl/connctl/internal/iostreams"
	"github.com/connctl/connctl/internal/jobs"
)

// Config is what the worker reads of the config: the jobs, the
// jobs.timeout setting, and Reload to see what others changed.
type Config interface {
	Document() *configstore.Document
	String(key string) string
	Reload() error
}

// Runner is what the worker needs of *jobs.Runner.
type Runner interface {
	Due(ctx context.Context) ([]string, error)
	NextDue(ctx context.Context) (time.Time, bool, error)
	Paused(ctx context.Context, id string) (time.Time, error)
	Run(ctx context.Context, name string, opts jobs.RunOptions) (jobs.Result, error)
}

// Options are the inputs of worker.
type Options struct {
	IO     *iostreams.IOStreams
	Config func() (Config, error)
	Runner func() (Runner, error)
	Now    func() time.Time
	// Notify and StopNotify route SIGINT and SIGTERM to a channel
	// (signal.Notify, signal.Stop), for the second signal that cancels
	// the run in progress.
	Notify     func(c chan<- os.Signal, sig ...os.Signal)
	StopNotify func(c chan<- os.Signal)
	// After waits (time.After).
	After func(d time.Duration) <-chan time.Time

	Once  bool
	Poll  time.Duration
	Grace time.Duration
	// Timeout is --timeout; nil when not given (the jobs.timeout setting).
	Timeout *time.Duration
}

// NewCmd returns `connctl worker`.
func NewCmd(d *deps.Deps, runF func(context.Context, *Options) error) *cobra.Command {
	opts := &Options{IO: d.IO, Now: d.Now, Notify: signal.Notify, StopNotify: signal.Stop, After: time.After}
	opts.Config = func() (Config, error) {
		cfg, err := d.Config()
		if err != nil {
			return nil, err
		}
		return cfg, nil
	}
	opts.Runner = func() (Runner, error) { return run.NewRunner(d) }
	if runF == nil {
		runF = Run
	}
	var timeout time.Duration
	cmd := &cobra.Command{
		Use:   "worker",
		Short: "Run scheduled jobs as they fall due, on one machine or many",
		Long: `Run the scheduled jobs (` + "`connctl jobs create --schedule`" + `) as they fall due,
until stopped. Each due job runs as ` + "`connctl jobs run`" + ` runs it (lock, credentials,
fetch, checkpoint only after durable output, activity), and paused jobs are
skipped (` + "`connctl jobs resume`" + `).

Any number of workers may run at once, on one machine or, with a shared
store (docs/team.md), on many: a due run begins only if no other run of the
job is live and none counted since the job fell due, checked in the same
transaction that takes the job's run lock, so each due job runs once. A
worker killed mid-run leaves a stale run that does not count: another
worker runs the job again from the last durable checkpoint.

Between runs the worker sleeps until the next job is due, and looks again
at least every --poll (jobs created or edited elsewhere). It logs a line
per run to stderr. When a look fails (the team store is down), it logs the
error once, reminds of it after a minute and then ever less often (at most
hourly), keeps looking every --poll, and logs when looks work again.

SIGTERM or Ctrl-C stops it: no new run begins, and the run in progress gets
--grace to finish; then (or at a second signal) it is cancelled: its
partial output discarded, the checkpoint unchanged, its activity
cancelled, so that the next worker runs it again. A stopped worker exits 0.

--once runs what is due and exits, for cron, systemd timers and Kubernetes
CronJobs; its exit code is that of ` + "`connctl jobs run --due`" + `.`,
		Example: `  connctl worker                      # run due jobs until stopped
  connctl worker --once               # cron: */5 * * * * connctl worker --once
  connctl worker --poll 10s --grace 2m
  systemctl --user enable --now connctl-worker   # see docs/team.md`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			if opts.Poll <= 0 {
				return exitcode.UsageError("--poll %s must be positive, such as 30s or 1m", opts.Poll)
			}
			if opts.Grace < 0 {
				return exitcode.UsageError("--grace %s is negative; give a duration such as 30s (0: cancel at once)", opts.Grace)
			}
			if c.Flags().Changed("timeout") {
				opts.Timeout = &timeout
			}
			return runF(c.Context(), opts)
		},
	}
	cmd.Flags().BoolVar(&opts.Once, "once", false, "run the jobs that are due now, then exit")
	cmd.Flags().DurationVar(&opts.Poll, "poll", 30*time.Second, "look for due jobs at least this often")
	cmd.Flags().DurationVar(&opts.Grace, "grace", 30*time.Second, "on SIGTERM or Ctrl-C, let the run in progress finish for this long before cancelling it")
	cmd.Flags().DurationVar(&timeout, "timeout", 0, "stop and fail a run that takes longer than this (0: no limit; default: the jobs.timeout setting, 6h)")
	return cmd
}

// Run is the worker's loop.
func Run(ctx context.Context, opts *Options) error {
	cfg, err := opts.Config()
	if err != nil {
		return err
	}
	runner, err := opts.Runner()
	if err != nil {
		return err
	}
	ro := jobs.RunOptions{Due: true}
	if ro.Timeout, ro.TimeoutFrom, err = run.Limit(cfg, opts.Timeout); err != nil {
		return err
	}
	w := &worker{opts: opts, cfg: cfg, runner: runner, ro: ro, warned: map[string]bool{}}
	if opts.Once {
		return w.cycle(ctx, ctx, true)
	}

	// Runs live in runCtx, which outlives ctx by --grace or until a
	// second signal.
	runCtx, cancelRuns := context.WithCancel(context.WithoutCancel(ctx))
	defer cancelRuns()
	sigs := make(chan os.Signal, 2)
	opts.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	defer opts.StopNotify(sigs)
	go func() {
		select {
		case <-ctx.Done():
		case <-runCtx.Done():
			return
		}
		// ctx ended at the first signal; that signal may also sit in
		// sigs: drain it.
		select {
		case <-sigs:
		default:
		}
		select {
		case <-sigs:
			w.logf("second signal: cancelling the run in progress")
		case <-opts.After(opts.Grace):
			w.logf("--grace %s is over: cancelling the run in progress", opts.Grace)
		case <-runCtx.Done():
			return
		}
		cancelRuns()
	}()

	host, _ := os.Hostname()
	w.logf("worker started on %s (pid %d): looking for due jobs every %s", host, os.Getpid(), opts.Poll)
	for {
		err := w.cycle(ctx, runCtx, false)
		if ctx.Err() == nil {
			// The store may be back at the next look: say so, go on.
			w.lookFailed(err)
		}
		if ctx.Err() != nil {
			w.logf("worker stopped")
			return nil
		}
		wait := w.wait(ctx)
		select {
		case <-ctx.Done():
			w.logf("worker stopped")
			return nil
		case <-opts.After(wait):
		}
	}
}

type worker struct {
	opts   *Options
	cfg    Config
	runner Runner
	ro     jobs.RunOptions
	// warned holds the paused jobs already named, so that a worker
	// names each once, not at every look.
	warned map[string]bool
	// began counts the runs the last look began.
	began int
	// stuck is set when a due job could not begin (no run recorded, so
	// it stays due): the next look waits a whole --poll.
	stuck bool
	// The failure of the looks (a team store or config that cannot be
	// read) since failSince, failLooks of them; said again at failNext.
	failMsg   string
	failSince time.Time
	failLooks int
	failNext  time.Time
	failEvery time.Duration
}

// Reminders of a failure that lasts: the first after failRemindFirst, then
// twice as far apart each time, at most failRemindMax.
const (
	failRemindFirst = time.Minute
	failRemindMax   = time.Hour
)

// lookFailed logs the outcome of a look that could not see the jobs (err)
// or could (nil). A new error is logged with its hints; the same error at
// the next looks is not, but reminded of after a minute, then ever less
// often (at most hourly), so that a store down for a night leaves a dozen
// lines, not one a poll; the first look that works says it is over.
func (w *worker) lookFailed(err error) {
	now := w.opts.Now()
	if err == nil {
		if w.failMsg != "" {
			w.logf("recovered: looks work again after %s (%d failed); last error: %s",
				now.Sub(w.failSince).Round(time.Second), w.failLooks, w.failMsg)
			w.failMsg = ""
		}
		return
	}
	msg := err.Error()
	if msg == w.failMsg {
		w.failLooks++
		if !now.Before(w.failNext) {
			w.logf("error: still failing since %s (%d looks): %s", w.failSince.UTC().Format(time.RFC3339), w.failLooks, msg)
			w.failEvery = min(2*w.failEvery, failRemindMax)
			w.failNext = now.Add(w.failEvery)
		}
		return
	}
	if w.failMsg == "" {
		w.failSince, w.failLooks = now, 0
	}
	w.failMsg, w.failEvery = msg, failRemindFirst
	w.failLooks++
	w.failNext = now.Add(w.failEvery)
	w.logf("error: %s", msg)
	for _, h := range exitcode.Hints(err) {
		w.logf("hint: %s", h)
	}
}

func (w *worker) logf(format string, args ...any) {
	fmt.Fprintf(w.opts.IO.ErrOut, "%s %s\n", w.opts.Now().UTC().Format(time.RFC3339), fmt.Sprintf(format, args...))
}

// cycle runs the jobs due now, one after the other. ctx stops it taking
// another; runCtx is the runs'. once reports as `jobs run --due` does.
func (w *worker) cycle(ctx, runCtx context.Context, once bool) error {
	w.stuck, w.began = false, 0
	if err := w.cfg.Reload(); err != nil {
		return err
	}
	names, err := w.runner.Due(ctx)
	if err != nil {
		return err
	}
	// Workers that look at the same moment start at different jobs, so
	// that they run due jobs side by side instead of queuing on the first.
	rand.Shuffle(len(names), func(i, j int) { names[i], names[j] = names[j], names[i] })
	doc := w.cfg.Document()
	ran := 0
	var t run.Tally
	for _, n := range names {
		if ctx.Err() != nil {
			break
		}
		_, j := doc.FindJob(n)
		if j == nil {
			continue
		}
		if at, err := w.runner.Paused(ctx, j.ID); err != nil {
			return err
		} else if !at.IsZero() {
			if !w.warned[j.ID] || once {
				w.opts.IO.Warnf("%s is paused (since %s, after repeated failed runs): skipped; resume it with `connctl jobs resume %s`",
					j.Name, at.UTC().Format(time.RFC3339), connection.QuoteArg(j.Name))
				w.warned[j.ID] = true
			}
			continue
		}
		delete(w.warned, j.ID)
		res, err := w.runner.Run(runCtx, n, w.ro)
		var skip *jobs.SkipError
		if errors.As(err, &skip) {
			w.logf("%s: skipped: %s", n, skip.Why)
			continue
		}
		if res.Status == "" {
			w.stuck = true
		} else {
			w.began++
		}
		ran++
		switch {
		case once:
			err = run.Summarize(w.opts.IO, res, err)
		case err == nil || runCtx.Err() == nil:
			err = w.report(res, err)
		}
		run.TellPaused(w.opts.IO, res, true)
		if err != nil {
			if runCtx.Err() != nil {
				if once {
					return err
				}
				w.logf("%s: cancelled: output discarded, checkpoint unchanged; the next worker runs it again", n)
				return nil
			}
			t.Fail(err)
			if once && len(names) > 1 {
				w.opts.IO.Error(n+": "+err.Error(), exitcode.Hints(err)...)
			}
		}
	}
	if !once {
		return nil
	}
	if len(names) == 0 {
		w.opts.IO.Statusf("No job is due.")
	}
	return t.Err(ran)
}

// report logs one run's outcome as a line (and its hints).
func (w *worker) report(res jobs.Result, err error) error {
	c := res.Counts
	switch {
	case err != nil && res.Partial == nil:
		w.logf("%s: failed: %s", res.Job.Name, err)
		for _, h := range exitcode.Hints(err) {
			w.logf("hint: %s", h)
		}
	default:
		status := "succeeded"
		if res.Partial != nil {
			status = "partially succeeded (" + res.Partial.Message + ")"
		}
		dest := res.Job.Dest
		if dest == "-" {
			dest = "stdout"
		}
		w.logf("%s: %s: %d records in %d pages (%s) → %s", res.Job.Name, status, c.Records, c.Pages, res.Elapsed.Round(10*time.Millisecond), dest)
	}
	return err
}

// wait is how long to sleep before the next look: until the next job is
// due, at most --poll, and a whole --poll after a job that could not begin.
func (w *worker) wait(ctx context.Context) time.Duration {
	if w.stuck {
		return w.opts.Poll
	}
	next, ok, err := w.runner.NextDue(ctx)
	if err != nil || !ok {
		return w.opts.Poll
	}
	d := next.Sub(w.opts.Now())
	switch {
	case d <= 0 && w.began > 0:
		// Fell due while this look ran others: look again at once.
		return 0
	case d <= 0:
		// Due, yet this look began no run (another worker's clock, a
		// refusal): look again soon, without spinning.
		return min(100*time.Millisecond, w.opts.Poll)
	case d > w.opts.Poll:
		return w.opts.Poll
	}
	// Wake just after it falls due.
	return d + 10*time.Millisecond
}
