package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/connctl/connctl/internal/authorization"
	"github.com/connctl/connctl/internal/connector/all"
	"github.com/connctl/connctl/internal/connector/connectortest"
	"github.com/connctl/connctl/internal/secretstore"
	"github.com/connctl/connctl/internal/secretstore/secretstoretest"
	"github.com/connctl/connctl/internal/testpeer"
)

// TestConformance runs the shared conformance suite once per connector and
// auth method, through the command line, against each vendor's fake (see
// internal/connector/connectortest, where every fake cites the vendor's
// documentation):
//
//  1. create (OAuth: the browser flow through the fake's authorization server)
//  2. test: ok, as the expected account
//  3. test with a bad secret (key-based: a wrong key; OAuth: every token
//     invalidated at the vendor): exit 4, needs_reauthorization
//  4. revoke: at the provider when it has an endpoint, locally otherwise;
//     test afterwards: exit 4
//  5. reauthorize, then test: ok
//  6. full run: every record, a succeeded activity; the connector's other
//     sources: a full run and another run each
//  7. incremental run: the touched records, asked for with the vendor's filter
//  8. throttled run: the vendor's throttle signal mid-run is waited out
//  9. OAuth: the access token expires mid-run; the run refreshes it once
//     and goes on
//  10. failing run: the vendor's server error mid-run; exit 1, the output
//     file untouched, a failed activity, the connection flagged in `list`
//  11. the next incremental run resumes from the last good checkpoint
//  12. delete: the grant revoked at the provider, no secret left in the store
//
// No file the runs leave may contain a secret.
func TestConformance(t *testing.T) {
	cases := connectortest.Cases()
	have := map[string]bool{}
	for _, c := range cases {
		have[c.Name()] = true
	}
	for _, ctr := range all.Catalogue().All() {
		for _, m := range ctr.Auths {
			name := ctr.ID
			if len(ctr.Auths) > 1 {
				name += "/" + m.ID
			}
			if !have[name] {
				t.Errorf("no conformance case for %s: add one in internal/connector/connectortest", name)
			}
		}
	}
	runs := map[string]bool{}
	for _, c := range cases {
		runs[c.Connector+"/"+c.Source] = true
		for _, a := range c.Also {
			runs[c.Connector+"/"+a.Source] = true
		}
	}
	for _, ctr := range all.Catalogue().All() {
		for _, src := range ctr.Sources {
			if !runs[ctr.ID+"/"+src.Name] {
				t.Errorf("no conformance case runs %s source %s: add it to a case's Source or Also", ctr.ID, src.Name)
			}
		}
	}
	for _, c := range cases {
		t.Run(c.Name(), func(t *testing.T) {
			t.Parallel()
			conform(t, c)
		})
	}
}

