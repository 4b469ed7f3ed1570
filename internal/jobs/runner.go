package jobs

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/connctl/connctl/internal/activitylog"
	"github.com/connctl/connctl/internal/authorization"
	"github.com/connctl/connctl/internal/configstore"
	"github.com/connctl/connctl/internal/connection"
	"github.com/connctl/connctl/internal/connector"
	"github.com/connctl/connctl/internal/exitcode"
	"github.com/connctl/connctl/internal/jobrunner"
	"github.com/connctl/connctl/internal/notify"
	"github.com/connctl/connctl/internal/secretstore"
)

// The runner's dependencies are small interfaces declared here, by their
// consumer, so that another store (a team database) or a test fake plugs
// in without this package knowing it.

// Definitions is where the runner reads jobs and connections
// (*configstore.Store).
type Definitions interface {
	Document() *configstore.Document
}

// RunLog is what a run needs of the activity log (*activitylog.Store): the
// run lock that BeginRun takes and Finish releases, the execution activity,
// and the incremental checkpoint.
type RunLog interface {
	BeginRun(ctx context.Context, a activitylog.Activity) (int64, error)
	BeginDueRun(ctx context.Context, a activitylog.Activity, since time.Time) (int64, error)
	Finish(ctx context.Context, id int64, st activitylog.Status, reason activitylog.Reason, msg string, counts activitylog.Counts) error
	Checkpoint(ctx context.Context, jobID string) (string, bool, error)
	SetCheckpoint(ctx context.Context, jobID, value string) error
	List(ctx context.Context, f activitylog.Filter) ([]activitylog.Activity, error)
	// SubjectState tells whether a job is paused.
	SubjectState(ctx context.Context, subject, id string) (activitylog.SubjectState, bool, error)
}

// ClaimWatcher is a RunLog whose runs can lose their claim on the job
// (*pgstore.Log: a run is live while its session with the team store holds
// a lock; if that session is cut and another worker begins the job
// meanwhile, this run has lost it). The runner watches each run's claim,
// stops a run that lost it (recorded failed, exit 1), and writes the
// checkpoint through SetRunCheckpoint, which refuses a run that lost it.
type ClaimWatcher interface {
	// WatchClaim calls lost (once) with an error wrapping
	// activitylog.ErrClaimLost when run id lost its claim; stop ends
	// the watch.
	WatchClaim(ctx context.Context, id int64, lost func(error)) (stop func())
	// HoldClaim makes sure, now, that run id still holds its claim (an
	// error wrapping activitylog.ErrClaimLost if not): the runner asks
	// before it commits the output.
	HoldClaim(ctx context.Context, id int64) error
	SetRunCheckpoint(ctx context.Context, id int64, jobID, value string) error
}

// fencedDest commits the output only if the run still holds its claim, so
// that of a run that lost it and the one that took it, one output stands.
type fencedDest struct {
	jobrunner.Destination
	hold func() error
	lost error // the claim was lost at Commit
}

func (d *fencedDest) Commit() error {
	if err := d.hold(); err != nil {
		if errors.Is(err, activitylog.ErrClaimLost) {
			d.lost = err
		}
		return err
	}
	return d.Destination.Commit()
}

// Observer is told of every finished run (*notify.Notifier): it remembers
// the job's state, notifies its changes and pauses a job whose scheduled
// runs keep failing.
type Observer interface {
	Observe(ctx context.Context, o notify.Observation) (notify.Outcome, error)
}

// Credentials resolves a connection's connector and key-based secrets
// (*connection.Manager).
type Credentials interface {
	Lookup(c *configstore.Connection) (*connector.Connector, *connector.AuthMethod, error)
	Secret(ctx context.Context, c *configstore.Connection, kind string) (string, error)
	SecretMissing(ctx context.Context, c *configstore.Connection, kind string, readErr error) error
}

// Tokens gives an OAuth connection's access token, refreshed first (and the
// refreshed grant saved) when it is about to expire or when force asks for
// it (*authorization.Service).
type Tokens interface {
	AccessToken(ctx context.Context, name string, force bool) (*authorization.Token, error)
}

