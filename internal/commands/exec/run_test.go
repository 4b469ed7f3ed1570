package exec

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/connctl/connctl/internal/configstore"
	"github.com/connctl/connctl/internal/connection"
	"github.com/connctl/connctl/internal/connector/all"
	"github.com/connctl/connctl/internal/deps"
	"github.com/connctl/connctl/internal/exitcode"
	"github.com/connctl/connctl/internal/iostreams"
	"github.com/connctl/connctl/internal/secretstore"
	"github.com/connctl/connctl/internal/secretstore/secretstoretest"
)

// setup returns options on a config with an S3 connection "store" (secret
// CANARY-key) and a Salesforce connection "crm" that needs
// reauthorization, a parent environment of parent, and signals that only
// the test delivers (through the returned channel's address).
func setup(t *testing.T, parent ...string) (*Options, *bytes.Buffer, *bytes.Buffer, *chan<- os.Signal) {
	t.Helper()
	ios, _, out, errOut := iostreams.Test()
	dir := t.TempDir()
	mem := secretstoretest.NewMemory()
	env := map[string]string{"XDG_STATE_HOME": filepath.Join(dir, "state")}
	d := &deps.Deps{IO: ios, Getenv: func(k string) string { return env[k] },
		Now:  func() time.Time { return time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC) },
		HTTP: func() *http.Client { return http.DefaultClient }}
	d.Catalog = sync.OnceValue(all.Catalogue)
	d.Config = sync.OnceValues(func() (configstore.Config, error) {
		return configstore.Open(filepath.Join(dir, "config.yaml"), d.Getenv)
	})
	d.Secrets = func() (secretstore.Store, error) { return mem, nil }
	mgr, err := d.Connections()
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	s3, _ := d.Catalog().Lookup("s3")
	if _, err := mgr.Create(ctx, connection.CreateRequest{Connector: s3, Auth: s3.DefaultAuth(), Name: "store",
		Fields:  map[string]string{"bucket": "acme", "access_key_id": "AKIAEXAMPLE", "region": "eu-west-1"},
		Secrets: map[string]string{"secret_access_key": "CANARY-key"}}); err != nil {
		t.Fatal(err)
	}
	sf, _ := d.Catalog().Lookup("salesforce")
	c, err := mgr.Create(ctx, connection.CreateRequest{Connector: sf, Auth: sf.DefaultAuth(), Name: "crm", Fields: map[string]string{"client_id": "cid"}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := mgr.StoreGrant(ctx, "crm", connection.Grant{AccessToken: "at-0", RefreshToken: "rt-0"}); err != nil {
		t.Fatal(err)
	}
	c, _ = mgr.Config.Find(c.Name)
	_ = mgr.MarkNeedsReauthorization(ctx, c, "the provider rejected its refresh token (invalid_grant)")
	sigs := new(chan<- os.Signal)
	var mu sync.Mutex
	opts := &Options{IO: ios, Authz: d.Authz, Environ: func() []string { return append([]string{"PATH=" + os.Getenv("PATH")}, parent...) },
		Notify: func(c chan<- os.Signal, _ ...os.Signal) { mu.Lock(); *sigs = c; mu.Unlock() },
		StopNotify: func(chan<- os.Signal) {
			mu.Lock()
			*sigs = nil
			mu.Unlock()
		}}
	return opts, out, errOut, sigs
}

func TestRunPassesCredentialsInTheEnvironment(t *testing.T) {
	t.Parallel()
	opts, out, _, _ := setup(t, "CONNCTL_PASSPHRASE=opens-everything", "CONNCTL__STORE__SESSION_TOKEN=stale")
	opts.Names = []string{"store"}
	opts.Command = []string{"sh", "-c", `printf '%s\n' "$CONNCTL__STORE__SECRET_ACCESS_KEY" "$AWS_SECRET_ACCESS_KEY" "$AWS_REGION" "${CONNCTL_PASSPHRASE-no passphrase}" "${CONNCTL__STORE__SESSION_TOKEN-no stale token}"`}
	if err := run(context.Background(), opts); err != nil {
		t.Fatal(err)
	}
	want := "CANARY-key\nCANARY-key\neu-west-1\nno passphrase\nno stale token\n"
	if out.String() != want {
		t.Errorf("child printed\n%s\nwant\n%s", out, want)
	}

	// --no-native: connctl's variables only.
	out.Reset()
	opts.NoNative = true
	opts.Command = []string{"sh", "-c", `printf '%s\n' "$CONNCTL__STORE__SECRET_ACCESS_KEY" "${AWS_SECRET_ACCESS_KEY-none}"`}
	if err := run(context.Background(), opts); err != nil {
		t.Fatal(err)
	}
	if out.String() != "CANARY-key\nnone\n" {
		t.Errorf("--no-native: child printed %q", out)
	}
}

func TestRunExitStatus(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	plain := filepath.Join(dir, "plain")
	if err := os.WriteFile(plain, []byte("echo hi\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		command []string
		code    exitcode.Code
		msg     string
	}{
		{"ok", []string{"true"}, 0, ""},
		{"passed through", []string{"sh", "-c", "exit 3"}, 3, ""},
		{"killed by a signal", []string{"sh", "-c", "kill -KILL $$"}, 128 + 9, ""},
		{"not found", []string{"connctl-no-such-command"}, NotFound, `command "connctl-no-such-command" not found in PATH`},
		{"no such file", []string{filepath.Join(dir, "missing")}, NotFound, "not found"},
		{"not executable", []string{plain}, NotExecutable, "is not executable"},
		{"a folder", []string{dir}, NotExecutable, "is a directory"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			opts, _, _, _ := setup(t)
			opts.Names, opts.Command = []string{"store"}, tc.command
			err := run(context.Background(), opts)
			if got := exitcode.FromError(err); got != tc.code {
				t.Fatalf("exit %d (%v), want %d", got, err, tc.code)
			}
			if tc.msg != "" && (err == nil || !strings.Contains(err.Error(), tc.msg)) {
				t.Errorf("error %v, want one containing %q", err, tc.msg)
			}
		})
	}
}

// Nothing starts when a connection needs authorization or the environment
// would be changed behind the user's back.
func TestRunRefusesBeforeStarting(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		parent []string
		names  []string
		code   exitcode.Code
		msg    string
		hint   string
	}{
		{"needs reauthorization", nil, []string{"store", "crm"}, exitcode.AuthNeeded, `connection "crm" needs reauthorization`, "connctl reauthorize crm"},
		{"parent region", []string{"AWS_REGION=us-west-2"}, []string{"store"}, exitcode.Usage,
			`AWS_REGION is set in the environment and connection "store" would change it`, "--no-native"},
		{"one name twice", nil, []string{"store", "store"}, exitcode.Usage, `connection "store" is named twice`, "name each connection once"},
		{"unknown", nil, []string{"nope"}, exitcode.Usage, `connection "nope" not found`, "connctl list"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			opts, _, _, _ := setup(t, tc.parent...)
			marker := filepath.Join(t.TempDir(), "started")
			opts.Names, opts.Command = tc.names, []string{"touch", marker}
			err := run(context.Background(), opts)
			if exitcode.FromError(err) != tc.code || !strings.Contains(err.Error(), tc.msg) {
				t.Fatalf("error %v (exit %d), want exit %d with %q", err, exitcode.FromError(err), tc.code, tc.msg)
			}
			if hints := strings.Join(exitcode.Hints(err), "\n"); !strings.Contains(hints, tc.hint) {
				t.Errorf("hints %q, want one with %q", hints, tc.hint)
			}
			if _, err := os.Stat(marker); err == nil {
				t.Error("the command ran")
			}
			if strings.Contains(err.Error(), "CANARY") || strings.Contains(err.Error(), "us-west-2") {
				t.Errorf("the error shows a value: %v", err)
			}
		})
	}
}

