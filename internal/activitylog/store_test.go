package activitylog

import (
	"bufio"
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestOpenCreatesPrivateWALDatabase(t *testing.T) {
	t.Parallel()
	s, path := newStore(t)
	if _, err := s.Record(context.Background(), Activity{Type: TypeUpdate, Action: ActionCreate, ConnectionID: "c1"}); err != nil {
		t.Fatal(err)
	}
	if runtime.GOOS != "windows" {
		for p, want := range map[string]os.FileMode{
			filepath.Dir(path): 0o700, path: 0o600, path + "-wal": 0o600, path + "-shm": 0o600,
		} {
			fi, err := os.Stat(p)
			if err != nil {
				t.Fatal(err)
			}
			if got := fi.Mode().Perm(); got != want {
				t.Errorf("%s: mode %o, want %o", p, got, want)
			}
		}
	}
	var mode string
	var version, app int
	if err := s.db.QueryRow(`PRAGMA journal_mode`).Scan(&mode); err != nil || mode != "wal" {
		t.Errorf("journal_mode = %q, %v; want wal", mode, err)
	}
	if err := s.db.QueryRow(`PRAGMA user_version`).Scan(&version); err != nil || version != len(migrations) {
		t.Errorf("user_version = %d, %v; want %d", version, err, len(migrations))
	}
	if err := s.db.QueryRow(`PRAGMA application_id`).Scan(&app); err != nil || app != applicationID {
		t.Errorf("application_id = %#x, %v", app, err)
	}
	var timeout int
	if err := s.db.QueryRow(`PRAGMA busy_timeout`).Scan(&timeout); err != nil || timeout != int(busyTimeout.Milliseconds()) {
		t.Errorf("busy_timeout = %d, %v", timeout, err)
	}

	// Reopening keeps the data and migrates nothing.
	s.Close()
	s2, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	got, err := s2.List(context.Background(), Filter{})
	if err != nil || len(got) != 1 {
		t.Fatalf("after reopen: %d activities, %v", len(got), err)
	}
}

func TestOpenTightensLooseFileAndAcceptsEmptyFile(t *testing.T) {
	t.Parallel()
	if runtime.GOOS == "windows" {
		t.Skip("no Unix modes on Windows")
	}
	path := filepath.Join(t.TempDir(), "state.db")
	if err := os.WriteFile(path, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, 0o644); err != nil {
		t.Fatal(err)
	}
	s, err := Open(path)
	if err != nil {
		t.Fatalf("empty file: %v", err)
	}
	s.Close()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("mode %o, want 600", fi.Mode().Perm())
	}
}

func TestOpenPathWithURICharacters(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "a b?c#d%20e", FileName)
	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	if _, err := os.Stat(path); err != nil {
		t.Fatalf("database not at %s: %v", path, err)
	}
}

func TestOpenGarbageFileIsCorruptAndUntouched(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	path := filepath.Join(dir, FileName)
	garbage := bytes.Repeat([]byte("this is not a SQLite database\n"), 500)
	if err := os.WriteFile(path, garbage, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, 0o644); err != nil { // whatever the umask
		t.Fatal(err)
	}
	s, err := Open(path)
	if err == nil {
		s.Close()
		t.Fatal("Open accepted a garbage file")
	}
	var ce *CorruptError
	if !errors.As(err, &ce) || ce.Path != path {
		t.Fatalf("error %v (%T), want a *CorruptError for %s", err, err, path)
	}
	if !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), "left untouched") {
		t.Errorf("error does not name the file: %v", err)
	}
	after, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("the file is gone: %v", err)
	}
	if !bytes.Equal(after, garbage) {
		t.Error("the file was modified")
	}
	if fi, err := os.Stat(path); err == nil && runtime.GOOS != "windows" && fi.Mode().Perm() != 0o644 {
		t.Errorf("the file's mode changed to %o", fi.Mode().Perm())
	}
}

