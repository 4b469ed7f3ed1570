package delete

import (
	"bytes"
	"context"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/connctl/connctl/internal/commands/connection/revoke"
	"github.com/connctl/connctl/internal/configstore"
	"github.com/connctl/connctl/internal/connection"
	"github.com/connctl/connctl/internal/connector/all"
	"github.com/connctl/connctl/internal/deps"
	"github.com/connctl/connctl/internal/exitcode"
	"github.com/connctl/connctl/internal/iostreams"
	"github.com/connctl/connctl/internal/jobs"
	"github.com/connctl/connctl/internal/secretstore"
	"github.com/connctl/connctl/internal/secretstore/secretstoretest"
)

// newTerminal returns deps on a terminal whose user answers answer, with a
// Freshdesk connection "support" and, when withJob, its job "tickets".
func newTerminal(t *testing.T, answer string, withJob bool) (*deps.Deps, *bytes.Buffer) {
	t.Helper()
	ios, in, _, errOut := iostreams.Test()
	ios.SetTTY(true, true, true)
	in.WriteString(answer)
	dir := t.TempDir()
	mem := secretstoretest.NewMemory()
	env := map[string]string{"XDG_STATE_HOME": filepath.Join(dir, "state")}
	d := &deps.Deps{IO: ios, Getenv: func(k string) string { return env[k] }, Now: func() time.Time { return time.Unix(1e9, 0) },
		HTTP: func() *http.Client { return http.DefaultClient }}
	d.Catalog = sync.OnceValue(all.Catalogue)
	d.Config = sync.OnceValues(func() (configstore.Config, error) {
		return configstore.Open(filepath.Join(dir, "config.yaml"), d.Getenv)
	})
	d.Secrets = func() (secretstore.Store, error) { return mem, nil }
	cfg, err := d.Config()
	if err != nil {
		t.Fatal(err)
	}
	ctr, _ := d.Catalog().Lookup("freshdesk")
	mgr := &connection.Manager{Config: cfg, Secrets: d.Secrets, Catalog: d.Catalog(), Now: d.Now}
	if _, err := mgr.Create(context.Background(), connection.CreateRequest{Connector: ctr, Auth: ctr.DefaultAuth(), Name: "support",
		Fields: map[string]string{"domain": "acme"}, Secrets: map[string]string{"api_key": "k-1"}}); err != nil {
		t.Fatal(err)
	}
	if withJob {
		jm := &jobs.Manager{Config: cfg, Catalog: d.Catalog(), Now: d.Now}
		if _, err := jm.Create(context.Background(), jobs.Spec{Name: "tickets", Connection: "support", Source: "tickets", Dest: filepath.Join(dir, "t.ndjson")}); err != nil {
			t.Fatal(err)
		}
	}
	return d, errOut
}

// withDeps returns o with d's services filled in, as NewCmd does.
func withDeps(d *deps.Deps, o Options) *Options {
	opts := newOptions(d)
	o.IO, o.Connections, o.Jobs, o.Authz, o.ActivitiesIfAny = opts.IO, opts.Connections, opts.Jobs, opts.Authz, opts.ActivitiesIfAny
	return &o
}

func connections(t *testing.T, d *deps.Deps) int {
	t.Helper()
	cfg, _ := d.Config()
	return len(cfg.Document().Connections)
}

// Answering no is a choice, not an interrupt: exit 1, "nothing deleted".
func TestDeclineDeletesNothing(t *testing.T) {
	t.Parallel()
	d, errOut := newTerminal(t, "n\n", false)
	err := run(context.Background(), withDeps(d, Options{Names: []string{"support"}}))
	if exitcode.FromError(err) != exitcode.Failure || err.Error() != "nothing deleted" {
		t.Fatalf("got %v (exit %d), want exit 1 nothing deleted", err, exitcode.FromError(err))
	}
	if !strings.Contains(errOut.String(), "Delete connection support (freshdesk) with their secrets? [y/N]") {
		t.Fatalf("question: %q", errOut.String())
	}
	if connections(t, d) != 1 {
		t.Fatal("deleted although declined")
	}
}

// A connection used by jobs is refused before the question, so the user is
// never asked for something that cannot happen.
func TestJobsCheckedBeforeAsking(t *testing.T) {
	t.Parallel()
	d, errOut := newTerminal(t, "y\n", true)
	err := run(context.Background(), withDeps(d, Options{Names: []string{"support"}}))
	if exitcode.FromError(err) != exitcode.Usage || !strings.Contains(err.Error(), `used by job(s) tickets`) {
		t.Fatalf("got %v", err)
	}
	if strings.Contains(errOut.String(), "[y/N]") {
		t.Fatalf("asked first: %q", errOut.String())
	}
}

// --cascade names the jobs in the question, then deletes them too.
func TestCascadeListsJobsInQuestion(t *testing.T) {
	t.Parallel()
	d, errOut := newTerminal(t, "y\n", true)
	if err := run(context.Background(), withDeps(d, Options{Names: []string{"support"}, Cascade: true})); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(errOut.String(), "Delete connection support (freshdesk) with their secrets, and job(s) tickets? [y/N]") {
		t.Fatalf("question: %q", errOut.String())
	}
	cfg, _ := d.Config()
	if doc := cfg.Document(); len(doc.Connections) != 0 || len(doc.Jobs) != 0 {
		t.Fatalf("left %d connections, %d jobs", len(doc.Connections), len(doc.Jobs))
	}
}

// revoke of a key-based connection asks on a terminal; no keeps the key.
func TestRevokeKeyAsks(t *testing.T) {
	t.Parallel()
	d, errOut := newTerminal(t, "n\n", false)
	cmd := revoke.NewCmd(d, nil)
	cmd.SetArgs([]string{"support"})
	cmd.SilenceErrors, cmd.SilenceUsage = true, true
	err := cmd.Execute()
	if exitcode.FromError(err) != exitcode.Failure || err.Error() != "nothing revoked" {
		t.Fatalf("got %v", err)
	}
	if !strings.Contains(errOut.String(), "Revoke connection support (freshdesk)?") {
		t.Fatalf("question: %q", errOut.String())
	}
	cfg, _ := d.Config()
	if c, _ := cfg.Find("support"); c.Status != configstore.StatusAuthorized {
		t.Fatalf("status %s", c.Status)
	}
}