// A signal connctl receives goes to the child, and connctl waits for it
// and exits with its status.
func TestRunForwardsSignals(t *testing.T) {
	t.Parallel()
	opts, _, _, sigs := setup(t)
	pr, pw := io.Pipe()
	opts.IO.Out = pw
	opts.Names = []string{"store"}
	opts.Command = []string{"sh", "-c", `sleep 600 >/dev/null 2>&1 & s=$!; trap 'kill $s; echo "got TERM"; exit 7' TERM; echo ready; wait $s`}
	done := make(chan error, 1)
	go func() { done <- run(context.Background(), opts); _ = pw.Close() }()
	lines := bufio.NewScanner(pr)
	if !lines.Scan() || lines.Text() != "ready" {
		t.Fatalf("child said %q", lines.Text())
	}
	// The child is running, so connctl is listening.
	ch := *sigs
	if ch == nil {
		t.Fatal("connctl does not listen for signals while the child runs")
	}
	ch <- syscall.SIGTERM
	var rest []string
	for lines.Scan() {
		rest = append(rest, lines.Text())
	}
	err := <-done
	if exitcode.FromError(err) != 7 {
		t.Fatalf("exit %d (%v), want the child's 7", exitcode.FromError(err), err)
	}
	if !slices.Equal(rest, []string{"got TERM"}) {
		t.Errorf("child printed %q after ready", rest)
	}
	if *sigs != nil {
		t.Error("connctl still routes signals after the child ended")
	}
}