func conform(t *testing.T, c connectortest.Case) {
	f, err := c.Start(t)
	if errors.Is(err, connectortest.ErrMissingPeer) {
		testpeer.Missing(t, err, "scripts/build-test-tools.sh")
	}
	if err != nil {
		t.Fatalf("start the %s fake: %v", c.Name(), err)
	}
	cli := newCLI(t)
	const name = "conf"

	// 1. create
	args := []string{"create", "--connector", c.Connector, "--name", name}
	redirect := false
	for _, s := range f.Set {
		args = append(args, "--set", s)
		redirect = redirect || strings.HasPrefix(s, "redirect_uri=")
	}
	if f.OAuth != nil && !redirect {
		// The cases run in parallel: not on the catalogue's fixed port.
		args = append(args, "--set", "redirect_uri=http://127.0.0.1:0/callback")
	}
	stdin := ""
	if f.Secret != "" {
		args, stdin = cli.secretArgs(args, f.Secret, f.SecretField, f.SecretFile)
	}
	cli.ok(stdin, args...)
	if got := cli.field(name, "status"); got != "authorized" {
		t.Fatalf("after create, status %q, want authorized", got)
	}

	// 2. test
	out := cli.ok("", "test", name, "-o", "json")
	if !strings.Contains(out, c.Account) {
		t.Errorf("test says %q, want the account %q", out, c.Account)
	}

	// 3. test with a bad secret
	if f.OAuth != nil {
		f.OAuth.Invalidate()
	} else {
		if f.BadSecret == "" {
			t.Fatalf("the %s fake gives no BadSecret", c.Name())
		}
		// --no-verify: the check on save would refuse the bad secret
		// (the old one would stay); the suite needs it stored.
		a, in := cli.secretArgs([]string{"edit", name, "--no-verify"}, f.BadSecret, "", f.SecretFile)
		cli.ok(in, a...)
	}
	cli.exits(4, "", "test", name)
	if got := cli.field(name, "status"); got != "needs_reauthorization" {
		t.Errorf("after a rejected secret, status %q, want needs_reauthorization", got)
	}

	// 4. revoke
	before := 0
	if f.OAuth != nil {
		before = f.OAuth.Revocations()
	}
	rev := cli.ok("", "revoke", name, "--yes")
	switch {
	case f.OAuth != nil && c.Revocable && (f.OAuth.Revocations() == before || !strings.Contains(rev, authorization.RevokedAtProvider)):
		t.Errorf("revoke did not revoke at the provider's revocation endpoint (said %q)", rev)
	case f.OAuth != nil && !c.Revocable && !strings.Contains(rev, authorization.NoEndpoint):
		t.Errorf("revoke did not say the provider has no revocation endpoint (said %q)", rev)
	}
	if got := cli.field(name, "status"); got != "revoked" {
		t.Errorf("after revoke, status %q, want revoked", got)
	}
	cli.exits(4, "", "test", name)

	// 5. reauthorize
	args, stdin = []string{"reauthorize", name}, ""
	if f.OAuth == nil {
		args, stdin = cli.secretArgs(args, f.Secret, f.SecretField, f.SecretFile)
	}
	cli.ok(stdin, args...)
	cli.ok("", "test", name)

	// 6. full run
	job := []string{"jobs", "create", "j", "--connection", name, "--source", c.Source, "--dest", "out.ndjson"}
	for _, p := range c.Params {
		job = append(job, "--param", p)
	}
	cli.ok("", job...)
	cli.ok("", "jobs", "run", "j")
	lines := cli.records("out.ndjson")
	if len(lines) != f.Data.Len() {
		t.Fatalf("full run wrote %d records, want %d", len(lines), f.Data.Len())
	}
	if got := cli.ok("", "activities", "--type", "execution", "-o", "json", "--jq", ".[0].status"); strings.TrimSpace(got) != `"succeeded"` && strings.TrimSpace(got) != "succeeded" {
		t.Errorf("full run activity %s, want succeeded", got)
	}

	// 6b. the connector's other sources: a full run, then another run
	for _, a := range c.Also {
		dest := a.Source + ".ndjson"
		job := []string{"jobs", "create", "j-" + a.Source, "--connection", name, "--source", a.Source, "--dest", dest}
		for _, p := range a.Params {
			job = append(job, "--param", p)
		}
		cli.ok("", job...)
		cli.ok("", "jobs", "run", "j-"+a.Source)
		if got := len(cli.records(dest)); got != a.Records {
			t.Errorf("source %s: the full run wrote %d records, want %d", a.Source, got, a.Records)
		}
		cli.ok("", "jobs", "run", "j-"+a.Source)
		cli.ok("", "jobs", "delete", "j-"+a.Source, "--yes")
	}

	// 7. incremental run
	sinces := len(f.Data.Sinces())
	touched := f.Data.Touch(1, f.Data.Len()/2, f.Data.Len()-1)
	cli.ok("", "jobs", "run", "j")
	lines = cli.records("out.ndjson")
	if len(lines) < len(touched) || len(lines) > len(touched)+2 {
		t.Errorf("incremental run wrote %d records, want the %d touched (%v), at most 2 more", len(lines), len(touched), touched)
	}
	for _, id := range touched {
		if !hasID(lines, id) {
			t.Errorf("incremental run did not write touched record %s", id)
		}
	}
	if len(f.Data.Sinces()) == sinces {
		t.Errorf("the incremental run did not ask the vendor for changes only (no filter on the incremental field)")
	}

	// 8. throttled run
	f.Data.ThrottleAt(2)
	cli.ok("", "jobs", "run", "j", "--full-refresh")
	if got := len(cli.records("out.ndjson")); got != f.Data.Len() {
		t.Errorf("throttled run wrote %d records, want %d", got, f.Data.Len())
	}
	if f.Data.Throttled() == 0 {
		t.Errorf("the throttled run never met the throttle: it made %d data requests", f.Data.Requests())
	}

	// 9. the access token expires mid-run: one refresh, and the run goes on
	if f.OAuth != nil && !f.OAuth.NoRefresh {
		refreshes := f.OAuth.Refreshes()
		f.OAuth.ExpireAfter(2)
		cli.ok("", "jobs", "run", "j", "--full-refresh")
		if got := len(cli.records("out.ndjson")); got != f.Data.Len() {
			t.Errorf("the run whose token expired wrote %d records, want %d", got, f.Data.Len())
		}
		if f.OAuth.Refreshes() == refreshes {
			t.Errorf("the access token expired mid-run, but the run never refreshed it")
		}
	}

	// 10. failing run
	kept := cli.read("out.ndjson")
	f.Data.FailFrom(2)
	msg := cli.exits(1, "", "jobs", "run", "j", "--full-refresh")
	f.Data.Heal()
	if f.Data.Failed() == 0 {
		t.Errorf("the failing run never met the failure: it made %d data requests", f.Data.Requests())
	}
	if got := cli.read("out.ndjson"); !bytes.Equal(got, kept) {
		t.Errorf("the failing run changed out.ndjson")
	}
	if strings.Count(strings.TrimSpace(msg), "\n") > 2 {
		t.Errorf("the failing run's error is not short:\n%s", msg)
	}
	if got := strings.TrimSpace(cli.ok("", "activities", "--type", "execution", "-o", "json", "--jq", ".[0].status")); strings.Trim(got, `"`) != "failed" {
		t.Errorf("failing run activity %s, want failed", got)
	}
	if got := strings.TrimSpace(cli.ok("", "list", "-o", "json", "--jq", ".[0].failed_24h")); got == "0" || got == "" || got == "null" || got == "false" {
		t.Errorf("after a failed run, list says failed_24h %s", got)
	}

	// 11. the next incremental run resumes from the last good checkpoint
	// (The records touched in step 7 are at the checkpoint instant, at the
	// vendor's precision, and may come again.)
	again := f.Data.Touch(2)
	cli.ok("", "jobs", "run", "j")
	lines = cli.records("out.ndjson")
	if !hasID(lines, again[0]) {
		t.Errorf("after the failed run, the incremental run did not write touched record %s", again[0])
	}
	if others := len(lines) - countIDs(lines, append(again, touched...)); others > 2 {
		t.Errorf("after the failed run, the incremental run wrote %d records besides the touched ones, want at most 2", others)
	}

	// 12. delete: revoked at the provider, no secret left behind
	id, held := cli.field(name, "id"), cli.list(name, "secrets")
	if len(held) == 0 {
		t.Errorf("show lists no secrets for an authorized connection")
	}
	store := secretStore(cli.fake)
	for _, kind := range held {
		if _, err := store.Get(context.Background(), id, kind); err != nil {
			t.Fatalf("show lists secret %s, but the store has no such item: %v", kind, err)
		}
	}
	before = 0
	if f.OAuth != nil {
		before = f.OAuth.Revocations()
	}
	cli.ok("", "jobs", "delete", "j", "--yes")
	cli.ok("", "delete", name, "--yes")
	if f.OAuth != nil && c.Revocable && f.OAuth.Revocations() == before {
		t.Errorf("delete did not revoke the grant at the provider")
	}
	for _, kind := range held {
		if _, err := store.Get(context.Background(), id, kind); !errors.Is(err, secretstore.ErrNotFound) {
			t.Errorf("delete left the secret %s in the store (%v)", kind, err)
		}
	}
	cli.scan()
}

