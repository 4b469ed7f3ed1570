package app

import (
	"context"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/connctl/connctl/internal/configstore"
	"github.com/connctl/connctl/internal/connector/all"
	"github.com/connctl/connctl/internal/deps"
	"github.com/connctl/connctl/internal/iostreams"
	"github.com/connctl/connctl/internal/secretstore"
	"github.com/connctl/connctl/internal/secretstore/secretstoretest"
)

type openerFunc func(ctx context.Context, u string) error

func (f openerFunc) Open(ctx context.Context, u string) error { return f(ctx, u) }

func testDeps(t *testing.T) (*deps.Deps, *strings.Builder, string) {
	t.Helper()
	ios, _, out, errOut := iostreams.Test()
	dir := t.TempDir()
	env := map[string]string{"CONNCTL_CONFIG": filepath.Join(dir, "config.yaml"), "XDG_STATE_HOME": dir}
	d := &deps.Deps{IO: ios, Getenv: func(k string) string { return env[k] }, Now: time.Now}
	d.Catalog = sync.OnceValue(all.Catalogue)
	d.Config = sync.OnceValues(func() (configstore.Config, error) {
		p, _ := d.ConfigPath()
		return configstore.Open(p, d.Getenv)
	})
	mem := secretstoretest.NewMemory()
	d.Secrets = func() (secretstore.Store, error) { return mem, nil }
	d.HTTP = func() *http.Client { return http.DefaultClient }
	sb := &strings.Builder{}
	t.Cleanup(func() { sb.WriteString(out.String() + errOut.String()) })
	_ = errOut
	return d, sb, env["CONNCTL_CONFIG"]
}

// Ctrl-C during the browser flow: exit 130, nothing stored, port freed.
func TestInterruptDuringAuthorization(t *testing.T) {
	t.Parallel()
	d, _, cfgPath := testDeps(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var redirect string
	d.Browser = openerFunc(func(_ context.Context, u string) error {
		p, _ := url.Parse(u)
		redirect = p.Query().Get("redirect_uri")
		cancel() // the user presses Ctrl-C instead of signing in
		return nil
	})
	code := RunContext(ctx, []string{"create", "--connector", "oauth2", "--name", "idp",
		"--set", "client_id=cid", "--set", "auth_url=https://idp.example/authorize", "--set", "token_url=https://idp.example/token"}, d)
	if code != 130 {
		t.Fatalf("exit %d, want 130", code)
	}
	s, err := configstore.Open(cfgPath, nil)
	if err != nil {
		t.Fatal(err)
	}
	if c, ok := s.Find("idp"); !ok || c.Status != configstore.StatusNotAuthorized || len(c.Secrets) != 0 {
		t.Fatalf("after interrupt: %+v", c)
	}
	u, _ := url.Parse(redirect)
	if conn, err := net.DialTimeout("tcp", u.Host, time.Second); err == nil {
		conn.Close()
		t.Fatal("loopback listener still open")
	}
	_ = os.Remove(cfgPath)
}

func TestUsageErrorsExitTwo(t *testing.T) {
	t.Parallel()
	for _, args := range [][]string{{"bogus"}, {"list", "--bogus"}, {"show"}, {"create", "--connector", "nope"}, {"list", "-o", "xml"}} {
		d, _, _ := testDeps(t)
		if code := RunContext(context.Background(), args, d); code != 2 {
			t.Errorf("%v: exit %d, want 2", args, code)
		}
	}
}

// cancelOnWrite cancels a context at the first write: a Ctrl-C while the
// command connctl exec runs is writing.
type cancelOnWrite struct {
	cancel context.CancelFunc
	sb     strings.Builder
}

func (w *cancelOnWrite) Write(p []byte) (int, error) { w.cancel(); return w.sb.Write(p) }

// connctl exec exits with its child's status, even when Ctrl-C came while
// the child ran: the child decided what the interrupt means.
func TestExecChildStatusAfterInterrupt(t *testing.T) {
	t.Parallel()
	d, _, _ := testDeps(t)
	d.SkipVerify = true
	d.Environ = func() []string { return []string{"PATH=" + os.Getenv("PATH")} }
	d.IO.In = strings.NewReader("CANARY-key")
	if code := RunContext(context.Background(), []string{"create", "--connector", "s3", "--name", "store", "--set", "bucket=acme",
		"--set", "access_key_id=AKIAEXAMPLE", "--secret-stdin"}, d); code != 0 {
		t.Fatalf("create exited %d", code)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	w := &cancelOnWrite{cancel: cancel}
	d.IO.Out = w
	if code := RunContext(ctx, []string{"exec", "store", "--", "sh", "-c", "echo started; exit 7"}, d); code != 7 {
		t.Fatalf("exit %d, want the child's 7", code)
	}
	if ctx.Err() == nil || w.sb.String() != "started\n" {
		t.Fatalf("the child did not run under an interrupted connctl (%v, %q)", ctx.Err(), w.sb.String())
	}
}
