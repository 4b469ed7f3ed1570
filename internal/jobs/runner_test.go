package jobs

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/connctl/connctl/internal/activitylog"
	"github.com/connctl/connctl/internal/authorization"
	"github.com/connctl/connctl/internal/configstore"
	"github.com/connctl/connctl/internal/connection"
	"github.com/connctl/connctl/internal/connector"
	"github.com/connctl/connctl/internal/exitcode"
	"github.com/connctl/connctl/internal/jobrunner"
	"github.com/connctl/connctl/internal/secretstore"
)

// These tests drive Runner with a fake source, fake credentials and the
// real activity log (SQLite in a temporary folder), so that what design.md
// promises of `jobs run` is checked without the command line: the lock held
// across the run, the checkpoint saved only after the output is durable,
// nothing changed by a failed run, a partial run kept and resumed, and
// every run an execution activity.

var t0 = time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)

// fakeSource emits records and returns a checkpoint, or does what fetch
// says instead.
type fakeSource struct {
	records    []jobrunner.Record
	checkpoint string
	err        error // returned after the records
	fetch      func(ctx context.Context, req jobrunner.Request, emit func(jobrunner.Record) error) (string, error)

	mu    sync.Mutex
	seen  []jobrunner.Request // every request it was given
	calls int
}

func (s *fakeSource) Fetch(ctx context.Context, req jobrunner.Request, emit func(jobrunner.Record) error) (string, error) {
	s.mu.Lock()
	s.seen = append(s.seen, req)
	s.calls++
	s.mu.Unlock()
	if s.fetch != nil {
		return s.fetch(ctx, req, emit)
	}
	for _, r := range s.records {
		if err := emit(r); err != nil {
			return "", err
		}
	}
	return s.checkpoint, s.err
}

func (s *fakeSource) last() jobrunner.Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.seen[len(s.seen)-1]
}

// docStore is the definitions: one document in memory.
type docStore struct{ doc configstore.Document }

func (d *docStore) Document() *configstore.Document { return &d.doc }

// fakeCreds is a connection manager with secrets in a map.
type fakeCreds struct {
	ctr     *connector.Connector
	secrets map[string]string // by kind
}

func (f *fakeCreds) Lookup(c *configstore.Connection) (*connector.Connector, *connector.AuthMethod, error) {
	for i := range f.ctr.Auths {
		if f.ctr.Auths[i].ID == c.Auth {
			return f.ctr, &f.ctr.Auths[i], nil
		}
	}
	return nil, nil, errors.New("no such auth method")
}

func (f *fakeCreds) Secret(_ context.Context, _ *configstore.Connection, kind string) (string, error) {
	v, ok := f.secrets[kind]
	if !ok {
		return "", secretstore.ErrNotFound
	}
	return v, nil
}

func (f *fakeCreds) SecretMissing(_ context.Context, c *configstore.Connection, kind string, _ error) error {
	return exitcode.New(exitcode.AuthNeeded, "connection %q: its %s is missing", c.Name, kind)
}

// fakeTokens is an OAuth service: a refresh (forced, or of an expiring
// token) issues the next access token and saves it, as
// authorization.Service saves a refreshed grant in the secret store.
type fakeTokens struct {
	mu        sync.Mutex
	saved     string // the access token in the "secret store"
	n         int    // tokens issued so far
	refreshes int
	expiring  bool // the saved token is about to expire
}

func (f *fakeTokens) AccessToken(_ context.Context, _ string, force bool) (*authorization.Token, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if force || f.expiring {
		f.n++
		f.refreshes++
		f.saved = "at-" + string(rune('0'+f.n))
		f.expiring = false
	}
	return &authorization.Token{AccessToken: f.saved, APIBase: "https://api.example.test"}, nil
}

// hookLog is the real activity log with a hook before SetCheckpoint and
// failures on demand.
type hookLog struct {
	*activitylog.Store
	beforeSetCheckpoint func()
	setCheckpointErr    error
}