// Runner runs jobs, one at a time per job:
//
//  1. it takes the job's run lock in the activity log (BeginRun), so a
//     second run of the same job is refused while this one lasts;
//  2. it resolves the connection's credentials;
//  3. it streams the source's records through jobrunner.Run into the
//     destination (a temp file renamed on success, or Stdout);
//  4. only once the output is durable, it saves the checkpoint, then
//     finishes the execution activity (which releases the lock).
//
// A failed, cancelled or timed-out run leaves the destination and the
// checkpoint as they were. The Runner never prints: warnings about the
// activity log go to Warnf, progress to RunOptions.Progress.
type Runner struct {
	Config      Definitions
	Log         RunLog
	Credentials Credentials
	// Tokens is asked only for OAuth connections; nil when there is no
	// way to get one.
	Tokens Tokens
	// Sources returns the implementation of a connector's source
	// (connector/all.JobSource); false when this connctl has none.
	Sources func(connectorID, source string) (jobrunner.Source, bool)
	HTTP    *http.Client
	// Sleep waits between retries; nil: jobrunner.Sleep.
	Sleep func(context.Context, time.Duration) error
	// Stdout receives the records of jobs whose destination is "-".
	Stdout io.Writer
	Now    func() time.Time
	Who    string
	// Warnf reports what went wrong after the run's outcome was settled
	// (an activity or checkpoint not saved); nil: ignored.
	Warnf func(format string, args ...any)
	// Observer, when set, is told of each run that ended (not cancelled):
	// notifications and the auto-pause.
	Observer Observer
	// PauseAfter pauses a scheduled job after this many consecutive
	// failed runs (jobs.pause_after; 0: never).
	PauseAfter int
}

// RunOptions are the choices of one run.
type RunOptions struct {
	// Full fetches everything this time, ignoring the checkpoint (which
	// the run still moves).
	Full bool
	// Timeout stops and fails a run that takes longer (0: no limit).
	// TimeoutFrom names where it came from ("--timeout", "jobs.timeout")
	// in the error of a run that reached it.
	Timeout     time.Duration
	TimeoutFrom string
	// Progress, when set, is called after each page is written and when a
	// wait before a retry begins, then once with Done when the fetch has
	// ended, before the run reports anything else.
	Progress func(Progress)
	// Due runs the job only if it is still due when its run begins (no
	// run of it counts within its schedule's interval): of several
	// workers that found it due, one runs it and the others get a
	// *SkipError.
	Due bool
}

// SkipError is a due run (RunOptions.Due) that did not begin: another run
// of the job is live, or the job ran since it was found due. It is not a
// failure.
type SkipError struct {
	Job string
	Why string
}

func (e *SkipError) Error() string { return fmt.Sprintf("job %q skipped: %s", e.Job, e.Why) }

// Progress is a run's state for a progress line.
type Progress struct {
	Job     string // the job's name
	Stats   *jobrunner.Stats
	Elapsed time.Duration // since the fetch began
	Done    bool
}

// Result is what a run did, filled in as far as it went.
type Result struct {
	Job     configstore.Job // as it was when the run began
	Counts  activitylog.Counts
	Elapsed time.Duration // of the fetch
	// Partial is set when the source stopped early on purpose: its output
	// and checkpoint were kept and the run's error has exit code 3.
	Partial *jobrunner.Partial
	// Status is the run's final status ("" when it did not begin).
	Status activitylog.Status
	// PausedAt is when the job was paused (before this run, or by it);
	// zero when it is not paused. Paused says this run paused it.
	PausedAt time.Time
	Paused   bool
}

// errRunTimeout is the cause of a run's context when the run reached its
// limit, telling it apart from Ctrl-C.
var errRunTimeout = errors.New("the run reached its time limit")

