package create

import (
	"context"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/connctl/connctl/internal/configstore"
	"github.com/connctl/connctl/internal/connector/all"
	"github.com/connctl/connctl/internal/deps"
	"github.com/connctl/connctl/internal/exitcode"
	"github.com/connctl/connctl/internal/iostreams"
	"github.com/connctl/connctl/internal/secretstore"
	"github.com/connctl/connctl/internal/secretstore/secretstoretest"
)

func newDeps(t *testing.T, tty bool, input string) (*deps.Deps, *secretstoretest.Memory, *strings.Builder) {
	t.Helper()
	ios, in, _, errOut := iostreams.Test()
	ios.SetTTY(tty, tty, tty)
	in.WriteString(input)
	mem := secretstoretest.NewMemory()
	path := filepath.Join(t.TempDir(), "config.yaml")
	d := &deps.Deps{IO: ios, Getenv: func(string) string { return "" }, Now: func() time.Time { return time.Unix(1e9, 0) }, SkipVerify: true}
	d.Catalog = sync.OnceValue(all.Catalogue)
	d.Config = sync.OnceValues(func() (configstore.Config, error) { return configstore.Open(path, d.Getenv) })
	d.Secrets = func() (secretstore.Store, error) { return mem, nil }
	sb := &strings.Builder{}
	t.Cleanup(func() { sb.WriteString(errOut.String()) })
	return d, mem, sb
}

// withDeps returns o with d's services filled in, as NewCmd does.
func withDeps(d *deps.Deps, o Options) *Options {
	n := newOptions(d)
	o.IO, o.Getenv, o.Catalog, o.Connections, o.Authz = n.IO, n.Getenv, n.Catalog, n.Connections, n.Authz
	o.Creds, o.RecordFailedAuthorization, o.CreateDefaults = n.Creds, n.RecordFailedAuthorization, n.CreateDefaults
	return &o
}

// On a terminal, missing fields are asked for, invalid answers are asked
// again, and the secret is read without echo.
func TestCreatePromptsOnTerminal(t *testing.T) {
	t.Parallel()
	d, mem, _ := newDeps(t, true, "acme freshdesk\nacme\n")
	d.IO.SetSecretReader(func() (string, error) { return "typed-key", nil })
	opts := withDeps(d, Options{Connector: "freshdesk"})
	cmd := NewCmd(d, func(ctx context.Context, o *Options) error { opts = o; return nil })
	cmd.SetArgs([]string{"--connector", "freshdesk"})
	if err := cmd.Execute(); err != nil {
		t.Fatal(err)
	}
	if err := run(context.Background(), opts); err != nil {
		t.Fatal(err)
	}
	cfg, _ := d.Config()
	c, ok := cfg.Find("freshdesk")
	if !ok || c.Fields["domain"] != "acme" || c.Status != configstore.StatusAuthorized {
		t.Fatalf("got %+v", c)
	}
	if v, _ := mem.Get(context.Background(), c.ID, "api_key"); v != "typed-key" {
		t.Fatalf("secret %q", v)
	}
}

func TestCreateNotInteractiveNamesMissingField(t *testing.T) {
	t.Parallel()
	d, mem, _ := newDeps(t, false, "")
	err := run(context.Background(), withDeps(d, Options{Connector: "zendesk", Set: []string{"subdomain=acme"}, Secret: nil}))
	if exitcode.FromError(err) != exitcode.Usage || !strings.Contains(err.Error(), "email") {
		t.Fatalf("got %v", err)
	}
	if len(mem.Items()) != 0 {
		t.Fatal("secret stored")
	}
}
