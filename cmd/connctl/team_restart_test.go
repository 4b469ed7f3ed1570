package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/connctl/connctl/internal/testpeer/postgres"
)

// TestTeamPostgresRestart restarts the team store's PostgreSQL while a job
// runs on machine a (its provider holds the request). First b waits until
// every machine reads a's run as running again (it took its lock back):
// b's run of the job is refused and a's run finishes. Then, after a second
// restart, b runs the job as soon as the server is back: either a's run
// took its lock back first (as before) or b began the job (then a's run
// stops, recorded failed, exit 1, one line). Each time exactly one run
// succeeds, the output is whole, no run is left running or stale, and the
// next run works with no repair.
func TestTeamPostgresRestart(t *testing.T) {
	srv := postgres.Start(t)
	url := srv.NewDatabase(t)
	fd := startFreshdesk()
	t.Cleanup(fd.srv.Close)
	a, b := teamCLI(t, url), teamCLI(t, url)
	b.env = append(slices.DeleteFunc(b.env, func(kv string) bool { return strings.HasPrefix(kv, "CONNCTL_TEST_FAKE_KEYRING=") }),
		"CONNCTL_TEST_FAKE_KEYRING="+a.fake)
	a.ok("fd-CANARY-blocking", "create", "-c", "freshdesk", "-n", "slow", "--set", "domain=acme", "--set", "base_url="+fd.srv.URL, "--secret-stdin", "--no-verify")
	dest := filepath.Join(t.TempDir(), "slow.ndjson")
	a.ok("", "jobs", "create", "slow", "--connection", "slow", "--source", "tickets", "--dest", dest, "--full-refresh")

	start := func(c *cli) (*exec.Cmd, *bytes.Buffer, chan error) {
		cmd := exec.Command("connctl", "jobs", "run", "slow")
		cmd.Dir, cmd.Env = c.dir, c.env
		var errb bytes.Buffer
		cmd.Stderr = &errb
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		t.Cleanup(func() { _ = cmd.Process.Kill() })
		return cmd, &errb, done
	}
	arrived := func(what string) {
		t.Helper()
		select {
		case <-fd.arrived:
		case <-time.After(60 * time.Second):
			t.Fatalf("%s: no request reached the provider", what)
		}
	}
	release := func() {
		fd.mu.Lock()
		defer fd.mu.Unlock()
		if !fd.released {
			close(fd.release)
			fd.released = true
		}
	}

	type act struct {
		Status string `json:"status"`
		Host   string `json:"host"`
	}
	var list []act
	for phase, waitReclaim := range []bool{true, false} {
		before := 0
		for _, r := range list {
			if r.Status == "succeeded" {
				before++
			}
		}
		if phase > 0 {
			fd.mu.Lock()
			fd.release, fd.released = make(chan struct{}), false
			fd.mu.Unlock()
		}
		_, aErr, aDone := start(a)
		arrived("a's run")
		restarted := time.Now()
		if err := srv.Restart(); err != nil {
			t.Fatal(err)
		}
		if waitReclaim {
			for deadline := time.Now().Add(60 * time.Second); ; time.Sleep(50 * time.Millisecond) {
				code, out, _ := b.run("", "activities", "--job", "slow", "--limit", "1", "--jq", ".[0].status")
				if code == 0 && strings.TrimSpace(out) == "running" {
					t.Logf("a's run read as running again %s after the restart began", time.Since(restarted).Round(10*time.Millisecond))
					break
				}
				if time.Now().After(deadline) {
					t.Fatal("a's run did not read as running again within 60s of the restart")
				}
			}
		}
		_, bErr, bDone := start(b)
		var bCode int
		bBegan := false
		select {
		case err := <-bDone: // refused: a's run holds the job again
			bCode = exitCode(t, err)
		case <-fd.arrived: // b's run began: a's run has lost its claim
			bBegan = true
		case <-time.After(60 * time.Second):
			t.Fatal("b's run neither ended nor reached the provider")
		}
		release()
		aCode := exitCode(t, <-aDone)
		if bBegan {
			bCode = exitCode(t, <-bDone)
		}
		if waitReclaim && bBegan {
			t.Errorf("b began the job beside a's run, which had taken its lock back")
		}
		t.Logf("b's run began: %v; a exited %d: %s; b exited %d: %s", bBegan, aCode, strings.TrimSpace(aErr.String()), bCode, strings.TrimSpace(bErr.String()))
		if bBegan {
			if aCode != 1 || !oneError.MatchString(aErr.String()) || !strings.Contains(aErr.String(), `job "slow" stopped: the run lost its claim on the job`) {
				t.Errorf("a, whose claim b took: exit %d\n%s\nwant exit 1 and one line saying it lost its claim", aCode, aErr)
			}
			if bCode != 0 {
				t.Errorf("b's run: exit %d\n%s", bCode, bErr)
			}
		} else {
			if aCode != 0 {
				t.Errorf("a's run across the restart: exit %d\n%s", aCode, aErr)
			}
			if bCode != 1 || !strings.Contains(bErr.String(), `job "slow" is already running`) {
				t.Errorf("b beside a's reclaimed run: exit %d\n%s\nwant exit 1, already running", bCode, bErr)
			}
		}

		// Nothing half-written: one succeeded run, none running or stale, the
		// output whole.
		list = nil
		if err := json.Unmarshal([]byte(b.ok("", "activities", "--type", "execution", "--limit", "0", "-o", "json")), &list); err != nil {
			t.Fatal(err)
		}
		succeeded := -before
		for _, r := range list {
			switch r.Status {
			case "succeeded":
				succeeded++
			case "running", "stale":
				t.Errorf("a run left %s: %+v", r.Status, list)
			}
		}
		if succeeded != 1 {
			t.Errorf("%d runs succeeded, want 1: %+v", succeeded, list)
		}
		if recs := lines(t, dest); len(recs) != 250 {
			t.Errorf("the output has %d records, want 250", len(recs))
		}
	}
	// The next run works, with no repair.
	if out := a.ok("", "jobs", "run", "slow"); !strings.Contains(out, "slow: ") {
		t.Errorf("the next run: %s", out)
	}
	if _, err := os.Stat(dest); err != nil {
		t.Fatal(err)
	}
}

func exitCode(t *testing.T, err error) int {
	t.Helper()
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return ee.ExitCode()
	}
	if err != nil {
		t.Fatal(err)
	}
	return 0
}