// Run runs the job named name, recording it as an execution activity. Its
// errors carry exit codes and hints: auth needed (4), partial (3), or a
// failure (1) naming the job; ctx's error when ctx was cancelled. A paused
// job runs too (Result.PausedAt says it is paused): only --due skips it.
// Then the Observer is told how the run ended.
func (r *Runner) Run(ctx context.Context, name string, opts RunOptions) (Result, error) {
	res, err := r.run(ctx, name, opts)
	if res.Status != "" && res.Status != activitylog.StatusCancelled {
		r.observe(ctx, &res, err)
	}
	return res, err
}

func (r *Runner) run(ctx context.Context, name string, opts RunOptions) (Result, error) {
	doc := r.Config.Document()
	_, j := doc.FindJob(name)
	if j == nil {
		return Result{}, NotFound(name)
	}
	job := *j
	res := Result{Job: job}
	conn := doc.ConnectionByID(job.ConnectionID)
	if conn == nil {
		return res, exitcode.New(exitcode.Failure, "job %q refers to a connection that no longer exists", job.Name)
	}
	act := activitylog.Activity{Type: activitylog.TypeExecution, Action: activitylog.ActionRun, JobID: job.ID, JobName: job.Name,
		ConnectionID: conn.ID, ConnectionName: conn.Name, Status: activitylog.StatusRunning, Who: r.Who, StartedAt: r.Now()}
	id, err := r.begin(ctx, &job, act, opts.Due)
	if err != nil {
		return res, err
	}
	watcher, _ := r.Log.(ClaimWatcher)
	if watcher != nil {
		// A run that lost its claim stops at once: another worker runs
		// the job now.
		var cancel context.CancelCauseFunc
		ctx, cancel = context.WithCancelCause(ctx)
		defer cancel(nil)
		stop := watcher.WatchClaim(ctx, id, cancel)
		defer stop()
	}
	if opts.Timeout > 0 {
		// Only the run is bounded; the activity is already begun above
		// with the caller's context, and finish uses WithoutCancel.
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeoutCause(ctx, opts.Timeout, errRunTimeout)
		defer cancel()
	}
	res.PausedAt = r.pausedAt(ctx, job.ID)
	stats := &jobrunner.Stats{}
	finish := func(st activitylog.Status, reason activitylog.Reason, msg string) {
		res.Counts = activitylog.Counts{Records: stats.Records.Load(), Bytes: stats.Bytes.Load(), Pages: stats.Pages.Load(), Retries: stats.Retries.Load(), WithoutCursor: stats.WithoutCursor.Load()}
		res.Status = st
		if err := r.Log.Finish(context.WithoutCancel(ctx), id, st, reason, msg, res.Counts); err != nil {
			r.warnf("the run was not recorded in the activity log: %v", err)
		}
	}
	req, src, err := r.prepare(ctx, &job, conn)
	if err != nil {
		finish(activitylog.StatusFailed, reasonOf(err), err.Error())
		return res, err
	}
	// The checkpoint the run began from: it saves its own only if that is
	// still the one (not moved by `jobs edit --checkpoint` meanwhile).
	var began *string
	beganKnown := false
	if job.Mode == ModeIncremental {
		if cp, ok, err := r.Log.Checkpoint(ctx, job.ID); err == nil {
			beganKnown = true
			if ok {
				began = &cp
				if !opts.Full {
					req.Since = cp
				}
			}
		}
	}
	sleep := jobrunner.Sleep
	if r.Sleep != nil {
		sleep = r.Sleep
	}
	req.HTTP = jobrunner.NewHTTP(r.HTTP, sleep, stats, nil)
	var dst jobrunner.Destination
	if job.Dest == "-" {
		dst = jobrunner.NewStreamDestination(r.Stdout, job.Format, nil)
	} else if dst, err = jobrunner.NewFileDestination(job.Dest, job.Format, nil); err != nil {
		finish(activitylog.StatusFailed, activitylog.ReasonDestination, err.Error())
		return res, exitcode.New(exitcode.Failure, "job %q: %v", job.Name, err)
	}
	var fenced *fencedDest
	if watcher != nil {
		fenced = &fencedDest{Destination: dst, hold: func() error { return watcher.HoldClaim(context.WithoutCancel(ctx), id) }}
		dst = fenced
	}
	start := time.Now()
	var progress func(*jobrunner.Stats)
	if opts.Progress != nil {
		progress = func(s *jobrunner.Stats) { opts.Progress(Progress{Job: job.Name, Stats: s, Elapsed: time.Since(start)}) }
	}
	checkpoint, err := jobrunner.Run(ctx, src, req, dst, progress)
	res.Elapsed = time.Since(start)
	if opts.Progress != nil {
		opts.Progress(Progress{Job: job.Name, Stats: stats, Elapsed: res.Elapsed, Done: true})
	}
	// A source that stopped early on purpose kept its output: save the
	// checkpoint as for a success, then say it is partial.
	if errors.As(err, &res.Partial) {
		err = nil
	}
	if err != nil {
		cause := context.Cause(ctx)
		if fenced != nil && fenced.lost != nil {
			cause = fenced.lost
		}
		if errors.Is(cause, activitylog.ErrClaimLost) {
			lerr := claimLost(&job, cause)
			finish(activitylog.StatusFailed, activitylog.ReasonNetwork, lerr.Error())
			return res, lerr
		}
		if errors.Is(context.Cause(ctx), errRunTimeout) {
			terr := timedOut(&job, opts)
			finish(activitylog.StatusFailed, activitylog.ReasonTimeout, terr.Error())
			return res, terr
		}
		if ctx.Err() != nil {
			finish(activitylog.StatusCancelled, "", "interrupted")
			return res, ctx.Err()
		}
		finish(activitylog.StatusFailed, reasonOf(err), err.Error())
		var f *jobrunner.Failure
		if errors.As(err, &f) && f.Reason == jobrunner.ReasonAuth {
			return res, exitcode.WithHint(exitcode.New(exitcode.AuthNeeded, "job %q: %s", job.Name, f.Message),
				fmt.Sprintf("check the connection with `connctl test %s`, then `connctl reauthorize %s`", connection.QuoteArg(conn.Name), connection.QuoteArg(conn.Name)))
		}
		return res, exitcode.New(exitcode.Failure, "job %q: %s", job.Name, err.Error())
	}
	// The output is durable: only now does the checkpoint move.
	if job.Mode == ModeIncremental && checkpoint != "" {
		swapped, err := r.saveCheckpoint(context.WithoutCancel(ctx), watcher, id, job.ID, began, beganKnown, checkpoint)
		if err == nil && !swapped {
			r.warnf("the checkpoint of job %q was changed during this run (`connctl jobs edit --checkpoint`): the run kept its output but not its checkpoint; the next run starts from the one set", job.Name)
		}
		if errors.Is(err, activitylog.ErrClaimLost) {
			lerr := claimLost(&job, err)
			finish(activitylog.StatusFailed, activitylog.ReasonNetwork, lerr.Error())
			return res, lerr
		}
		if err != nil {
			r.warnf("the checkpoint was not saved (the next run fetches these records again): %v", err)
		}
	}
	if p := res.Partial; p != nil {
		finish(activitylog.StatusPartiallySucceeded, activitylog.Reason(p.Reason), p.Message)
		return res, exitcode.WithHint(exitcode.New(exitcode.Partial, "job %q: %s", job.Name, p.Message),
			fmt.Sprintf("run `connctl jobs run %s` again later to fetch the rest", connection.QuoteArg(job.Name)))
	}
	finish(activitylog.StatusSucceeded, "", "")
	return res, nil
}

