package main

import (
	"bytes"
	"encoding/json"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/connctl/connctl/internal/testpeer"
	"github.com/connctl/connctl/internal/testpeer/hydra"
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

// newUISession starts `connctl ui` in a tmux of its own, 100×30, in a
// fresh HOME with the fake keyring; before is run first (to create
// connections). tmux missing skips the test only when skipping is allowed.
func newUISession(t *testing.T, extraEnv []string, before func(s *uiSession)) *uiSession {
	t.Helper()
	if _, err := exec.LookPath("tmux"); err != nil {
		if testpeer.SkipAllowed() {
			t.Skip("tmux is not installed (scripts/install-deps.sh installs it)")
		}
		t.Fatal("tmux is not installed: run scripts/install-deps.sh")
	}
	dir := t.TempDir()
	s := &uiSession{t: t, socket: "connctl-ui-" + filepath.Base(dir)}
	s.env = append(append(os.Environ(), "HOME="+dir, "XDG_CONFIG_HOME="+filepath.Join(dir, "config"), "XDG_STATE_HOME="+filepath.Join(dir, "state"),
		"CONNCTL_TEST_FAKE_KEYRING="+filepath.Join(dir, "keyring.json"), "CONNCTL_CONFIG=", "NO_COLOR=1", "TERM=xterm-256color"), extraEnv...)
	if before != nil {
		before(s)
	}
	var envArgs []string
	for _, e := range s.env {
		if k, _, _ := strings.Cut(e, "="); strings.HasPrefix(k, "CONNCTL_") || strings.HasPrefix(k, "XDG_") || k == "HOME" || k == "PATH" || k == "NO_COLOR" || k == "BROWSER" {
			envArgs = append(envArgs, e)
		}
	}
	shell := "env " + quoteAll(envArgs) + " connctl ui; echo connctl-exited-$?; sleep 30"
	s.tmux("new-session", "-d", "-s", "ui", "-x", "100", "-y", "30", shell)
	t.Cleanup(func() { _ = exec.Command("tmux", "-L", s.socket, "kill-server").Run() })
	// No secret in any file the page's verbs wrote (the fake keyring is
	// the secret store), as the scripts check.
	t.Cleanup(func() {
		_ = filepath.WalkDir(dir, func(p string, de fs.DirEntry, err error) error {
			if err != nil || de.IsDir() || filepath.Base(p) == "keyring.json" || strings.HasSuffix(p, ".lock") {
				return nil
			}
			b, _ := os.ReadFile(p)
			for _, m := range leakMarks {
				if bytes.Contains(b, m) {
					t.Errorf("secret %q found in %s", m, p)
				}
			}
			return nil
		})
	})
	return s
}

func TestUIInTmux(t *testing.T) {
	fd := startFreshdesk() // rejects the key below: desk-us's job fails
	t.Cleanup(fd.srv.Close)
	s := newUISession(t, nil, func(s *uiSession) {
		for _, name := range []string{"support", "desk-eu", "desk-us"} {
			s.connctl("fd-key-CANARY", "create", "--connector", "freshdesk", "--name", name, "--set", "domain=acme", "--set", "base_url="+fd.srv.URL, "--secret-stdin")
		}
	})
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

	// A job of desk-us, created from its connector's sources, run now: it
	// fails (the key is refused), and its activity shows why.
	s.keys("/", "desk-us", "Enter", "J")
	s.waitFor("Jobs of desk-us")
	s.keys("n")
	s.waitFor("Create Job · desk-us")
	s.keys("Enter")
	s.waitFor("source tickets")
	out := filepath.Join(t.TempDir(), "tickets.ndjson")
	s.keys("Enter", "C-u", out, "C-s")
	s.waitFor("Created job desk-us-tickets")
	s.keys("r")
	s.save("job-failed", s.waitFor("error: "))
	s.keys("Escape")
	s.waitFor("1 of 3")
	s.keys("C-r")
	s.waitFor("ⓘ 1 failed")
	s.keys("A")
	scr = s.waitFor("reason: ")
	s.save("failed-activity", scr)
	if !strings.Contains(scr, "failed") || !strings.Contains(scr, "desk-us-tickets") {
		t.Errorf("the failed run's activity:\n%s", scr)
	}
	s.keys("Escape")
	s.waitFor("1 of 3")
	s.keys("/")
	s.waitFor("Search: desk-us█")
	for range len("desk-us") {
		s.keys("BSpace")
	}
	s.keys("Enter")
	s.waitFor("Search: press /")

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

// TestUIOAuthInTmux: an OAuth connection created in the page against a real
// authorization server (Hydra), the browser stand-in clicking "Allow";
// then revoked, re-authorized and deleted from the context menu.
func TestUIOAuthInTmux(t *testing.T) {
	srv := hydra.Start(t, hydra.Options{})
	id, _, err := srv.CreateClient(t.Context(), hydra.ClientOptions{Public: true,
		RedirectURIs: []string{"http://127.0.0.1/callback"}, Scopes: []string{"openid", "offline_access", "offline", "email"}})
	if err != nil {
		t.Fatal(err)
	}
	// The first time, nobody signs in (the opener does nothing), so the
	// page waits showing the URL until Esc; after that the stand-in does.
	dir := t.TempDir()
	opener := filepath.Join(dir, "opener")
	script := "#!/bin/sh\nif [ ! -e '" + dir + "/opened' ]; then touch '" + dir + "/opened'; exit 0; fi\nexec browser-standin \"$@\"\n"
	if err := os.WriteFile(opener, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	s := newUISession(t, []string{"BROWSER=" + opener, "CONNCTL_TEST_BROWSER_LOG=" + filepath.Join(dir, "browser.log")}, nil)
	s.waitFor("No connections yet")
	s.keys("c")
	s.waitFor("Connector:")
	s.keys("oauth2 browser")
	s.waitFor("Create Connection  1 of ")
	s.keys("Enter")
	s.waitFor("Create Connection · Generic OAuth")
	// name, base_url, issuer, auth_url, token_url, revoke_url, userinfo_url, client_id, client_secret, scopes
	s.keys("C-u", "idp", "Enter", "Enter", srv.Issuer, "Enter", "Enter", "Enter", "Enter", "Enter", id, "Enter", "Enter", "openid offline_access offline email")
	s.waitFor("offline email")
	s.keys("C-s")
	scr := s.waitFor("Waiting for the browser")
	// The URL is wrapped: join the lines to find it.
	if !strings.Contains(strings.NewReplacer("\n", "", " ", "").Replace(scr), "code_challenge_method=S256") {
		t.Errorf("the authorization URL is not on the screen:\n%s", scr)
	}
	s.save("oauth-wait", scr)
	s.keys("Escape")
	s.waitFor("error: ")
	if st := s.statuses(); st["idp"] != "not_authorized" {
		t.Fatalf("after a cancelled sign-in, list says %v", st)
	}
	s.keys("Escape")
	s.waitFor("Nothing saved")
	s.keys("a")
	s.waitFor("Authorized connection idp")
	if st := s.statuses(); st["idp"] != "authorized" {
		t.Fatalf("after authorize, list says %v", st)
	}
	s.keys("v")
	s.waitFor("its token is revoked with the provider")
	s.keys("y")
	s.waitFor("Revoked connection idp")
	if st := s.statuses(); st["idp"] != "revoked" {
		t.Fatalf("after revoke, list says %v", st)
	}
	s.keys("R")
	s.waitFor("Reauthorized connection idp")
	if st := s.statuses(); st["idp"] != "authorized" {
		t.Fatalf("after re-authorize, list says %v", st)
	}
	s.keys("d")
	s.waitFor("Delete connection idp (oauth2)")
	s.keys("y")
	s.waitFor("Deleted connection idp")
	if st := s.statuses(); len(st) != 0 {
		t.Fatalf("after delete, list says %v", st)
	}
	s.keys("q")
	s.waitFor("connctl-exited-0")
}
