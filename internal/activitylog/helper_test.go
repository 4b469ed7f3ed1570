package activitylog

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"
)

// The tests re-execute their own binary to get real separate processes; the
// environment says what the child does.
const (
	helperEnv = "ACTIVITYLOG_TEST_HELPER" // record | beginrun | exit
	dbEnv     = "ACTIVITYLOG_TEST_DB"
	workerEnv = "ACTIVITYLOG_TEST_WORKER"
	countEnv  = "ACTIVITYLOG_TEST_COUNT"
)

func TestMain(m *testing.M) {
	if mode := os.Getenv(helperEnv); mode != "" {
		if err := helper(mode); err != nil {
			fmt.Fprintln(os.Stderr, "helper:", err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// helper is the child process's side. Children wait for a line on stdin
// before they start, so that the parent can release them all at once.
func helper(mode string) error {
	if mode == "exit" {
		return nil
	}
	in := bufio.NewReader(os.Stdin)
	if _, err := in.ReadString('\n'); err != nil {
		return fmt.Errorf("waiting for go: %w", err)
	}
	s, err := Open(os.Getenv(dbEnv))
	if err != nil {
		return err
	}
	defer s.Close()
	ctx := context.Background()
	worker := os.Getenv(workerEnv)
	switch mode {
	case "record":
		n, _ := strconv.Atoi(os.Getenv(countEnv))
		for i := range n {
			_, err := s.Record(ctx, Activity{Type: TypeUpdate, Action: ActionEdit, ConnectionID: "c-" + worker, Message: fmt.Sprintf("%s/%d", worker, i)})
			if err != nil {
				return err
			}
		}
		return nil
	case "beginrun":
		id, err := s.BeginRun(ctx, Activity{JobID: "nightly", JobName: "nightly", ConnectionID: "c1"})
		var re *RunningError
		switch {
		case errors.As(err, &re):
			fmt.Fprintf(os.Stdout, "refused %s\n", err)
		case err != nil:
			return err
		default:
			fmt.Fprintf(os.Stdout, "ok %d %d\n", id, os.Getpid())
		}
		// Hold the run until the parent closes stdin.
		_, _ = io.Copy(io.Discard, in)
		if err == nil {
			return s.Finish(ctx, id, StatusSucceeded, "", "", Counts{Records: 1})
		}
		return nil
	}
	return fmt.Errorf("unknown helper mode %q", mode)
}

// helperCmd is a child running mode against db.
func helperCmd(t testing.TB, mode, db, worker string, extra ...string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), helperEnv+"="+mode, dbEnv+"="+db, workerEnv+"="+worker)
	cmd.Env = append(cmd.Env, extra...)
	cmd.Stderr = os.Stderr
	return cmd
}

// deadPID is the PID of a process of ours that has exited.
func deadPID(t *testing.T) int {
	t.Helper()
	cmd := helperCmd(t, "exit", "", "")
	if err := cmd.Run(); err != nil {
		t.Fatal(err)
	}
	return cmd.Process.Pid
}

// clock is a settable fake clock.
type clock struct{ t time.Time }

func (c *clock) Now() time.Time { return c.t }

var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

func newStore(t *testing.T, opts ...Option) (*Store, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "state", "connctl", FileName)
	s, err := Open(path, opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s, path
}
