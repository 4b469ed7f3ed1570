package main

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/connctl/connctl/internal/testpeer"
)

// uiSession drives `connctl ui` in a real terminal: a tmux server of its
// own, keys sent with send-keys, the screen read with capture-pane.
type uiSession struct {
	t      *testing.T
	socket string
	env    []string
}

func (s *uiSession) tmux(args ...string) string {
	s.t.Helper()
	out, err := exec.Command("tmux", append([]string{"-L", s.socket, "-f", "/dev/null"}, args...)...).CombinedOutput()
	if err != nil {
		s.t.Fatalf("tmux %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

func (s *uiSession) screen() string { return s.tmux("capture-pane", "-p", "-t", "ui") }

// waitFor waits until the screen shows want. The limit only stops a hung
// test; nothing is asserted about how long it took.
func (s *uiSession) waitFor(want string) string {
	s.t.Helper()
	var scr string
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if scr = s.screen(); strings.Contains(scr, want) {
			return scr
		}
	}
	s.t.Fatalf("the screen never showed %q:\n%s", want, scr)
	return ""
}

// save writes the screen to $CONNCTL_UI_SCREENS/name.txt when that is set
// (the captures in docs/ui.md come from here).
func (s *uiSession) save(name, scr string) {
	if dir := os.Getenv("CONNCTL_UI_SCREENS"); dir != "" {
		lines := strings.Split(strings.TrimRight(scr, "\n"), "\n")
		for i := range lines {
			lines[i] = strings.TrimRight(lines[i], " ")
		}
		if err := os.WriteFile(filepath.Join(dir, name+".txt"), []byte(strings.Join(lines, "\n")+"\n"), 0o644); err != nil {
			s.t.Fatal(err)
		}
	}
}

func (s *uiSession) keys(keys ...string) {
	s.tmux(append([]string{"send-keys", "-t", "ui"}, keys...)...)
}

// connctl runs connctl outside the page, in the same config, and returns stdout.
func (s *uiSession) connctl(stdin string, args ...string) string {
	s.t.Helper()
	cmd := exec.Command("connctl", args...)
	cmd.Env, cmd.Stdin = s.env, strings.NewReader(stdin)
	out, err := cmd.Output()
	if err != nil {
		s.t.Fatalf("connctl %s: %v", strings.Join(args, " "), err)
	}
	return string(out)
}

// statuses is `connctl list -o json` as name -> status.
func (s *uiSession) statuses() map[string]string {
	var cs []struct{ Name, Status string }
	if err := json.Unmarshal([]byte(s.connctl("", "list", "-o", "json")), &cs); err != nil {
		s.t.Fatal(err)
	}
	m := map[string]string{}
	for _, c := range cs {
		m[c.Name] = c.Status
	}
	return m
}

func TestUIInTmux(t *testing.T) {
	if _, err := exec.LookPath("tmux"); err != nil {
		if testpeer.SkipAllowed() {
			t.Skip("tmux is not installed (scripts/install-deps.sh installs it)")
		}
		t.Fatal("tmux is not installed: run scripts/install-deps.sh")
	}
	dir := t.TempDir()
	s := &uiSession{t: t, socket: "connctl-ui-" + filepath.Base(dir)}
	s.env = append(os.Environ(), "HOME="+dir, "XDG_CONFIG_HOME="+filepath.Join(dir, "config"), "XDG_STATE_HOME="+filepath.Join(dir, "state"),
		"CONNCTL_TEST_FAKE_KEYRING="+filepath.Join(dir, "keyring.json"), "CONNCTL_CONFIG=", "NO_COLOR=1", "TERM=xterm-256color")
	for _, name := range []string{"support", "desk-eu", "desk-us"} {
		s.connctl("fd-key-CANARY", "create", "--connector", "freshdesk", "--name", name, "--set", "domain=acme", "--secret-stdin")
	}
	var envArgs []string
	for _, e := range s.env {
		if k, _, _ := strings.Cut(e, "="); strings.HasPrefix(k, "CONNCTL_") || strings.HasPrefix(k, "XDG_") || k == "HOME" || k == "PATH" || k == "NO_COLOR" {
			envArgs = append(envArgs, e)
		}
	}
	shell := "env " + quoteAll(envArgs) + " connctl ui; echo connctl-exited-$?; sleep 30"
	s.tmux("new-session", "-d", "-s", "ui", "-x", "100", "-y", "30", shell)
	t.Cleanup(func() { _ = exec.Command("tmux", "-L", s.socket, "kill-server").Run() })

	s.save("list", s.waitFor("3 of 3"))
	// Search as you type.
	s.keys("/", "e", "u")
	scr := s.waitFor("1 of 3")
	if !strings.Contains(scr, "desk-eu") || strings.Contains(scr, "desk-us") {
		t.Fatalf("search eu:\n%s", scr)
	}
	s.keys("Escape")
	s.waitFor("3 of 3")

	// Revoke desk-eu from the context menu.
	s.keys("/", "desk-eu", "Enter", "Enter")
	s.save("menu", s.waitFor("View Activities"))
	s.keys("v")
	s.save("confirm", s.waitFor("Revoke connection desk-eu (freshdesk)"))
	s.keys("y")
	s.waitFor("Revoked connection desk-eu")
	if st := s.statuses(); st["desk-eu"] != "revoked" || st["desk-us"] != "unverified" && st["desk-us"] != "authorized" {
		t.Fatalf("after revoke, list says %v", st)
	}

	// Delete support, confirming in the dialog that names it.
	// Escape on its own: followed at once by a key, a terminal reads it as Alt+key.
	s.keys("Escape")
	s.waitFor("Search: press /")
	s.keys("/", "support", "Enter", ".")
	s.waitFor("View Activities")
	s.keys("d")
	s.waitFor("Delete connection support (freshdesk) with its secrets?")
	s.keys("y")
	s.waitFor("Deleted connection support")
	if st := s.statuses(); len(st) != 2 || st["support"] != "" {
		t.Fatalf("after delete, list says %v", st)
	}

	// Create a key-based connection through the form.
	s.keys("Escape")
	s.waitFor("Search: press /")
	s.keys("c")
	s.waitFor("Connector:")
	s.keys("freshdesk")
	s.waitFor("Create Connection  1 of ")
	s.keys("Enter")
	s.waitFor("Create Connection · Freshdesk")
	s.keys("C-u", "desk-new", "Enter", "acme", "Enter", "Enter", "fd-key-CANARY")
	scr = s.waitFor("•••••")
	if strings.Contains(scr, "CANARY") {
		t.Fatalf("the key shows on the screen:\n%s", scr)
	}
	s.save("create", scr)
	s.keys("Enter")
	s.waitFor("Created connection desk-new")
	if st := s.statuses(); st["desk-new"] == "" || len(st) != 3 {
		t.Fatalf("after create, list says %v", st)
	}

	// The activity of the revoke is in View Activities.
	s.keys("/", "desk-eu", "Enter", "A")
	s.save("activities", s.waitFor("Activities of desk-eu"))
	s.keys("Escape")
	s.waitFor("1 of 3")
	s.keys("q")
	scr = s.waitFor("connctl-exited-0")
	if strings.Contains(scr, "Connections") {
		t.Errorf("the page is still on the screen after q:\n%s", scr)
	}
}

func quoteAll(args []string) string {
	q := make([]string, len(args))
	for i, a := range args {
		q[i] = "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
	}
	return strings.Join(q, " ")
}
