package main

// Attacks on the real binary's state keeping: kill -9 during create, edit
// and delete; a config on a full or read-only filesystem; delete racing
// edit --secret-stdin. The config must always parse, and no secret may be
// lost or left without a definition (a create killed before its config
// write leaves one only until the next create or delete sweeps it).

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/connctl/connctl/internal/configstore"
	"github.com/connctl/connctl/internal/secretstore/secretstoretest"
	"github.com/connctl/connctl/internal/testpeer"
)

// stateRig is a throwaway home for connctl runs sharing one config and one
// fake keyring file.
type stateRig struct {
	t       *testing.T
	env     []string
	config  string
	keyring string
}

func newStateRig(t *testing.T, configDir string) *stateRig {
	t.Helper()
	if _, err := exec.LookPath("connctl"); err != nil {
		t.Fatalf("connctl is not on PATH (testscript.Main puts it there): %v", err)
	}
	home := t.TempDir()
	if configDir == "" {
		configDir = filepath.Join(home, "config")
	}
	r := &stateRig{t: t, config: filepath.Join(configDir, "config.yaml"), keyring: filepath.Join(home, "fake-keyring.json")}
	r.env = append(os.Environ(), "HOME="+home, "XDG_CONFIG_HOME="+filepath.Join(home, "xdg-config"),
		"XDG_STATE_HOME="+filepath.Join(home, "state"), "XDG_DATA_HOME="+filepath.Join(home, "data"),
		"XDG_CACHE_HOME="+filepath.Join(home, "cache"), "CONNCTL_CONFIG="+r.config,
		"CONNCTL_TEST_FAKE_KEYRING="+r.keyring, "CONNCTL_NO_PROMPT=1", "CONNCTL_TEST_KEYRING=", "CONNCTL_TEST_SCRIPT_KEYRING=")
	return r
}

func (r *stateRig) cmd(stdin string, args ...string) *exec.Cmd {
	c := exec.Command("connctl", args...)
	c.Env = r.env
	c.Stdin = strings.NewReader(stdin)
	return c
}

// run runs connctl to the end and returns its exit code and stderr.
func (r *stateRig) run(stdin string, args ...string) (int, string) {
	c := r.cmd(stdin, args...)
	var stderr bytes.Buffer
	c.Stderr = &stderr
	err := c.Run()
	var ee *exec.ExitError
	switch {
	case err == nil:
		return 0, stderr.String()
	case errors.As(err, &ee):
		return ee.ExitCode(), stderr.String()
	}
	r.t.Fatalf("run connctl %v: %v", args, err)
	return -1, ""
}

func (r *stateRig) mustRun(stdin string, args ...string) {
	r.t.Helper()
	if code, stderr := r.run(stdin, args...); code != 0 {
		r.t.Fatalf("connctl %s: exit %d\n%s", strings.Join(args, " "), code, stderr)
	}
}

// audit reads the config (it must parse) and the fake keyring, and returns
// the secret items no definition names and the named ones that are missing.
func (r *stateRig) audit() (conns []configstore.Connection, orphans, lost []string) {
	r.t.Helper()
	cfg, err := configstore.Open(r.config, func(string) string { return "" })
	if err != nil {
		r.t.Fatalf("config no longer parses: %v", err)
	}
	items, err := secretstoretest.NewFileFake(r.keyring).Items()
	if err != nil {
		r.t.Fatalf("fake keyring unreadable: %v", err)
	}
	named := map[string]bool{}
	for _, c := range cfg.Connections() {
		for _, k := range c.Secrets {
			named[c.ID+"/"+k] = true
			if _, ok := items[c.ID+"/"+k]; !ok {
				lost = append(lost, c.Name+"/"+k)
			}
		}
	}
	for key := range items {
		if !named[key] {
			orphans = append(orphans, key)
		}
	}
	return cfg.Connections(), orphans, lost
}

// TestAttackKillDuringChanges kills connctl with SIGKILL at random moments
// of create, edit --secret-stdin and delete.
func TestAttackKillDuringChanges(t *testing.T) {
	if testing.Short() {
		t.Skip("kill loop: not in -short")
	}
	r := newStateRig(t, "")
	r.mustRun("key-0", "create", "--connector", "freshdesk", "--name", "base", "--set", "domain=acme", "--secret-stdin")
	// How long a whole run takes here spreads the kills over all of it.
	began := time.Now()
	r.mustRun("key-x", "edit", "base", "--secret-stdin")
	span := 2 * time.Since(began)
	const rounds = 60
	rng := rand.New(rand.NewPCG(1, 2))
	killed, maxOrphans, finished := 0, 0, 0
	for i := range rounds {
		var args []string
		stdin := fmt.Sprintf("key-%d", i+1)
		switch i % 3 {
		case 0:
			args = []string{"create", "--connector", "freshdesk", "--name", fmt.Sprintf("c%d", i), "--set", "domain=acme", "--secret-stdin"}
		case 1:
			args = []string{"edit", "base", "--secret-stdin"}
		case 2:
			args = []string{"delete", fmt.Sprintf("c%d", i-2), "--yes", "--keep-remote"}
		}
		c := r.cmd(stdin, args...)
		if err := c.Start(); err != nil {
			t.Fatal(err)
		}
		time.Sleep(time.Duration(rng.Int64N(int64(span)))) // where the kill lands, not a timing assertion
		_ = c.Process.Signal(syscall.SIGKILL)
		if err := c.Wait(); err != nil && strings.Contains(err.Error(), "killed") {
			killed++
		} else {
			finished++
		}
		_, orphans, lost := r.audit()
		if len(lost) > 0 {
			t.Fatalf("round %d (%s): secrets lost: %v", i, args[0], lost)
		}
		maxOrphans = max(maxOrphans, len(orphans))
	}
	// The next create and delete sweep what the killed runs left.
	r.mustRun("key-sweep", "create", "--connector", "freshdesk", "--name", "sweeper", "--set", "domain=acme", "--secret-stdin")
	r.mustRun("", "delete", "sweeper", "--yes", "--keep-remote")
	conns, orphans, lost := r.audit()
	t.Logf("kill -9 loop: %d runs, %d killed, %d finished first; at most %d orphan(s) between runs; after the sweep %d orphan(s), %d lost, %d connection(s)",
		rounds, killed, finished, maxOrphans, len(orphans), len(lost), len(conns))
	if len(orphans)+len(lost) > 0 {
		t.Fatalf("after the sweep: orphans %v, lost %v", orphans, lost)
	}
}

