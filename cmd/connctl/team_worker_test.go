package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/connctl/connctl/internal/testpeer/postgres"
)

// TestTeamWorkers runs `connctl worker` on three "machines" (three HOMEs,
// the real binary) against one PostgreSQL store (issue #14): 100 due jobs,
// created by the three machines at once, each run exactly once; then a worker killed with SIGKILL mid-run leaves a
// run that every machine reads as stale, and another machine's worker runs
// the job again, its output whole. The machines share one secret store
// (the fake keyring file of the first), as a team shares Vault.
func TestTeamWorkers(t *testing.T) {
	srv := postgres.Start(t)
	url := srv.NewDatabase(t)
	fd := startFreshdesk()
	t.Cleanup(fd.srv.Close)
	machines := []*cli{teamCLI(t, url), teamCLI(t, url), teamCLI(t, url)}
	shared := machines[0].fake
	for _, m := range machines[1:] {
		m.env = append(slices.DeleteFunc(m.env, func(kv string) bool { return strings.HasPrefix(kv, "CONNCTL_TEST_FAKE_KEYRING=") }),
			"CONNCTL_TEST_FAKE_KEYRING="+shared)
	}
	a := machines[0]
	out := t.TempDir()
	a.ok("fd-CANARY-key", "create", "-c", "freshdesk", "-n", "support", "--set", "domain=acme", "--set", "base_url="+fd.srv.URL, "--secret-stdin", "--no-verify")
	const n = 100
	// The three machines create the jobs at once, a third each.
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for k, m := range machines {
		wg.Go(func() {
			for i := k; i < n; i += len(machines) {
				name := fmt.Sprintf("j%02d", i)
				cmd := exec.Command("connctl", "jobs", "create", name, "--connection", "support", "--source", "tickets",
					"--dest", filepath.Join(out, name+".ndjson"), "--schedule", "hourly")
				cmd.Dir, cmd.Env = m.dir, m.env
				if b, err := cmd.CombinedOutput(); err != nil {
					errs <- fmt.Errorf("machine %d: jobs create %s: %v: %s", k, name, err, b)
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if t.Failed() {
		t.FailNow()
	}

	// Three workers, one per machine, until every job has run.
	var procs []*exec.Cmd
	for _, m := range machines {
		cmd := exec.Command("connctl", "worker", "--poll", "1s")
		cmd.Dir, cmd.Env = m.dir, m.env
		var logb strings.Builder
		cmd.Stderr = &logb
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		procs = append(procs, cmd)
		t.Cleanup(func() {
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
			if t.Failed() {
				t.Logf("worker log:\n%s", logb.String())
			}
		})
	}
	runs := func(c *cli) []execution { return executions(t, c) }
	deadline := time.Now().Add(4 * time.Minute)
	for {
		done := 0
		for _, r := range runs(machines[1]) {
			if r.Status == "succeeded" {
				done++
			}
		}
		if done >= n {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after 4 minutes %d of %d jobs have run", done, n)
		}
		time.Sleep(200 * time.Millisecond)
	}
	for _, p := range procs {
		_ = p.Process.Signal(syscall.SIGTERM)
	}
	for _, p := range procs {
		if err := p.Wait(); err != nil {
			t.Errorf("a worker stopped by SIGTERM: %v, want exit 0", err)
		}
	}
	per := map[string][]string{}
	for _, r := range runs(machines[2]) {
		per[r.Job] = append(per[r.Job], r.Status)
	}
	for i := range n {
		name := fmt.Sprintf("j%02d", i)
		if got := per[name]; len(got) != 1 || got[0] != "succeeded" {
			t.Errorf("job %s ran %v, want once, succeeded", name, got)
		}
		if recs := lines(t, filepath.Join(out, name+".ndjson")); len(recs) != 250 {
			t.Errorf("job %s wrote %d records, want 250", name, len(recs))
		}
	}

	// A worker killed mid-run: its run is stale on every machine, and
	// another machine's worker runs the job again.
	const key = "fd-CANARY-hangonce-team"
	a.ok(key, "create", "-c", "freshdesk", "-n", "slow", "--set", "domain=acme", "--set", "base_url="+fd.srv.URL, "--secret-stdin", "--no-verify")
	dest := filepath.Join(out, "slow.ndjson")
	a.ok("", "jobs", "create", "slow", "--connection", "slow", "--source", "tickets", "--dest", dest, "--schedule", "hourly")
	b := machines[1]
	cmd := exec.Command("connctl", "worker", "--poll", "1s")
	cmd.Dir, cmd.Env = b.dir, b.env
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		fd.mu.Lock()
		_, hung := fd.hung[key]
		fd.mu.Unlock()
		if hung {
			break
		}
		if time.Now().After(deadline) {
			_ = cmd.Process.Kill()
			t.Fatal("the slow job's request never came")
		}
	}
	for _, m := range machines {
		if got := runs(m)[0]; got.Job != "slow" || got.Status != "running" {
			t.Fatalf("while the worker runs it, a machine reads %+v, want slow running", got)
		}
	}
	_ = cmd.Process.Kill() // SIGKILL
	_ = cmd.Wait()
	for _, m := range machines {
		if got := runs(m)[0]; got.Job != "slow" || got.Status != "stale" {
			t.Fatalf("after the worker was killed, a machine reads %+v, want slow stale", got)
		}
	}
	if _, err := os.Stat(dest); err == nil {
		t.Fatal("the killed run left an output file")
	}
	c := machines[2]
	stderr := c.ok("", "worker", "--once")
	if !strings.Contains(stderr, "slow: 250 records in 3 pages") {
		t.Fatalf("worker --once on another machine: %s", stderr)
	}
	if recs := lines(t, dest); len(recs) != 250 {
		t.Errorf("the rerun wrote %d records, want 250", len(recs))
	}
	var slow []string
	for _, r := range runs(a) {
		if r.Job == "slow" {
			slow = append(slow, r.Status)
		}
	}
	if strings.Join(slow, ",") != "succeeded,stale" {
		t.Errorf("slow's runs: %v, want succeeded,stale", slow)
	}
}

// execution is a job run as `connctl activities -o json` lists it.
type execution struct {
	ID     int64  `json:"id"`
	JobID  string `json:"job_id"`
	Job    string `json:"job_name"`
	Status string `json:"status"`
	Host   string `json:"host"`
}

// executions lists every job run c's activity log holds, newest first.
func executions(t *testing.T, c *cli) []execution {
	t.Helper()
	var list []execution
	if err := json.Unmarshal([]byte(c.ok("", "activities", "--type", "execution", "--limit", "0", "-o", "json")), &list); err != nil {
		t.Fatal(err)
	}
	return list
}

// lines returns the non-empty lines of the file at path.
func lines(t *testing.T, path string) []string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return strings.FieldsFunc(string(b), func(r rune) bool { return r == '\n' })
}

// pg-start: start a PostgreSQL server for this script, create a database
// and export CONNCTL_STORE_URL (the team store).
func cmdPGStart(ts *testscript.TestScript, neg bool, args []string) {
	srv, stop, err := postgres.StartProcess()
	if err != nil {
		ts.Fatalf("start PostgreSQL: %v", err)
	}
	ts.Defer(stop)
	url, err := srv.CreateDatabase(context.Background())
	if err != nil {
		ts.Fatalf("create a database: %v", err)
	}
	ts.Setenv("CONNCTL_STORE_URL", url)
}

// machine NAME: the commands that follow run on another "machine": their
// own HOME, config, data and state folders under $WORK/NAME (the team
// store and the secret store stay the ones in the environment).
func cmdMachine(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 1 {
		ts.Fatalf("usage: machine NAME")
	}
	home := ts.MkAbs(args[0])
	for _, d := range []string{".config", ".local/share", ".local/state"} {
		if err := os.MkdirAll(filepath.Join(home, d), 0o700); err != nil {
			ts.Fatalf("%v", err)
		}
	}
	ts.Setenv("HOME", home)
	ts.Setenv("XDG_CONFIG_HOME", filepath.Join(home, ".config"))
	ts.Setenv("XDG_DATA_HOME", filepath.Join(home, ".local/share"))
	ts.Setenv("XDG_STATE_HOME", filepath.Join(home, ".local/state"))
}