// CheckpointSwapper is a RunLog that saves a checkpoint only if it is
// still the one the run began from (*activitylog.Store, *pgstore.Log).
type CheckpointSwapper interface {
	SwapCheckpoint(ctx context.Context, jobID string, old, value *string) (bool, error)
}

// RunCheckpointSwapper is a ClaimWatcher's SwapCheckpoint through the
// run's claim (*pgstore.Log).
type RunCheckpointSwapper interface {
	SwapRunCheckpoint(ctx context.Context, id int64, jobID string, old, value *string) (bool, error)
}

// saveCheckpoint saves a run's checkpoint: only if it is still began (when
// that is known and the log can compare), through the run's claim when
// the log has claims. swapped is false when the checkpoint had moved.
func (r *Runner) saveCheckpoint(ctx context.Context, watcher ClaimWatcher, id int64, jobID string, began *string, known bool, value string) (swapped bool, err error) {
	if watcher != nil {
		if sw, ok := watcher.(RunCheckpointSwapper); ok && known {
			return sw.SwapRunCheckpoint(ctx, id, jobID, began, &value)
		}
		return true, watcher.SetRunCheckpoint(ctx, id, jobID, value)
	}
	if sw, ok := r.Log.(CheckpointSwapper); ok && known {
		return sw.SwapCheckpoint(ctx, jobID, began, &value)
	}
	return true, r.Log.SetCheckpoint(ctx, jobID, value)
}