func (h *hookLog) SetCheckpoint(ctx context.Context, jobID, value string) error {
	if h.beforeSetCheckpoint != nil {
		h.beforeSetCheckpoint()
	}
	if h.setCheckpointErr != nil {
		return h.setCheckpointErr
	}
	return h.Store.SetCheckpoint(ctx, jobID, value)
}

func (h *hookLog) SwapCheckpoint(ctx context.Context, jobID string, old, value *string) (bool, error) {
	if h.beforeSetCheckpoint != nil {
		h.beforeSetCheckpoint()
	}
	if h.setCheckpointErr != nil {
		return false, h.setCheckpointErr
	}
	return h.Store.SwapCheckpoint(ctx, jobID, old, value)
}

type fixture struct {
	runner *Runner
	src    *fakeSource
	log    *hookLog
	tokens *fakeTokens
	doc    *docStore
	dest   string
	warns  []string
}

// newFixture has one key-based connection "support" (acme, api_key "k1")
// and one OAuth connection "crm", with an incremental job "tickets" of
// support written to a file, and a job "deals" of crm.
func newFixture(t *testing.T) *fixture {
	t.Helper()
	dir := t.TempDir()
	store, err := activitylog.Open(filepath.Join(dir, activitylog.FileName), activitylog.WithClock(func() time.Time { return t0 }))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = store.Close() })
	ctr := &connector.Connector{ID: "acme", Name: "Acme",
		Fields: []connector.Field{{Name: "domain"}},
		Auths: []connector.AuthMethod{
			{ID: "api_key", Kind: connector.AuthKind("api_key"), Fields: []connector.Field{{Name: "api_key", Secret: true}}},
			{ID: "oauth2", Kind: connector.AuthKind("oauth2"), OAuth: &connector.OAuthSpec{}},
		}}
	f := &fixture{src: &fakeSource{}, log: &hookLog{Store: store}, tokens: &fakeTokens{saved: "at-0"}, dest: filepath.Join(dir, "out", "tickets.ndjson")}
	f.doc = &docStore{doc: configstore.Document{
		Connections: []configstore.Connection{
			{ID: "conn_1", Name: "support", Connector: "acme", Auth: "api_key", Fields: map[string]string{"domain": "acme.example.test"},
				Secrets: []string{"api_key"}, Status: configstore.StatusAuthorized},
			{ID: "conn_2", Name: "crm", Connector: "acme", Auth: "oauth2", Status: configstore.StatusAuthorized,
				Secrets: []string{connection.KindAccessToken, connection.KindRefreshToken}},
		},
		Jobs: []configstore.Job{
			{ID: "job_1", Name: "tickets", ConnectionID: "conn_1", Source: "tickets", Dest: f.dest, Format: FormatNDJSON, Mode: ModeIncremental, Schedule: "hourly"},
			{ID: "job_2", Name: "deals", ConnectionID: "conn_2", Source: "deals", Dest: "-", Format: FormatNDJSON, Mode: ModeFull},
		},
	}}
	if err := os.MkdirAll(filepath.Dir(f.dest), 0o700); err != nil {
		t.Fatal(err)
	}
	f.runner = &Runner{
		Config:      f.doc,
		Log:         f.log,
		Credentials: &fakeCreds{ctr: ctr, secrets: map[string]string{"api_key": "k1"}},
		Tokens:      f.tokens,
		Sources: func(connectorID, source string) (jobrunner.Source, bool) {
			if connectorID != "acme" || (source != "tickets" && source != "deals") {
				return nil, false
			}
			return f.src, true
		},
		Sleep:  func(ctx context.Context, _ time.Duration) error { return ctx.Err() },
		Stdout: &strings.Builder{},
		Now:    func() time.Time { return t0 },
		Who:    "tester",
		Warnf:  func(format string, args ...any) { f.warns = append(f.warns, format) },
	}
	return f
}

func records(n int) []jobrunner.Record {
	out := make([]jobrunner.Record, n)
	for i := range out {
		out[i] = jobrunner.Record{"id": float64(i + 1), "updated_at": t0.Add(time.Duration(i) * time.Minute).Format(time.RFC3339)}
	}
	return out
}

