package create

import (
	"context"
	"errors"
	"io"
	"strings"
	"sync"
	"testing"

	"github.com/connctl/connctl/internal/exitcode"
)

// createWith runs create as the command line would (so the secret flags
// exist), with input typed at the prompts and "typed-secret" at the
// hidden one.
func createWith(t *testing.T, ctx context.Context, tty bool, input string, args ...string) (error, string, map[string]string) {
	t.Helper()
	d, _, _ := newDeps(t, tty, input)
	d.IO.SetSecretReader(func() (string, error) { return "typed-secret", nil })
	var opts *Options
	cmd := NewCmd(d, func(_ context.Context, o *Options) error { opts = o; return nil })
	cmd.SetArgs(args)
	if err := cmd.Execute(); err != nil {
		t.Fatal(err)
	}
	d.IO.SetContext(ctx)
	err := run(ctx, opts)
	errOut := d.IO.ErrOut.(interface{ String() string }).String()
	cfg, cerr := d.Config()
	if cerr != nil {
		t.Fatal(cerr)
	}
	got := map[string]string{}
	for _, c := range cfg.Connections() {
		got[c.Name] = c.Auth
	}
	return err, errOut, got
}

// On a terminal, a connector with several auth methods and no --auth:
// a numbered choice, Enter for the first.
func TestCreateAsksForTheAuthMethod(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, input string
		args        []string
		want        string
	}{
		{"number", "2\n", []string{"--set", "project_id=123"}, "api_secret"},
		{"enter takes the first", "\nsa.user\n", []string{"--set", "project_id=123"}, "service_account"},
		{"the id", "api_secret\n", []string{"--set", "project_id=123"}, "api_secret"},
		{"asked again", "7\n2\n", []string{"--set", "project_id=123"}, "api_secret"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			err, errOut, conns := createWith(t, context.Background(), true, tc.input, append([]string{"--connector", "mixpanel", "--name", "mp"}, tc.args...)...)
			if err != nil {
				t.Fatalf("%v\n%s", err, errOut)
			}
			if conns["mp"] != tc.want {
				t.Errorf("auth %q, want %q\n%s", conns["mp"], tc.want, errOut)
			}
			wantList := "Mixpanel has several auth methods:\n  1) service_account: Service account (default)\n  2) api_secret: "
			if !strings.HasPrefix(errOut, wantList) || !strings.Contains(errOut, "Auth method [1-2, Enter for 1]: ") {
				t.Errorf("stderr:\n%s\nwant it to start\n%s", errOut, wantList)
			}
		})
	}
}

// Not on a terminal, or with --auth or --set auth=, nothing is asked; nor
// for a connector with one method.
func TestCreateDoesNotAskForTheAuthMethod(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name  string
		tty   bool
		input string
		args  []string
		want  string
	}{
		{"not a terminal", false, "piped-secret\n", []string{"--connector", "mixpanel", "--set", "project_id=123", "--set", "service_account_username=u", "--secret-stdin"}, "service_account"},
		{"--auth", true, "", []string{"--connector", "mixpanel", "--set", "project_id=123", "--auth", "api_secret"}, "api_secret"},
		{"--set auth=", true, "", []string{"--connector", "mixpanel", "--set", "project_id=123", "--set", "auth=api_secret"}, "api_secret"},
		{"one method", true, "acme\n", []string{"--connector", "freshdesk"}, "api_key"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			err, errOut, conns := createWith(t, context.Background(), tc.tty, tc.input, append([]string{"--name", "c"}, tc.args...)...)
			if err != nil {
				t.Fatalf("%v\n%s", err, errOut)
			}
			if strings.Contains(errOut, "auth method") {
				t.Errorf("asked:\n%s", errOut)
			}
			if got, ok := conns["c"]; !ok || (got != tc.want && got != "") {
				t.Errorf("connections %v, want c with auth %q", conns, tc.want)
			}
		})
	}
}

// Ctrl-C at the choice ends it at once: exit 130, nothing saved.
func TestCreateAuthChoiceEndsOnCtrlC(t *testing.T) {
	t.Parallel()
	d, mem, _ := newDeps(t, true, "")
	pr, pw := io.Pipe() // nobody types
	defer pw.Close()
	d.IO.In = pr
	var opts *Options
	cmd := NewCmd(d, func(_ context.Context, o *Options) error { opts = o; return nil })
	cmd.SetArgs([]string{"--connector", "mixpanel", "--set", "project_id=123"})
	if err := cmd.Execute(); err != nil {
		t.Fatal(err)
	}
	w := &promptWatch{asked: make(chan struct{})}
	d.IO.ErrOut = w
	ctx, cancel := context.WithCancel(context.Background())
	d.IO.SetContext(ctx)
	done := make(chan error, 1)
	go func() { done <- run(ctx, opts) }()
	// Wait for the question, then press Ctrl-C.
	<-w.asked
	cancel()
	err := <-done
	if !errors.Is(err, context.Canceled) || exitcode.FromError(err) != exitcode.Interrupted {
		t.Fatalf("got %v (exit %d), want an interrupt (130)", err, exitcode.FromError(err))
	}
	cfg, _ := d.Config()
	if len(cfg.Connections()) != 0 || len(mem.Items()) != 0 {
		t.Fatalf("saved: %v %v", cfg.Connections(), mem.Items())
	}
}

// promptWatch is stderr that says when the auth choice has been asked.
type promptWatch struct {
	mu    sync.Mutex
	b     strings.Builder
	asked chan struct{}
	once  sync.Once
}

func (w *promptWatch) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.b.Write(p)
	if strings.Contains(w.b.String(), "Auth method [1-2, Enter for 1]: ") {
		w.once.Do(func() { close(w.asked) })
	}
	return len(p), nil
}