func TestTruncatedDatabaseIsCorrupt(t *testing.T) {
	t.Parallel()
	s, path := newStore(t)
	ctx := context.Background()
	tx, err := s.db.Begin()
	if err != nil {
		t.Fatal(err)
	}
	for i := range 800 {
		a := Activity{Type: TypeUpdate, Action: ActionEdit, ConnectionID: fmt.Sprint("c", i%7), Message: strings.Repeat("x", 300)}
		args, err := s.insertArgs(&a)
		if err == nil {
			_, err = tx.Exec(insertActivity, args...)
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	s.Close() // folds the WAL into the file
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(path, fi.Size()/2); err != nil {
		t.Fatal(err)
	}
	s2, err := Open(path)
	if err == nil {
		defer s2.Close()
		_, err = s2.List(ctx, Filter{})
	}
	var ce *CorruptError
	if !errors.As(err, &ce) || !strings.Contains(err.Error(), path) {
		t.Fatalf("error %v (%T), want a *CorruptError naming %s", err, err, path)
	}
	if fi2, err := os.Stat(path); err != nil || fi2.Size() != fi.Size()/2 {
		t.Errorf("the file changed: %v", err)
	}
}

func TestOpenRefusesNewerSchemaAndForeignDatabase(t *testing.T) {
	t.Parallel()
	s, path := newStore(t)
	if _, err := s.db.Exec(`PRAGMA user_version = 99`); err != nil {
		t.Fatal(err)
	}
	s.Close()
	_, err := Open(path)
	var se *SchemaError
	if !errors.As(err, &se) || !strings.Contains(err.Error(), "schema version 99") {
		t.Errorf("newer schema: %v", err)
	}

	foreign := filepath.Join(t.TempDir(), "other.db")
	db, err := sql.Open("sqlite", foreign)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`CREATE TABLE notes (body TEXT)`); err != nil {
		t.Fatal(err)
	}
	db.Close()
	_, err = Open(foreign)
	if !errors.As(err, &se) || !strings.Contains(err.Error(), "not a connctl activity log") {
		t.Errorf("foreign database: %v", err)
	}
}

func TestRecordUpdate(t *testing.T) {
	t.Parallel()
	c := &clock{t0}
	s, _ := newStore(t, WithClock(c.Now))
	ctx := context.Background()
	id, err := s.Record(ctx, Activity{
		Type: TypeUpdate, Action: ActionEdit, ConnectionID: "c1", ConnectionName: "CRM-Prod", Who: "ada",
		Changes: []Change{
			{Field: "domain", Old: "a.freshdesk.com", New: "b.freshdesk.com"},
			{Field: "api_key", Old: "old-key", New: "new-key"},       // named like a secret
			{Field: "login", Old: "hunter2", New: "x", Secret: true}, // marked secret
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	got, err := s.List(ctx, Filter{})
	if err != nil {
		t.Fatal(err)
	}
	want := Activity{
		ID: id, Type: TypeUpdate, Action: ActionEdit, ConnectionID: "c1", ConnectionName: "CRM-Prod", Who: "ada",
		Status: StatusSucceeded, StartedAt: t0, FinishedAt: &t0, PID: os.Getpid(), Host: s.host,
		Changes: []Change{
			{Field: "domain", Old: "a.freshdesk.com", New: "b.freshdesk.com"},
			{Field: "api_key", Secret: true},
			{Field: "login", Secret: true},
		},
	}
	if len(got) != 1 || !equalActivity(got[0], want) {
		t.Fatalf("got %+v\nwant %+v", got, want)
	}
}

func TestRecordRejectsInvalid(t *testing.T) {
	t.Parallel()
	s, _ := newStore(t)
	ctx := context.Background()
	for name, a := range map[string]Activity{
		"no type":              {Action: ActionEdit, ConnectionID: "c"},
		"unknown type":         {Type: "job", Action: ActionEdit, ConnectionID: "c"},
		"update action":        {Type: TypeUpdate, Action: "rename", ConnectionID: "c"},
		"update target":        {Type: TypeUpdate, Action: ActionEdit},
		"update running":       {Type: TypeUpdate, Action: ActionEdit, ConnectionID: "c", Status: StatusRunning},
		"execution action":     {Type: TypeExecution, Action: ActionEdit, JobID: "j"},
		"execution job":        {Type: TypeExecution},
		"stale stored":         {Type: TypeExecution, JobID: "j", Status: StatusStale},
		"unknown reason":       {Type: TypeExecution, JobID: "j", Status: StatusFailed, Reason: "boom"},
		"reason on success":    {Type: TypeExecution, JobID: "j", Status: StatusSucceeded, Reason: ReasonNetwork},
		"negative counts":      {Type: TypeExecution, JobID: "j", Records: -1},
		"running with finish":  {Type: TypeExecution, JobID: "j", FinishedAt: &t0},
		"change without field": {Type: TypeUpdate, Action: ActionEdit, ConnectionID: "c", Changes: []Change{{New: "x"}}},
	} {
		if _, err := s.Record(ctx, a); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	if got, _ := s.List(ctx, Filter{}); len(got) != 0 {
		t.Errorf("%d activities stored", len(got))
	}
}

func TestRecordCleansMessage(t *testing.T) {
	t.Parallel()
	s, _ := newStore(t)
	ctx := context.Background()
	msg := "GET /tickets failed:\n401 Unauthorized\tAuthorization: Bearer sk_live_abcdefghijkl " + strings.Repeat("é", 600)
	id, err := s.Record(ctx, Activity{Type: TypeExecution, JobID: "j", Status: StatusFailed, Reason: ReasonAuth, Message: msg})
	if err != nil {
		t.Fatal(err)
	}
	got, err := s.List(ctx, Filter{})
	if err != nil || len(got) != 1 || got[0].ID != id {
		t.Fatalf("%v %v", got, err)
	}
	m := got[0].Message
	if strings.ContainsAny(m, "\n\t") || strings.Contains(m, "sk_live") {
		t.Errorf("message not cleaned: %q", m)
	}
	if !strings.HasPrefix(m, "GET /tickets failed: 401 Unauthorized Authorization: [redacted] éé") {
		t.Errorf("message = %q", m)
	}
	if n := len([]rune(m)); n != MaxMessage || !strings.HasSuffix(m, "…") {
		t.Errorf("message has %d characters, ends %q; want %d ending with …", n, m[len(m)-5:], MaxMessage)
	}
	if got[0].FinishedAt == nil || !got[0].FinishedAt.Equal(got[0].StartedAt) {
		t.Errorf("a failed-at-once execution finishes when it starts: %v", got[0].FinishedAt)
	}
}

func TestBeginRunAndFinish(t *testing.T) {
	t.Parallel()
	c := &clock{t0}
	s, _ := newStore(t, WithClock(c.Now))
	ctx := context.Background()
	run := Activity{JobID: "j1", JobName: "tickets", ConnectionID: "c1", ConnectionName: "support", Who: "ada"}
	id, err := s.BeginRun(ctx, run)
	if err != nil {
		t.Fatal(err)
	}
	_, err = s.BeginRun(ctx, run)
	var re *RunningError
	if !errors.As(err, &re) || re.ID != id || re.PID != os.Getpid() || !re.StartedAt.Equal(t0) {
		t.Fatalf("second run: %v, want a *RunningError naming activity %d", err, id)
	}
	for _, want := range []string{fmt.Sprintf("activity %d", id), fmt.Sprintf("pid %d", os.Getpid()), "tickets", "2026-03-01T12:00:00Z"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not say %q", err, want)
		}
	}
	// Another job is not blocked.
	if _, err := s.BeginRun(ctx, Activity{JobID: "j2", ConnectionID: "c1"}); err != nil {
		t.Fatalf("other job: %v", err)
	}

	c.t = t0.Add(90 * time.Second)
	if err := s.Finish(ctx, id, StatusPartiallySucceeded, ReasonRateLimit, "429 after 5 retries", Counts{Records: 10, Bytes: 2048, Pages: 3, Retries: 5}); err != nil {
		t.Fatal(err)
	}
	got, err := s.List(ctx, Filter{JobID: "j1"})
	if err != nil || len(got) != 1 {
		t.Fatalf("%v %v", got, err)
	}
	fin := t0.Add(90 * time.Second)
	want := Activity{ID: id, Type: TypeExecution, Action: ActionRun, JobID: "j1", JobName: "tickets", ConnectionID: "c1", ConnectionName: "support",
		Who: "ada", Status: StatusPartiallySucceeded, Reason: ReasonRateLimit, Message: "429 after 5 retries",
		StartedAt: t0, FinishedAt: &fin, Records: 10, Bytes: 2048, Pages: 3, Retries: 5, PID: os.Getpid(), Host: s.host}
	if !equalActivity(got[0], want) {
		t.Errorf("got %+v\nwant %+v", got[0], want)
	}

	// Finished: the lock is free, and finishing again is refused.
	if _, err := s.BeginRun(ctx, run); err != nil {
		t.Errorf("after Finish: %v", err)
	}
	if err := s.Finish(ctx, id, StatusFailed, ReasonNetwork, "", Counts{}); !errors.Is(err, ErrFinished) {
		t.Errorf("finish twice: %v", err)
	}
	if err := s.Finish(ctx, 999, StatusFailed, "", "", Counts{}); !errors.Is(err, ErrNotFound) {
		t.Errorf("finish unknown: %v", err)
	}
	for name, f := range map[string]func() error{
		"running": func() error { return s.Finish(ctx, id, StatusRunning, "", "", Counts{}) },
		"stale":   func() error { return s.Finish(ctx, id, StatusStale, "", "", Counts{}) },
		"reason":  func() error { return s.Finish(ctx, id, StatusSucceeded, ReasonAuth, "", Counts{}) },
		"counts":  func() error { return s.Finish(ctx, id, StatusSucceeded, "", "", Counts{Pages: -1}) },
		"an update": func() error {
			_, err := s.BeginRun(ctx, Activity{Type: TypeUpdate, Action: ActionEdit, JobID: "j"})
			return err
		},
	} {
		if err := f(); err == nil || errors.Is(err, ErrFinished) {
			t.Errorf("%s: %v, want a validation error", name, err)
		}
	}
}

func TestBeginRunStaleRuns(t *testing.T) {
	t.Parallel()
	c := &clock{t0}
	s, _ := newStore(t, WithClock(c.Now))
	ctx := context.Background()
	dead := deadPID(t)

	// A run whose process died unfinished does not block, and reads as stale.
	staleID, err := s.BeginRun(ctx, Activity{JobID: "j1", ConnectionID: "c1", PID: dead})
	if err != nil {
		t.Fatal(err)
	}
	c.t = t0.Add(time.Minute)
	liveID, err := s.BeginRun(ctx, Activity{JobID: "j1", ConnectionID: "c1"})
	if err != nil {
		t.Fatalf("a stale run blocked: %v", err)
	}
	statuses := func(f Filter) map[int64]Status {
		t.Helper()
		got, err := s.List(ctx, f)
		if err != nil {
			t.Fatal(err)
		}
		m := map[int64]Status{}
		for _, a := range got {
			m[a.ID] = a.Status
		}
		return m
	}
	if got := statuses(Filter{JobID: "j1"}); got[staleID] != StatusStale || got[liveID] != StatusRunning {
		t.Errorf("statuses %v, want %d stale and %d running", got, staleID, liveID)
	}
	if got := statuses(Filter{Status: StatusStale}); len(got) != 1 || got[staleID] != StatusStale {
		t.Errorf("Status stale: %v", got)
	}
	if got := statuses(Filter{Status: StatusRunning}); len(got) != 1 || got[liveID] != StatusRunning {
		t.Errorf("Status running: %v", got)
	}
	if got := statuses(Filter{FailedOnly: true}); len(got) != 1 || got[staleID] != StatusStale {
		t.Errorf("FailedOnly: %v", got)
	}

	// A run on another host cannot be checked, so it blocks.
	if _, err := s.BeginRun(ctx, Activity{JobID: "j2", PID: dead, Host: "elsewhere.example"}); err != nil {
		t.Fatal(err)
	}
	var re *RunningError
	if _, err := s.BeginRun(ctx, Activity{JobID: "j2"}); !errors.As(err, &re) || re.Host != "elsewhere.example" {
		t.Errorf("run on another host: %v", err)
	}

	// A live PID that now belongs to another process (its start differs).
	reusedID, err := s.BeginRun(ctx, Activity{JobID: "j3"})
	if err != nil {
		t.Fatal(err)
	}
	if runtime.GOOS == "linux" {
		if _, err := s.db.Exec(`UPDATE activities SET proc_start = 'another-boot/1' WHERE id = ?`, reusedID); err != nil {
			t.Fatal(err)
		}
		if _, err := s.BeginRun(ctx, Activity{JobID: "j3"}); err != nil {
			t.Errorf("a reused PID blocked: %v", err)
		}
	}
}

func TestBeginRunAcrossProcesses(t *testing.T) {
	t.Parallel()
	_, path := newStore(t)
	const n = 5
	type child struct {
		cmd   *exec.Cmd
		stdin io.WriteCloser
		out   *bufio.Reader
	}
	var children []child
	for i := range n {
		cmd := helperCmd(t, "beginrun", path, fmt.Sprint(i))
		stdin, err := cmd.StdinPipe()
		if err != nil {
			t.Fatal(err)
		}
		stdout, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		children = append(children, child{cmd, stdin, bufio.NewReader(stdout)})
	}
	for _, c := range children {
		io.WriteString(c.stdin, "go\n")
	}
	var oks, refusals []string
	for _, c := range children {
		line, err := c.out.ReadString('\n')
		if err != nil {
			t.Fatal(err)
		}
		if strings.HasPrefix(line, "ok ") {
			oks = append(oks, line)
		} else {
			refusals = append(refusals, line)
		}
	}
	if len(oks) != 1 {
		t.Fatalf("%d runs began, want 1: %q %q", len(oks), oks, refusals)
	}
	var id, pid int
	fmt.Sscanf(oks[0], "ok %d %d", &id, &pid)
	for _, r := range refusals {
		if !strings.Contains(r, fmt.Sprintf("activity %d, pid %d", id, pid)) {
			t.Errorf("refusal %q does not name activity %d of pid %d", r, id, pid)
		}
	}
	for _, c := range children {
		c.stdin.Close()
		if err := c.cmd.Wait(); err != nil {
			t.Errorf("child: %v", err)
		}
	}
	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	got, err := s.List(context.Background(), Filter{JobID: "nightly"})
	if err != nil || len(got) != 1 || got[0].Status != StatusSucceeded || got[0].PID != pid {
		t.Fatalf("activities %+v, %v", got, err)
	}
}

func TestConcurrentGoroutinesLoseNothing(t *testing.T) {
	t.Parallel()
	s, _ := newStore(t)
	ctx := context.Background()
	const goroutines, each = 20, 50
	var wg sync.WaitGroup
	errs := make(chan error, goroutines)
	for g := range goroutines {
		wg.Go(func() {
			for i := range each {
				a := Activity{Type: TypeUpdate, Action: ActionEdit, ConnectionID: fmt.Sprint("c", g), Message: fmt.Sprintf("%d/%d", g, i)}
				if i%5 == 0 { // some runs too, with their own lock per job
					a = Activity{JobID: fmt.Sprintf("job-%d-%d", g, i), ConnectionID: fmt.Sprint("c", g), Message: fmt.Sprintf("%d/%d", g, i)}
					id, err := s.BeginRun(ctx, a)
					if err == nil {
						err = s.Finish(ctx, id, StatusSucceeded, "", fmt.Sprintf("%d/%d", g, i), Counts{Records: 1})
					}
					if err != nil {
						errs <- err
						return
					}
					continue
				}
				if _, err := s.Record(ctx, a); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	checkAll(t, s, goroutines, each, func(a Activity) string { return a.Message })
}

func TestConcurrentProcessesLoseNothing(t *testing.T) {
	t.Parallel()
	// A path nobody has opened yet: the children race to create it too.
	path := filepath.Join(t.TempDir(), "new", FileName)
	const procs, each = 5, 200
	var cmds []*exec.Cmd
	var stdins []io.WriteCloser
	for p := range procs {
		cmd := helperCmd(t, "record", path, fmt.Sprint(p), fmt.Sprintf("%s=%d", countEnv, each))
		stdin, err := cmd.StdinPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		cmds, stdins = append(cmds, cmd), append(stdins, stdin)
	}
	for _, w := range stdins {
		io.WriteString(w, "go\n")
		w.Close()
	}
	for _, cmd := range cmds {
		if err := cmd.Wait(); err != nil {
			t.Fatalf("child: %v", err)
		}
	}
	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	checkAll(t, s, procs, each, func(a Activity) string { return a.Message })
	pids := map[int]bool{}
	got, _ := s.List(context.Background(), Filter{})
	for _, a := range got {
		pids[a.PID] = true
	}
	if len(pids) != procs {
		t.Errorf("activities from %d processes, want %d", len(pids), procs)
	}
}

// checkAll checks that the store holds exactly workers×each activities whose
// keys are "w/i", once each, with distinct IDs.
func checkAll(t *testing.T, s *Store, workers, each int, key func(Activity) string) {
	t.Helper()
	got, err := s.List(context.Background(), Filter{})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != workers*each {
		t.Fatalf("%d activities, want %d", len(got), workers*each)
	}
	seen, ids := map[string]bool{}, map[int64]bool{}
	for _, a := range got {
		if seen[key(a)] || ids[a.ID] {
			t.Fatalf("duplicate %q / %d", key(a), a.ID)
		}
		seen[key(a)], ids[a.ID] = true, true
	}
	for w := range workers {
		for i := range each {
			if k := fmt.Sprintf("%d/%d", w, i); !seen[k] {
				t.Fatalf("lost %s", k)
			}
		}
	}
}

// fixture stores a small, known history and returns the IDs by name.
func fixture(t *testing.T, s *Store, dead int) map[string]int64 {
	t.Helper()
	ctx := context.Background()
	ids := map[string]int64{}
	add := func(name string, a Activity) {
		t.Helper()
		id, err := s.Record(ctx, a)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		ids[name] = id
	}
	at := func(h int) time.Time { return t0.Add(time.Duration(h) * time.Hour) }
	add("old-failed", Activity{Type: TypeExecution, JobID: "j1", ConnectionID: "c1", Status: StatusFailed, Reason: ReasonNetwork, StartedAt: at(-48)})
	add("create-c1", Activity{Type: TypeUpdate, Action: ActionCreate, ConnectionID: "c1", StartedAt: at(-30)})
	add("ok", Activity{Type: TypeExecution, JobID: "j1", ConnectionID: "c1", Status: StatusSucceeded, StartedAt: at(-20)})
	add("failed-c1", Activity{Type: TypeExecution, JobID: "j1", ConnectionID: "c1", Status: StatusFailed, Reason: ReasonAuth, StartedAt: at(-10)})
	add("partial-c2", Activity{Type: TypeExecution, JobID: "j2", ConnectionID: "c2", Status: StatusPartiallySucceeded, Reason: ReasonRateLimit, StartedAt: at(-9)})
	add("cancelled-c2", Activity{Type: TypeExecution, JobID: "j2", ConnectionID: "c2", Status: StatusCancelled, StartedAt: at(-8)})
	add("failed-c2", Activity{Type: TypeExecution, JobID: "j2", ConnectionID: "c2", Status: StatusFailed, Reason: ReasonSourceError, StartedAt: at(-7)})
	add("denied-c3", Activity{Type: TypeUpdate, Action: ActionAuthorize, ConnectionID: "c3", Status: StatusFailed, Reason: ReasonAuth, StartedAt: at(-6)})
	add("stale-c1", Activity{Type: TypeExecution, JobID: "j3", ConnectionID: "c1", PID: dead, StartedAt: at(-5)})
	add("running-c2", Activity{Type: TypeExecution, JobID: "j4", ConnectionID: "c2", StartedAt: at(-1)})
	add("edit-j1", Activity{Type: TypeUpdate, Action: ActionEdit, JobID: "j1", ConnectionID: "c1", StartedAt: at(-1)}) // same time: higher ID first
	return ids
}

func TestList(t *testing.T) {
	t.Parallel()
	s, _ := newStore(t, WithClock((&clock{t0}).Now))
	ids := fixture(t, s, deadPID(t))
	name := map[int64]string{}
	for n, id := range ids {
		name[id] = n
	}
	since := t0.Add(-24 * time.Hour)
	for _, tc := range []struct {
		f    Filter
		want string
	}{
		{Filter{}, "edit-j1 running-c2 stale-c1 denied-c3 failed-c2 cancelled-c2 partial-c2 failed-c1 ok create-c1 old-failed"},
		{Filter{Limit: 3}, "edit-j1 running-c2 stale-c1"},
		{Filter{ConnectionID: "c2"}, "running-c2 failed-c2 cancelled-c2 partial-c2"},
		{Filter{JobID: "j1"}, "edit-j1 failed-c1 ok old-failed"},
		{Filter{Type: TypeUpdate}, "edit-j1 denied-c3 create-c1"},
		{Filter{Type: TypeExecution, Limit: 2}, "running-c2 stale-c1"},
		{Filter{Status: StatusFailed}, "denied-c3 failed-c2 failed-c1 old-failed"},
		{Filter{Status: StatusCancelled}, "cancelled-c2"},
		{Filter{Status: StatusRunning}, "running-c2"},
		{Filter{Status: StatusStale}, "stale-c1"},
		{Filter{FailedOnly: true}, "stale-c1 denied-c3 failed-c2 failed-c1 old-failed"},
		{Filter{FailedOnly: true, Since: since}, "stale-c1 denied-c3 failed-c2 failed-c1"},
		{Filter{FailedOnly: true, Since: since, Limit: 2}, "stale-c1 denied-c3"},
		{Filter{FailedOnly: true, Since: since, ConnectionID: "c1"}, "stale-c1 failed-c1"},
		{Filter{FailedOnly: true, Status: StatusStale}, "stale-c1"},
		{Filter{FailedOnly: true, Status: StatusSucceeded}, ""},
		{Filter{Since: t0.Add(-2 * time.Hour)}, "edit-j1 running-c2"},
		{Filter{ConnectionID: "nope"}, ""},
	} {
		got, err := s.List(context.Background(), tc.f)
		if err != nil {
			t.Errorf("%+v: %v", tc.f, err)
			continue
		}
		var names []string
		for _, a := range got {
			names = append(names, name[a.ID])
		}
		if g := strings.Join(names, " "); g != tc.want {
			t.Errorf("%+v:\n got %s\nwant %s", tc.f, g, tc.want)
		}
		if got == nil {
			t.Errorf("%+v: nil slice, want empty", tc.f)
		}
	}
	for _, f := range []Filter{{Status: "weird"}, {Type: "weird"}} {
		if _, err := s.List(context.Background(), f); err == nil {
			t.Errorf("%+v accepted", f)
		}
	}
}

func TestFailedSince(t *testing.T) {
	t.Parallel()
	s, _ := newStore(t, WithClock((&clock{t0}).Now))
	fixture(t, s, deadPID(t))
	ctx := context.Background()
	got, err := s.FailedSince(ctx, t0.Add(-24*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	// c1: failed-c1 and the stale run; c2: failed-c2 (not the partial or
	// cancelled one); c3: the denied authorization.
	if want := map[string]int{"c1": 2, "c2": 1, "c3": 1}; !maps.Equal(got, want) {
		t.Errorf("24h: %v, want %v", got, want)
	}
	got, err = s.FailedSince(ctx, t0.Add(-72*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if want := map[string]int{"c1": 3, "c2": 1, "c3": 1}; !maps.Equal(got, want) {
		t.Errorf("72h: %v, want %v", got, want)
	}
	got, err = s.FailedSince(ctx, t0)
	if err != nil || got == nil || len(got) != 0 {
		t.Errorf("none: %v %v", got, err)
	}
}

func TestPrune(t *testing.T) {
	t.Parallel()
	s, _ := newStore(t, WithClock((&clock{t0}).Now))
	ctx := context.Background()
	dead := deadPID(t)
	fixture(t, s, dead)
	oldLive, err := s.Record(ctx, Activity{Type: TypeExecution, JobID: "j9", StartedAt: t0.Add(-100 * time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	oldStale, err := s.Record(ctx, Activity{Type: TypeExecution, JobID: "j8", PID: dead, StartedAt: t0.Add(-100 * time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.SetCheckpoint(ctx, "j1", "2026-02-28T00:00:00Z"); err != nil {
		t.Fatal(err)
	}
	// Older than 9 hours: old-failed, create-c1, ok, failed-c1, partial-c2 and
	// the old stale run; the old live run stays.
	n, err := s.Prune(ctx, t0.Add(-9*time.Hour+time.Minute))
	if err != nil || n != 6 {
		t.Fatalf("pruned %d, %v; want 6", n, err)
	}
	got, err := s.List(ctx, Filter{})
	if err != nil {
		t.Fatal(err)
	}
	var kept []int64
	for _, a := range got {
		kept = append(kept, a.ID)
		if a.StartedAt.Before(t0.Add(-9*time.Hour)) && a.ID != oldLive {
			t.Errorf("kept old activity %+v", a)
		}
		if a.ID == oldStale {
			t.Error("kept the old stale run")
		}
	}
	if len(got) != 7 || !slices.Contains(kept, oldLive) {
		t.Errorf("kept %v", kept)
	}
	if _, ok, _ := s.Checkpoint(ctx, "j1"); !ok {
		t.Error("prune deleted a checkpoint")
	}
	if n, err := s.Prune(ctx, t0.Add(-9*time.Hour)); err != nil || n != 0 {
		t.Errorf("second prune: %d, %v", n, err)
	}
}

func TestPruneInBatches(t *testing.T) {
	t.Parallel()
	s, _ := newStore(t)
	s.pruneBatch = 3
	ctx := context.Background()
	const total = 3*2 + 2
	for i := range total {
		if _, err := s.Record(ctx, Activity{Type: TypeUpdate, Action: ActionEdit, ConnectionID: "c", StartedAt: t0.Add(time.Duration(i) * time.Second)}); err != nil {
			t.Fatal(err)
		}
	}
	n, err := s.Prune(ctx, t0.Add(time.Duration(total-1)*time.Second))
	if err != nil || n != total-1 {
		t.Fatalf("pruned %d, %v; want %d", n, err, total-1)
	}
	if got, err := s.List(ctx, Filter{}); err != nil || len(got) != 1 {
		t.Fatalf("kept %d, %v", len(got), err)
	}
}

func TestCheckpoints(t *testing.T) {
	t.Parallel()
	s, path := newStore(t)
	ctx := context.Background()
	if v, ok, err := s.Checkpoint(ctx, "j1"); err != nil || ok || v != "" {
		t.Fatalf("no checkpoint: %q %v %v", v, ok, err)
	}
	for _, v := range []string{"2026-03-01T00:00:00Z", "2026-03-02T00:00:00Z", ""} {
		if err := s.SetCheckpoint(ctx, "j1", v); err != nil {
			t.Fatal(err)
		}
		if got, ok, err := s.Checkpoint(ctx, "j1"); err != nil || !ok || got != v {
			t.Fatalf("checkpoint = %q %v %v, want %q", got, ok, err, v)
		}
	}
	if err := s.SetCheckpoint(ctx, "j2", "cursor-2"); err != nil {
		t.Fatal(err)
	}
	if err := s.SetCheckpoint(ctx, "", "x"); err == nil {
		t.Error("empty job ID accepted")
	}
	// Another process (here another Store) sees it.
	s2, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	if got, ok, err := s2.Checkpoint(ctx, "j2"); err != nil || !ok || got != "cursor-2" {
		t.Errorf("from another store: %q %v %v", got, ok, err)
	}
	if err := s2.DeleteCheckpoint(ctx, "j2"); err != nil {
		t.Fatal(err)
	}
	if _, ok, err := s.Checkpoint(ctx, "j2"); err != nil || ok {
		t.Errorf("after delete: %v %v", ok, err)
	}
	if err := s.DeleteCheckpoint(ctx, "j2"); err != nil {
		t.Errorf("delete twice: %v", err)
	}
}

func TestClosedStoreErrors(t *testing.T) {
	t.Parallel()
	s, _ := newStore(t)
	s.Close()
	if _, err := s.List(context.Background(), Filter{}); err == nil {
		t.Error("List on a closed store succeeded")
	}
}

// TestQueryPlans pins the index each query uses, so that a schema change
// cannot quietly turn them into table scans or full sorts.
func TestQueryPlans(t *testing.T) {
	t.Parallel()
	s, _ := newStore(t)
	const list = "SELECT " + activityColumns + " FROM activities "
	const newest = " ORDER BY started_at DESC, id DESC LIMIT 50"
	for _, tc := range []struct {
		query string
		want  string
	}{
		{list + newest, "SCAN activities USING INDEX activities_started"},
		{list + "WHERE type = 'update'" + newest, "SCAN activities USING INDEX activities_started"},
		{list + "WHERE connection_id = 'c'" + newest, "SEARCH activities USING INDEX activities_connection (connection_id=?)"},
		{list + "WHERE connection_id = 'c' AND started_at >= 1 AND (status = 'failed')" + newest, "SEARCH activities USING INDEX activities_connection (connection_id=? AND started_at>?)"},
		{list + "WHERE job_id = 'j'" + newest, "SEARCH activities USING INDEX activities_job (job_id=?)"},
		{list + "WHERE started_at >= 1 AND (status = 'failed')" + newest, "SEARCH activities USING INDEX activities_status (status=? AND started_at>?); USE TEMP B-TREE FOR LAST TERM OF ORDER BY"},
		{`SELECT connection_id, count(*) FROM activities WHERE status = 'failed' AND started_at >= 1 AND connection_id != '' GROUP BY connection_id`,
			"SEARCH activities USING COVERING INDEX activities_status (status=? AND started_at>?)"},
		{`SELECT id, connection_id, job_name, started_at, pid, host, proc_start FROM activities WHERE status = 'running' AND job_id = 'j' ORDER BY id`, "SEARCH activities USING INDEX activities_running (job_id=?)"},
		{`DELETE FROM activities WHERE id IN (SELECT id FROM activities WHERE started_at < 5 AND status != 'running' LIMIT 10)`, "SEARCH activities USING INDEX activities_started (started_at<?)"},
	} {
		rows, err := s.db.Query("EXPLAIN QUERY PLAN " + tc.query)
		if err != nil {
			t.Fatal(err)
		}
		var plan []string
		for rows.Next() {
			var id, parent, notused int
			var detail string
			if err := rows.Scan(&id, &parent, &notused, &detail); err != nil {
				t.Fatal(err)
			}
			plan = append(plan, detail)
		}
		rows.Close()
		p := strings.Join(plan, "; ")
		if !strings.Contains(p, tc.want) || strings.Contains(p, "TEMP B-TREE FOR ORDER BY") {
			t.Errorf("%s\nplan: %s\nwant: %s", tc.query, p, tc.want)
		}
	}
}

func equalActivity(a, b Activity) bool {
	if (a.FinishedAt == nil) != (b.FinishedAt == nil) || (a.FinishedAt != nil && !a.FinishedAt.Equal(*b.FinishedAt)) {
		return false
	}
	if !a.StartedAt.Equal(b.StartedAt) || !slices.Equal(a.Changes, b.Changes) {
		return false
	}
	a.FinishedAt, b.FinishedAt, a.Changes, b.Changes = nil, nil, nil, nil
	a.StartedAt, b.StartedAt = time.Time{}, time.Time{}
	return reflect.DeepEqual(a, b)
}
