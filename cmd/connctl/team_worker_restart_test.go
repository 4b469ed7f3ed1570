package main

import (
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/connctl/connctl/internal/testpeer/postgres"
)

// lockedLog is a writer a test may read while a child process writes it.
type lockedLog struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *lockedLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedLog) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// TestTeamWorkerPostgresRestart keeps one long-running `connctl worker`
// (the real binary) polling a team store whose PostgreSQL goes down for a
// few polls and comes back: the worker does not exit, says once that the
// store is unreachable (not at every poll; no secret), says when it is back,
// and runs a job created then, with no restart and no repair.
func TestTeamWorkerPostgresRestart(t *testing.T) {
	srv := postgres.Start(t)
	url := srv.NewDatabase(t)
	fd := startFreshdesk()
	t.Cleanup(fd.srv.Close)
	a := teamCLI(t, url)
	out := t.TempDir()
	a.ok("fd-CANARY-key", "create", "-c", "freshdesk", "-n", "support", "--set", "domain=acme", "--set", "base_url="+fd.srv.URL, "--secret-stdin", "--no-verify")
	a.ok("", "jobs", "create", "before", "--connection", "support", "--source", "tickets", "--dest", filepath.Join(out, "before.ndjson"), "--schedule", "hourly")

	cmd := exec.Command("connctl", "worker", "--poll", "1s")
	cmd.Dir, cmd.Env = a.dir, a.env
	logb := &lockedLog{}
	cmd.Stderr = logb
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		if t.Failed() {
			t.Logf("worker log:\n%s", logb.String())
		}
	})
	succeeded := func(job string) bool {
		t.Helper()
		for _, r := range executions(t, a) {
			if r.Job == job && r.Status == "succeeded" {
				return true
			}
		}
		return false
	}
	waitFor := func(job string) {
		t.Helper()
		for deadline := time.Now().Add(60 * time.Second); !succeeded(job); time.Sleep(200 * time.Millisecond) {
			select {
			case err := <-exited:
				t.Fatalf("the worker exited (%v) before %s ran", err, job)
			default:
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s has not run after 60 s", job)
			}
		}
	}
	waitFor("before")

	// Down for several polls.
	if err := srv.Halt(); err != nil {
		t.Fatal(err)
	}
	before := strings.Count(logb.String(), "\n")
	time.Sleep(4 * time.Second)
	select {
	case err := <-exited:
		t.Fatalf("the worker exited while the store was down: %v", err)
	default:
	}
	if err := srv.Resume(); err != nil {
		t.Fatal(err)
	}
	outage := strings.Split(strings.TrimSpace(logb.String()), "\n")[before:]
	errs := 0
	for _, l := range outage {
		if strings.Contains(l, "CANARY") {
			t.Errorf("a worker line holds the secret: %q", l)
		}
		if strings.Contains(l, " error: ") {
			errs++
		}
	}
	// Four failed looks, one error line (and its hint): the same error is
	// only reminded of after a minute.
	if errs != 1 || !strings.Contains(outage[0], " error: ") || !strings.Contains(outage[0], "cannot reach the team store") {
		t.Errorf("while the store was down the worker said (want one error line, then hints):\n%s", strings.Join(outage, "\n"))
	}

	// Back: a job created now runs, by the same worker process.
	a.ok("", "jobs", "create", "after", "--connection", "support", "--source", "tickets", "--dest", filepath.Join(out, "after.ndjson"), "--schedule", "hourly")
	waitFor("after")
	if !strings.Contains(logb.String(), " recovered: looks work again after ") {
		t.Error("the worker did not say that looks work again")
	}
	if recs := lines(t, filepath.Join(out, "after.ndjson")); len(recs) != 250 {
		t.Errorf("after wrote %d records, want 250", len(recs))
	}
	_ = cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-exited:
		if err != nil {
			t.Errorf("the worker stopped by SIGTERM: %v, want exit 0", err)
		}
	case <-time.After(30 * time.Second):
		t.Error("the worker did not stop within 30 s of SIGTERM")
	}
}