// begin takes the job's run lock: BeginRun, or BeginDueRun for a due run,
// whose refusals are *SkipErrors.
func (r *Runner) begin(ctx context.Context, job *configstore.Job, act activitylog.Activity, due bool) (int64, error) {
	var id int64
	var err error
	if due {
		every, ierr := Interval(job.Schedule)
		if ierr != nil || every == 0 {
			return 0, exitcode.New(exitcode.Failure, "job %q has no schedule, so it is never due; run it by name, or give it one with `connctl jobs edit %s --schedule 1h`", job.Name, connection.QuoteArg(job.Name))
		}
		id, err = r.Log.BeginDueRun(ctx, act, act.StartedAt.Add(-every))
	} else {
		id, err = r.Log.BeginRun(ctx, act)
	}
	if err == nil {
		return id, nil
	}
	var re *activitylog.RunningError
	var ne *activitylog.NotDueError
	switch {
	case errors.As(err, &re) && due:
		return 0, &SkipError{Job: job.Name, Why: fmt.Sprintf("already running (activity %d, pid %d on %s, started %s)", re.ID, re.PID, re.Host, re.StartedAt.UTC().Format(time.RFC3339))}
	case errors.As(err, &re):
		return 0, exitcode.New(exitcode.Failure, "job %q is already running (activity %d, pid %d, started %s)", job.Name, re.ID, re.PID, re.StartedAt.Local().Format("15:04:05"))
	case errors.As(err, &ne):
		return 0, &SkipError{Job: job.Name, Why: fmt.Sprintf("it ran at %s (activity %d, by %s on %s) since it was found due", ne.StartedAt.UTC().Format(time.RFC3339), ne.ID, ne.Who, ne.Host)}
	}
	return 0, err
}