// hasID reports whether some NDJSON line has id as a JSON value.
func hasID(lines []string, id string) bool {
	re := regexp.MustCompile(`[:\[,]\s*"?` + regexp.QuoteMeta(id) + `"?\s*[,}\]]`)
	for _, l := range lines {
		if re.MatchString(l) {
			return true
		}
	}
	return false
}

// countIDs counts the lines that hold one of ids.
func countIDs(lines []string, ids []string) int {
	n := 0
	for _, l := range lines {
		for _, id := range ids {
			if hasID([]string{l}, id) {
				n++
				break
			}
		}
	}
	return n
}

// cli runs connctl (this test binary, through testscript's $PATH entry) in
// a throw-away home.
type cli struct {
	t    *testing.T
	dir  string
	env  []string
	fake string // the fake keyring file
}

func newCLI(t *testing.T) *cli {
	dir := t.TempDir()
	home := filepath.Join(dir, "home")
	for _, d := range []string{".config", ".local/share", ".local/state"} {
		if err := os.MkdirAll(filepath.Join(home, d), 0o700); err != nil {
			t.Fatal(err)
		}
	}
	c := &cli{t: t, dir: dir, fake: filepath.Join(dir, ".fake-keyring.json")}
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		if k == "PATH" || k == "TMPDIR" || k == "LANG" || k == "GORACE" || (realKeyring() && (k == "DBUS_SESSION_BUS_ADDRESS" || k == "XDG_RUNTIME_DIR" || k == "CONNCTL_TEST_KEYRING")) {
			c.env = append(c.env, kv)
		}
	}
	c.env = append(c.env, "HOME="+home, "XDG_CONFIG_HOME="+filepath.Join(home, ".config"),
		"XDG_DATA_HOME="+filepath.Join(home, ".local/share"), "XDG_STATE_HOME="+filepath.Join(home, ".local/state"),
		"CONNCTL_TEST_FAKE_KEYRING="+c.fake, "BROWSER=browser-standin", "NO_COLOR=1", "CONNCTL_TEST_SHORT_WAITS=1", "CONNCTL_TEST_VERIFY=1")
	return c
}