// TestAttackDeleteRacesEditSecret runs delete and edit --secret-stdin of
// one connection at once, as two processes.
func TestAttackDeleteRacesEditSecret(t *testing.T) {
	if testing.Short() {
		t.Skip("race loop: not in -short")
	}
	r := newStateRig(t, "")
	const trials = 20
	orphans := 0
	for i := range trials {
		name := fmt.Sprintf("s%d", i)
		r.mustRun("key-a", "create", "--connector", "freshdesk", "--name", name, "--set", "domain=acme", "--secret-stdin")
		var wg sync.WaitGroup
		wg.Add(2)
		go func() { defer wg.Done(); r.run("key-b", "edit", name, "--secret-stdin") }()
		go func() { defer wg.Done(); r.run("", "delete", name, "--yes", "--keep-remote") }()
		wg.Wait()
		conns, o, lost := r.audit()
		orphans += len(o)
		if len(o)+len(lost) > 0 || len(conns) != 0 {
			t.Errorf("trial %d: orphans %v, lost %v, connections left %d", i, o, lost, len(conns))
		}
	}
	t.Logf("delete vs edit --secret-stdin: %d trials, %d orphans", trials, orphans)
}

// TestAttackUnwritableConfig puts the config on a 64 KiB tmpfs, fills it,
// then makes it read-only: create, edit and delete must fail without
// changing anything, and work again once there is room.
func TestAttackUnwritableConfig(t *testing.T) {
	dir := t.TempDir()
	if os.Geteuid() != 0 {
		testpeer.Missing(t, errors.New("mounting a tmpfs needs root"), "run the tests as root (CI does)")
	}
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size=64k,mode=0700", "tmpfs", dir).CombinedOutput(); err != nil {
		testpeer.Missing(t, fmt.Errorf("mount a tmpfs: %v: %s", err, out), "run the tests as root where mount(8) works (CI does)")
	}
	t.Cleanup(func() { _ = exec.Command("umount", dir).Run() })
	r := newStateRig(t, dir)
	r.mustRun("key-1", "create", "--connector", "freshdesk", "--name", "support", "--set", "domain=acme", "--secret-stdin")
	before, _ := os.ReadFile(r.config)

	check := func(when string, args []string, stdin string) {
		t.Helper()
		code, stderr := r.run(stdin, args...)
		conns, orphans, lost := r.audit()
		after, _ := os.ReadFile(r.config)
		if code == 0 || len(orphans)+len(lost) > 0 || !bytes.Equal(before, after) || len(conns) != 1 {
			t.Errorf("%s, %s: exit %d, orphans %v, lost %v, config changed %v\n%s", when, args[0], code, orphans, lost, !bytes.Equal(before, after), stderr)
		}
		items, _ := secretstoretest.NewFileFake(r.keyring).Items()
		if items[conns[0].ID+"/api_key"] != "key-1" {
			t.Errorf("%s, %s: the secret changed", when, args[0])
		}
	}
	attacks := [][]string{
		{"create", "--connector", "freshdesk", "--name", "other", "--set", "domain=acme", "--secret-stdin"},
		{"edit", "support", "--secret-stdin"},
		{"edit", "support", "--set", "domain=acme-eu"},
		{"delete", "support", "--yes", "--keep-remote"},
		{"revoke", "support", "--yes"},
	}
	// Full: fill the filesystem with one file.
	filler := filepath.Join(dir, "filler")
	f, err := os.Create(filler)
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := f.Write(make([]byte, 4096)); err != nil {
			break
		}
	}
	_ = f.Close()
	for _, a := range attacks {
		check("disk full", a, "key-2")
	}
	if err := os.Remove(filler); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("mount", "-o", "remount,ro", dir).CombinedOutput(); err != nil {
		t.Fatalf("remount read-only: %v: %s", err, out)
	}
	for _, a := range attacks {
		check("read-only", a, "key-2")
	}
	if out, err := exec.Command("mount", "-o", "remount,rw", dir).CombinedOutput(); err != nil {
		t.Fatalf("remount read-write: %v: %s", err, out)
	}
	r.mustRun("", "delete", "support", "--yes", "--keep-remote")
	if conns, orphans, lost := r.audit(); len(conns)+len(orphans)+len(lost) != 0 {
		t.Fatalf("delete after the disk came back: %d connections, orphans %v, lost %v", len(conns), orphans, lost)
	}
	t.Logf("full and read-only config filesystem: %d attacks each, all refused with nothing changed", len(attacks))
}