// prepare resolves the source and the connection's fields and credentials.
func (r *Runner) prepare(ctx context.Context, job *configstore.Job, conn *configstore.Connection) (jobrunner.Request, jobrunner.Source, error) {
	if err := authorization.Usable(conn); err != nil {
		return jobrunner.Request{}, nil, err
	}
	ctr, m, err := r.Credentials.Lookup(conn)
	if err != nil {
		return jobrunner.Request{}, nil, err
	}
	src, ok := r.Sources(ctr.ID, job.Source)
	if !ok {
		return jobrunner.Request{}, nil, exitcode.New(exitcode.Failure, "connctl cannot run %s %s jobs yet", ctr.ID, job.Source)
	}
	req := jobrunner.Request{Fields: connection.Effective(ctr, m, conn.Fields), Secrets: map[string]string{}, Params: job.Params}
	if m.OAuth != nil {
		if r.Tokens == nil {
			return req, nil, exitcode.New(exitcode.Failure, "job %q: no OAuth token service to get the access token from", job.Name)
		}
		tok, err := r.Tokens.AccessToken(ctx, conn.Name, false)
		if err != nil {
			return req, nil, err
		}
		req.Secrets[connection.KindAccessToken] = tok.AccessToken
		req.Fields["api_base"] = tok.APIBase
		// Sources ask again through Token, forcing a refresh after a 401.
		name := conn.Name
		req.Token = func(ctx context.Context, force bool) (string, error) {
			tok, err := r.Tokens.AccessToken(ctx, name, force)
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
		v, err := r.Credentials.Secret(ctx, conn, f.Name)
		if errors.Is(err, secretstore.ErrNotFound) {
			return req, nil, r.Credentials.SecretMissing(ctx, conn, f.Name, err)
		}
		if err != nil {
			return req, nil, err
		}
		req.Secrets[f.Name] = v
	}
	return req, src, nil
}

// Due lists the scheduled jobs whose last run started an interval ago or
// more (or that never ran), in the config's order.
func (r *Runner) Due(ctx context.Context) ([]string, error) {
	var out []string
	now := r.Now()
	for _, j := range r.Config.Document().Jobs {
		at, ok, err := r.dueAt(ctx, &j)
		if err != nil {
			return nil, err
		}
		if ok && !at.After(now) {
			out = append(out, j.Name)
		}
	}
	return out, nil
}

// NextDue returns when the next scheduled job that is not paused will be
// due (now or earlier when one is due already); false when no job has a
// schedule.
func (r *Runner) NextDue(ctx context.Context) (time.Time, bool, error) {
	var next time.Time
	found := false
	for _, j := range r.Config.Document().Jobs {
		at, ok, err := r.dueAt(ctx, &j)
		if err != nil {
			return time.Time{}, false, err
		}
		if !ok {
			continue
		}
		if paused, err := r.Paused(ctx, j.ID); err != nil {
			return time.Time{}, false, err
		} else if !paused.IsZero() {
			continue
		}
		if !found || at.Before(next) {
			next, found = at, true
		}
	}
	return next, found, nil
}

// dueAt returns when job j is due: its last run that counts (succeeded,
// partially succeeded or failed; not cancelled, not stale) plus its
// interval, or the zero time when none does; false when it has no schedule
// or a live run holds it.
func (r *Runner) dueAt(ctx context.Context, j *configstore.Job) (time.Time, bool, error) {
	every, err := Interval(j.Schedule)
	if err != nil || every == 0 {
		return time.Time{}, false, nil
	}
	runs, err := r.Log.List(ctx, activitylog.Filter{JobID: j.ID, Type: activitylog.TypeExecution, Limit: 20})
	if err != nil {
		return time.Time{}, false, err
	}
	for _, a := range runs {
		switch a.Status {
		case activitylog.StatusRunning:
			return time.Time{}, false, nil
		case activitylog.StatusSucceeded, activitylog.StatusPartiallySucceeded, activitylog.StatusFailed:
			return a.StartedAt.Add(every), true, nil
		}
	}
	return time.Time{}, true, nil
}

func (r *Runner) warnf(format string, args ...any) {
	if r.Warnf != nil {
		r.Warnf(format, args...)
	}
}

// timedOut is the error of a run stopped at its limit: one line saying
// what happened and what was kept, and a hint to raise the limit.
func timedOut(job *configstore.Job, opts RunOptions) error {
	kept := "nothing was saved (no output written, checkpoint unchanged)"
	if job.Dest == "-" {
		kept = "the checkpoint is unchanged (records already written to stdout are incomplete)"
	}
	return exitcode.WithHint(exitcode.New(exitcode.Failure, "job %q: the run took longer than %s %s and was stopped; %s", job.Name, opts.TimeoutFrom, opts.Timeout, kept),
		"if the job is just big, raise the limit: --timeout 24h, or `connctl config set jobs.timeout 24h` for every run (0: no limit)")
}

// claimLost is the error of a run that lost its claim on the job to
// another worker (ClaimWatcher): exit 1, output and checkpoint left to the run
// that holds the claim.
func claimLost(job *configstore.Job, cause error) error {
	return exitcode.WithHint(exitcode.New(exitcode.Failure, "job %q stopped: %w; its output and checkpoint are left to that run", job.Name, cause),
		fmt.Sprintf("nothing to repair: see the job's runs with `connctl activities --job %s`", connection.QuoteArg(job.Name)))
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