// lastRun is the job's latest execution activity.
func (f *fixture) lastRun(t *testing.T, jobID string) activitylog.Activity {
	t.Helper()
	runs, err := f.log.List(context.Background(), activitylog.Filter{JobID: jobID, Type: activitylog.TypeExecution, Limit: 1})
	if err != nil || len(runs) != 1 {
		t.Fatalf("execution activities of %s: %v %v", jobID, runs, err)
	}
	return runs[0]
}

func (f *fixture) checkpoint(t *testing.T, jobID string) string {
	t.Helper()
	cp, _, err := f.log.Checkpoint(context.Background(), jobID)
	if err != nil {
		t.Fatal(err)
	}
	return cp
}

func lines(t *testing.T, path string) int {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("output: %v", err)
	}
	return strings.Count(string(b), "\n")
}

func TestRunSavesTheCheckpointOnlyOnceTheOutputIsDurable(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.src.records, f.src.checkpoint = records(3), "2026-12-01T09:02:00Z"
	saw := -1
	f.log.beforeSetCheckpoint = func() { saw = lines(t, f.dest) } // the renamed file, complete
	res, err := f.runner.Run(context.Background(), "tickets", RunOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if saw != 3 {
		t.Fatalf("when the checkpoint was saved the output held %d records, want all 3", saw)
	}
	if cp := f.checkpoint(t, "job_1"); cp != "2026-12-01T09:02:00Z" {
		t.Fatalf("checkpoint %q", cp)
	}
	if res.Counts.Records != 3 || res.Partial != nil || res.Job.Name != "tickets" {
		t.Fatalf("result %+v", res)
	}
	a := f.lastRun(t, "job_1")
	if a.Status != activitylog.StatusSucceeded || a.Records != 3 || a.Who != "tester" || a.ConnectionName != "support" {
		t.Fatalf("activity %+v", a)
	}
	// The next run resumes from the checkpoint; --full-refresh ignores it.
	if _, err := f.runner.Run(context.Background(), "tickets", RunOptions{}); err != nil {
		t.Fatal(err)
	}
	if got := f.src.last().Since; got != "2026-12-01T09:02:00Z" {
		t.Fatalf("second run since %q", got)
	}
	if _, err := f.runner.Run(context.Background(), "tickets", RunOptions{Full: true}); err != nil {
		t.Fatal(err)
	}
	if got := f.src.last().Since; got != "" {
		t.Fatalf("full refresh since %q", got)
	}
}

func TestFailedRunKeepsTheOldOutputAndCheckpoint(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	if err := f.log.Store.SetCheckpoint(context.Background(), "job_1", "2026-11-30T00:00:00Z"); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(f.dest, []byte("{\"old\":true}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	f.src.records, f.src.checkpoint = records(2), "2026-12-01T09:01:00Z"
	f.src.err = &jobrunner.Failure{Reason: jobrunner.ReasonSourceError, Message: "GET acme.example.test/tickets: 500"}
	f.log.beforeSetCheckpoint = func() { t.Error("a failed run saved a checkpoint") }
	_, err := f.runner.Run(context.Background(), "tickets", RunOptions{})
	if exitcode.FromError(err) != exitcode.Failure || err.Error() != `job "tickets": GET acme.example.test/tickets: 500` {
		t.Fatalf("error %v (code %d)", err, exitcode.FromError(err))
	}
	if f.src.last().Since != "2026-11-30T00:00:00Z" {
		t.Fatalf("run began at %q, not the checkpoint", f.src.last().Since)
	}
	if b, _ := os.ReadFile(f.dest); string(b) != "{\"old\":true}\n" {
		t.Fatalf("output replaced by a failed run: %q", b)
	}
	if cp := f.checkpoint(t, "job_1"); cp != "2026-11-30T00:00:00Z" {
		t.Fatalf("checkpoint moved to %q", cp)
	}
	a := f.lastRun(t, "job_1")
	if a.Status != activitylog.StatusFailed || a.Reason != activitylog.ReasonSourceError || !strings.Contains(a.Message, "500") {
		t.Fatalf("activity %+v", a)
	}
}

func TestPartialRunKeepsItsWorkAndResumes(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.src.records, f.src.checkpoint = records(2), "2026-12-01T09:01:00Z"
	f.src.err = &jobrunner.Partial{Reason: jobrunner.ReasonRateLimit, Message: "the hour's 60 queries are spent"}
	res, err := f.runner.Run(context.Background(), "tickets", RunOptions{})
	if exitcode.FromError(err) != exitcode.Partial || !strings.Contains(strings.Join(exitcode.Hints(err), " "), "connctl jobs run tickets") {
		t.Fatalf("error %v %v", err, exitcode.Hints(err))
	}
	if res.Partial == nil || res.Counts.Records != 2 {
		t.Fatalf("result %+v", res)
	}
	if n := lines(t, f.dest); n != 2 {
		t.Fatalf("kept %d records, want 2", n)
	}
	if cp := f.checkpoint(t, "job_1"); cp != "2026-12-01T09:01:00Z" {
		t.Fatalf("checkpoint %q", cp)
	}
	a := f.lastRun(t, "job_1")
	if a.Status != activitylog.StatusPartiallySucceeded || a.Reason != activitylog.ReasonRateLimit {
		t.Fatalf("activity %+v", a)
	}
	f.src.err = nil
	if _, err := f.runner.Run(context.Background(), "tickets", RunOptions{}); err != nil {
		t.Fatal(err)
	}
	if got := f.src.last().Since; got != "2026-12-01T09:01:00Z" {
		t.Fatalf("the next run did not resume: since %q", got)
	}
}

// blockUntilDone is a source that has written a record and then waits for
// the run to end.
func blockUntilDone(ctx context.Context, _ jobrunner.Request, emit func(jobrunner.Record) error) (string, error) {
	if err := emit(jobrunner.Record{"id": 1.0}); err != nil {
		return "", err
	}
	<-ctx.Done()
	return "", ctx.Err()
}

func TestTimedOutRunFailsAndChangesNothing(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.src.fetch = blockUntilDone
	_, err := f.runner.Run(context.Background(), "tickets", RunOptions{Timeout: time.Millisecond, TimeoutFrom: "--timeout"})
	if exitcode.FromError(err) != exitcode.Failure || !strings.Contains(err.Error(), `job "tickets": the run took longer than --timeout 1ms and was stopped; nothing was saved`) {
		t.Fatalf("error %v", err)
	}
	if len(exitcode.Hints(err)) == 0 {
		t.Fatal("no hint to raise the limit")
	}
	if _, err := os.Stat(f.dest); !os.IsNotExist(err) {
		t.Fatalf("output written by a timed-out run: %v", err)
	}
	if cp := f.checkpoint(t, "job_1"); cp != "" {
		t.Fatalf("checkpoint %q", cp)
	}
	if a := f.lastRun(t, "job_1"); a.Status != activitylog.StatusFailed || a.Reason != activitylog.ReasonTimeout {
		t.Fatalf("activity %+v", a)
	}
}

func TestCancelledRunIsRecordedAsCancelled(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx, cancel := context.WithCancel(context.Background())
	f.src.fetch = func(ctx context.Context, req jobrunner.Request, emit func(jobrunner.Record) error) (string, error) {
		cancel() // Ctrl-C mid-run
		return blockUntilDone(ctx, req, emit)
	}
	_, err := f.runner.Run(ctx, "tickets", RunOptions{Timeout: time.Hour, TimeoutFrom: "jobs.timeout"})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("error %v", err)
	}
	if _, err := os.Stat(f.dest); !os.IsNotExist(err) {
		t.Fatalf("output written by a cancelled run: %v", err)
	}
	if a := f.lastRun(t, "job_1"); a.Status != activitylog.StatusCancelled {
		t.Fatalf("activity %+v", a)
	}
}

func TestRunHoldsTheJobsLockUntilItEnds(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	started, release := make(chan struct{}), make(chan struct{})
	f.src.fetch = func(ctx context.Context, _ jobrunner.Request, emit func(jobrunner.Record) error) (string, error) {
		close(started)
		<-release
		return "", emit(jobrunner.Record{"id": 1.0})
	}
	done := make(chan error, 1)
	go func() {
		_, err := f.runner.Run(context.Background(), "tickets", RunOptions{})
		done <- err
	}()
	<-started
	// While the first run fetches, a second is refused, naming it, and
	// neither touches the source nor records another run.
	_, err := f.runner.Run(context.Background(), "tickets", RunOptions{})
	if exitcode.FromError(err) != exitcode.Failure || !strings.Contains(err.Error(), `job "tickets" is already running (activity `) {
		t.Fatalf("second run: %v", err)
	}
	if a := f.lastRun(t, "job_1"); a.Status != activitylog.StatusRunning {
		t.Fatalf("the first run is %s while it fetches", a.Status)
	}
	close(release)
	if err := <-done; err != nil {
		t.Fatalf("first run: %v", err)
	}
	if a := f.lastRun(t, "job_1"); a.Status != activitylog.StatusSucceeded {
		t.Fatalf("first run recorded as %s", a.Status)
	}
	// The lock went with it: a third run goes ahead.
	f.src.fetch = nil
	if _, err := f.runner.Run(context.Background(), "tickets", RunOptions{}); err != nil {
		t.Fatalf("run after the first ended: %v", err)
	}
	if f.src.calls != 2 {
		t.Fatalf("source fetched %d times, want 2", f.src.calls)
	}
}

func TestRunGivesTheSourceKeyBasedCredentials(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	if _, err := f.runner.Run(context.Background(), "tickets", RunOptions{}); err != nil {
		t.Fatal(err)
	}
	req := f.src.last()
	if req.Secrets["api_key"] != "k1" || req.Fields["domain"] != "acme.example.test" || req.Token != nil {
		t.Fatalf("request: secrets %v fields %v", len(req.Secrets), req.Fields)
	}
	// A secret the store has lost fails the run before the source is
	// called, as an authorization problem, and is recorded.
	f.runner.Credentials.(*fakeCreds).secrets = map[string]string{}
	_, err := f.runner.Run(context.Background(), "tickets", RunOptions{})
	if exitcode.FromError(err) != exitcode.AuthNeeded || f.src.calls != 1 {
		t.Fatalf("lost secret: %v, %d fetches", err, f.src.calls)
	}
	if a := f.lastRun(t, "job_1"); a.Status != activitylog.StatusFailed || a.Reason != activitylog.ReasonAuth {
		t.Fatalf("activity %+v", a)
	}
}

func TestRunRefreshesAndSavesOAuthTokens(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.tokens.expiring = true // refreshed before the run starts
	var used []string
	f.src.fetch = func(ctx context.Context, req jobrunner.Request, emit func(jobrunner.Record) error) (string, error) {
		tok, err := req.AccessToken(ctx, false)
		if err != nil {
			return "", err
		}
		used = append(used, tok)
		// The server answered 401: ask for a fresh token, as sources do.
		if tok, err = req.AccessToken(ctx, true); err != nil {
			return "", err
		}
		used = append(used, tok)
		return "", emit(jobrunner.Record{"id": 1.0})
	}
	if _, err := f.runner.Run(context.Background(), "deals", RunOptions{}); err != nil {
		t.Fatal(err)
	}
	req := f.src.last()
	if req.Fields["api_base"] != "https://api.example.test" || req.Secrets[connection.KindAccessToken] != "at-1" {
		t.Fatalf("request fields %v", req.Fields)
	}
	if strings.Join(used, " ") != "at-1 at-2" || f.tokens.refreshes != 2 || f.tokens.saved != "at-2" {
		t.Fatalf("tokens used %v, %d refreshes, saved %q", used, f.tokens.refreshes, f.tokens.saved)
	}
	if got := f.runner.Stdout.(*strings.Builder).String(); got != "{\"id\":1}\n" {
		t.Fatalf("stdout %q", got)
	}
}

func TestRejectedTokenNeedsReauthorization(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.src.err = &jobrunner.Failure{Reason: jobrunner.ReasonAuth, Message: "GET api.example.test/deals: 401 after a refresh"}
	_, err := f.runner.Run(context.Background(), "deals", RunOptions{})
	if exitcode.FromError(err) != exitcode.AuthNeeded || !strings.Contains(strings.Join(exitcode.Hints(err), " "), "connctl reauthorize crm") {
		t.Fatalf("error %v %v", err, exitcode.Hints(err))
	}
	if a := f.lastRun(t, "job_2"); a.Status != activitylog.StatusFailed || a.Reason != activitylog.ReasonAuth {
		t.Fatalf("activity %+v", a)
	}
}

func TestRunRecordsWhyItCouldNotStart(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.doc.doc.Jobs[0].Source = "contacts" // no implementation
	_, err := f.runner.Run(context.Background(), "tickets", RunOptions{})
	if err == nil || err.Error() != "connctl cannot run acme contacts jobs yet" {
		t.Fatalf("error %v", err)
	}
	if a := f.lastRun(t, "job_1"); a.Status != activitylog.StatusFailed || a.Reason != activitylog.ReasonConfig {
		t.Fatalf("activity %+v", a)
	}
	// An unknown job records nothing.
	if _, err := f.runner.Run(context.Background(), "nope", RunOptions{}); exitcode.FromError(err) != exitcode.Usage {
		t.Fatalf("unknown job: %v", err)
	}
}

func TestCheckpointNotSavedIsAWarning(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.src.records, f.src.checkpoint = records(1), "2026-12-01T09:00:00Z"
	f.log.setCheckpointErr = errors.New("disk full")
	if _, err := f.runner.Run(context.Background(), "tickets", RunOptions{}); err != nil {
		t.Fatal(err)
	}
	if len(f.warns) != 1 || !strings.Contains(f.warns[0], "checkpoint was not saved") {
		t.Fatalf("warnings %q", f.warns)
	}
	if a := f.lastRun(t, "job_1"); a.Status != activitylog.StatusSucceeded {
		t.Fatalf("activity %+v", a)
	}
}

func TestProgressEndsBeforeTheRunReports(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.src.records = records(2)
	var events []Progress
	if _, err := f.runner.Run(context.Background(), "tickets", RunOptions{Progress: func(p Progress) { events = append(events, p) }}); err != nil {
		t.Fatal(err)
	}
	if len(events) == 0 || !events[len(events)-1].Done || events[len(events)-1].Job != "tickets" {
		t.Fatalf("progress events %+v", events)
	}
}

func TestDueListsScheduledJobsWhoseIntervalHasPassed(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	due, err := f.runner.Due(context.Background())
	if err != nil || strings.Join(due, " ") != "tickets" {
		t.Fatalf("never run: %v %v", due, err)
	}
	if _, err := f.runner.Run(context.Background(), "tickets", RunOptions{}); err != nil {
		t.Fatal(err)
	}
	if due, _ := f.runner.Due(context.Background()); len(due) != 0 {
		t.Fatalf("just run: %v", due)
	}
	f.runner.Now = func() time.Time { return t0.Add(time.Hour) }
	if due, _ := f.runner.Due(context.Background()); strings.Join(due, " ") != "tickets" {
		t.Fatalf("an hour later: %v", due)
	}
}

func TestDueRunRunsOnceAmongWorkersThatFoundItDue(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	if next, ok, err := f.runner.NextDue(ctx); err != nil || !ok || !next.IsZero() {
		t.Fatalf("NextDue of a job never run = %v, %v, %v; want due at once", next, ok, err)
	}
	// Two workers found "tickets" due; the first runs it.
	if _, err := f.runner.Run(ctx, "tickets", RunOptions{Due: true}); err != nil {
		t.Fatal(err)
	}
	_, err := f.runner.Run(ctx, "tickets", RunOptions{Due: true})
	var skip *SkipError
	if !errors.As(err, &skip) || !strings.Contains(skip.Why, "since it was found due") {
		t.Fatalf("the second worker's due run = %v, want a *SkipError", err)
	}
	if runs, _ := f.log.List(ctx, activitylog.Filter{JobID: "job_1"}); len(runs) != 1 {
		t.Fatalf("%d runs recorded, want 1", len(runs))
	}
	if next, ok, err := f.runner.NextDue(ctx); err != nil || !ok || !next.Equal(t0.Add(time.Hour)) {
		t.Fatalf("NextDue after the run = %v, %v, %v; want %v", next, ok, err, t0.Add(time.Hour))
	}
	// By name it runs whenever it is asked to.
	if _, err := f.runner.Run(ctx, "tickets", RunOptions{}); err != nil {
		t.Fatalf("run by name: %v", err)
	}
	// A job with no schedule is never due.
	if _, err := f.runner.Run(ctx, "deals", RunOptions{Due: true}); err == nil || !strings.Contains(err.Error(), "no schedule") {
		t.Fatalf("due run of an unscheduled job = %v", err)
	}
}

func TestCancelledRunDoesNotCountForDue(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	if _, err := f.log.Record(ctx, activitylog.Activity{Type: activitylog.TypeExecution, JobID: "job_1", ConnectionID: "conn_1",
		Status: activitylog.StatusCancelled, StartedAt: t0}); err != nil {
		t.Fatal(err)
	}
	if due, err := f.runner.Due(ctx); err != nil || strings.Join(due, " ") != "tickets" {
		t.Fatalf("after a cancelled run (a worker that stopped): due = %v, %v; want tickets", due, err)
	}
	if _, err := f.runner.Run(ctx, "tickets", RunOptions{Due: true}); err != nil {
		t.Fatalf("due run after a cancelled one: %v", err)
	}
}

// A checkpoint set while a run is in progress (`jobs edit --checkpoint`)
// wins: the run keeps its output, does not overwrite it, and says so; with
// no checkpoint at the start and one set meanwhile, the same. A run whose
// checkpoint did not move saves its own.
func TestCheckpointSetDuringARunIsKept(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	for _, start := range []string{"", "2026-11-30T00:00:00Z"} {
		f := newFixture(t)
		if start != "" {
			if err := f.log.Store.SetCheckpoint(ctx, "job_1", start); err != nil {
				t.Fatal(err)
			}
		}
		f.src.records, f.src.checkpoint = records(2), "2026-12-01T09:01:00Z"
		f.log.beforeSetCheckpoint = func() {
			if err := f.log.Store.SetCheckpoint(ctx, "job_1", "2026-01-01T00:00:00Z"); err != nil {
				t.Error(err)
			}
		}
		if _, err := f.runner.Run(ctx, "tickets", RunOptions{}); err != nil {
			t.Fatal(err)
		}
		if got, _, _ := f.log.Store.Checkpoint(ctx, "job_1"); got != "2026-01-01T00:00:00Z" {
			t.Errorf("start %q: checkpoint %q, want the one set during the run", start, got)
		}
		if len(f.warns) != 1 || !strings.Contains(f.warns[0], "was changed during this run") {
			t.Errorf("start %q: warnings %q", start, f.warns)
		}
		if n := lines(t, f.dest); n != 2 {
			t.Errorf("start %q: output %d records, want 2", start, n)
		}
		// The next run starts from it and, unhindered, saves its own.
		f.log.beforeSetCheckpoint = nil
		if _, err := f.runner.Run(ctx, "tickets", RunOptions{}); err != nil {
			t.Fatal(err)
		}
		if got := f.src.last().Since; got != "2026-01-01T00:00:00Z" {
			t.Errorf("start %q: next run since %q", start, got)
		}
		if got, _, _ := f.log.Store.Checkpoint(ctx, "job_1"); got != "2026-12-01T09:01:00Z" {
			t.Errorf("start %q: after the next run the checkpoint is %q", start, got)
		}
	}
}
