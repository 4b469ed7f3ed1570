package main

import (
	"bytes"
	"context"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/connctl/connctl/internal/app"
	"github.com/connctl/connctl/internal/configstore"
	"github.com/connctl/connctl/internal/connector/all"
	"github.com/connctl/connctl/internal/deps"
	"github.com/connctl/connctl/internal/iostreams"
	"github.com/connctl/connctl/internal/secretstore"
	"github.com/connctl/connctl/internal/secretstore/secretstoretest"
	"github.com/connctl/connctl/internal/testpeer/browsersim"
	"github.com/connctl/connctl/internal/testpeer/hydra"
)

type chromiumOpener struct {
	mu   sync.Mutex
	errs []error
	done chan struct{}
}

func (o *chromiumOpener) Open(ctx context.Context, u string) error {
	go func() {
		defer close(o.done)
		cctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		defer cancel()
		if _, err := browsersim.Chromium(cctx, u); err != nil {
			o.mu.Lock()
			o.errs = append(o.errs, err)
			o.mu.Unlock()
		}
	}()
	return nil
}

// TestOAuthInHeadlessChromium drives a real browser through the whole
// sign-in: connctl's loopback listener, Hydra's login and consent pages
// (clicking Allow), the redirect back, the code exchange.
func TestOAuthInHeadlessChromium(t *testing.T) {
	browsersim.RequireChromium(t)
	srv := hydra.Start(t, hydra.Options{})
	clientID, _, err := srv.CreateClient(context.Background(), hydra.ClientOptions{Public: true,
		RedirectURIs: []string{"http://127.0.0.1/callback"}, Scopes: []string{"openid", "offline_access", "offline", "email"}})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	env := map[string]string{"CONNCTL_CONFIG": filepath.Join(dir, "config.yaml"), "XDG_STATE_HOME": dir}
	run := func(opener *chromiumOpener, args ...string) (int, string, string) {
		ios, _, out, errOut := iostreams.Test()
		d := &deps.Deps{IO: ios, Getenv: func(k string) string { return env[k] }, Now: time.Now}
		d.Catalog = sync.OnceValue(all.Catalogue)
		d.Config = sync.OnceValues(func() (configstore.Config, error) { return configstore.Open(env["CONNCTL_CONFIG"], d.Getenv) })
		mem := store
		d.Secrets = func() (secretstore.Store, error) { return mem, nil }
		d.HTTP = func() *http.Client { return &http.Client{Timeout: 30 * time.Second} }
		if opener != nil {
			d.Browser = opener
		}
		code := app.RunContext(context.Background(), args, d)
		return code, out.String(), errOut.String()
	}
	op := &chromiumOpener{done: make(chan struct{})}
	code, _, stderr := run(op, "create", "--connector", "oauth2", "--name", "idp", "--set", "issuer="+srv.Issuer,
		"--set", "client_id="+clientID, "--set", "scopes=openid offline_access offline email", "--timeout", "90s")
	<-op.done
	if code != 0 {
		t.Fatalf("create exited %d: %s %v", code, stderr, op.errs)
	}
	if !strings.Contains(stderr, "Authorized connection idp as alice@example.com") {
		t.Fatalf("stderr: %s", stderr)
	}
	code, stdout, stderr := run(nil, "token", "idp")
	if code != 0 || !strings.HasPrefix(stdout, "ory_at_") {
		t.Fatalf("token: %d %q %s", code, stdout, stderr)
	}
	if bytes.Contains([]byte(stderr), []byte("ory_")) {
		t.Fatal("a token reached stderr")
	}
}

var store = secretstoretest.NewMemory()