// run runs connctl with args and stdin; it returns the exit code, stdout and
// stderr.
func (c *cli) run(stdin string, args ...string) (int, string, string) {
	c.t.Helper()
	cmd := exec.Command("connctl", args...)
	cmd.Dir, cmd.Env, cmd.Stdin = c.dir, c.env, strings.NewReader(stdin)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		code = ee.ExitCode()
	} else if err != nil {
		c.t.Fatalf("run connctl: %v", err)
	}
	return code, out.String(), errb.String()
}

// ok runs connctl and requires exit 0; it returns stdout and stderr together.
func (c *cli) ok(stdin string, args ...string) string {
	c.t.Helper()
	code, out, errs := c.run(stdin, args...)
	if code != 0 {
		c.t.Fatalf("connctl %s: exit %d\nstdout: %s\nstderr: %s", strings.Join(args, " "), code, out, errs)
	}
	return out + errs
}

// exits runs connctl and requires exit code want; it returns stderr.
func (c *cli) exits(want int, stdin string, args ...string) string {
	c.t.Helper()
	code, out, errs := c.run(stdin, args...)
	if code != want {
		c.t.Fatalf("connctl %s: exit %d, want %d\nstdout: %s\nstderr: %s", strings.Join(args, " "), code, want, out, errs)
	}
	return errs
}

// secretArgs adds the flags that give secret (on stdin, or in a file).
func (c *cli) secretArgs(args []string, secret, field string, file bool) ([]string, string) {
	if field != "" {
		args = append(args, "--secret-field", field)
	}
	if file {
		p := filepath.Join(c.dir, "given-secret.json")
		if err := os.WriteFile(p, []byte(secret), 0o600); err != nil {
			c.t.Fatal(err)
		}
		return append(args, "--secret-file", p), ""
	}
	return append(args, "--secret-stdin"), secret
}

// show returns `show NAME -o json`.
func (c *cli) show(name string) map[string]any {
	c.t.Helper()
	_, out, _ := c.run("", "show", name, "-o", "json")
	var m map[string]any
	if err := json.Unmarshal([]byte(out), &m); err != nil {
		c.t.Fatalf("show %s -o json: %v: %s", name, err, out)
	}
	return m
}

// field returns one string field of `show NAME -o json`.
func (c *cli) field(name, key string) string {
	c.t.Helper()
	s, _ := c.show(name)[key].(string)
	return s
}

// list returns one list-of-strings field of `show NAME -o json`.
func (c *cli) list(name, key string) []string {
	c.t.Helper()
	var out []string
	vs, _ := c.show(name)[key].([]any)
	for _, v := range vs {
		if s, ok := v.(string); ok {
			out = append(out, s)
		}
	}
	return out
}

// secretStore is the store connctl uses in these tests: the real Secret
// Service, or the fake keyring file. Items are read one by one: listing
// them all (secret-tool search --all) while other tests delete theirs has
// crashed gnome-keyring-daemon.
func secretStore(fake string) secretstore.Store {
	if realKeyring() {
		return secretstore.NewKeyring(10 * time.Second)
	}
	return secretstoretest.NewFileFake(fake)
}

func (c *cli) read(file string) []byte {
	c.t.Helper()
	b, err := os.ReadFile(filepath.Join(c.dir, file))
	if err != nil {
		c.t.Fatal(err)
	}
	return b
}

// records returns the NDJSON lines of file.
func (c *cli) records(file string) []string {
	c.t.Helper()
	var lines []string
	sc := bufio.NewScanner(bytes.NewReader(c.read(file)))
	sc.Buffer(nil, 16<<20)
	for sc.Scan() {
		if l := strings.TrimSpace(sc.Text()); l != "" {
			lines = append(lines, l)
		}
	}
	return lines
}

// scan fails the test if any file left in the work folder (the fake
// keyring and the secret the test gave by file excepted) holds a secret.
func (c *cli) scan() {
	c.t.Helper()
	_ = filepath.WalkDir(c.dir, func(p string, de fs.DirEntry, err error) error {
		if err != nil || de.IsDir() || p == c.fake || filepath.Base(p) == "given-secret.json" || strings.HasSuffix(p, ".lock") {
			return nil
		}
		if b, err := os.ReadFile(p); err == nil && bytes.Contains(b, []byte(connectortest.Canary)) {
			c.t.Errorf("a secret (%s) is in %s", connectortest.Canary, p)
		}
		return nil
	})
}
