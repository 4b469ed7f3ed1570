package ui_test

import (
	"context"
	"fmt"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/spf13/cobra"

	"github.com/connctl/connctl/internal/activitylog"
	"github.com/connctl/connctl/internal/commands/cmdtest"
	"github.com/connctl/connctl/internal/commands/root"
	"github.com/connctl/connctl/internal/commands/ui"
	"github.com/connctl/connctl/internal/configstore"
	"github.com/connctl/connctl/internal/connector/all"
	"github.com/connctl/connctl/internal/deps"
	"github.com/connctl/connctl/internal/exitcode"
	"github.com/connctl/connctl/internal/iostreams"
	"github.com/connctl/connctl/internal/secretstore"
	"github.com/connctl/connctl/internal/secretstore/secretstoretest"
	"github.com/connctl/connctl/internal/tui"
)

func verbs(d *deps.Deps) *cobra.Command { return root.NewCmd(d) }

func TestUIFlags(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		argv    []string
		wantErr string
	}{
		{argv: nil},
		{argv: []string{"crm"}, wantErr: `unknown command "crm"`},
		{argv: []string{"--search", "x"}, wantErr: "unknown flag: --search"},
	} {
		t.Run(strings.Join(tc.argv, " "), func(t *testing.T) {
			t.Parallel()
			ios, _, _, _ := iostreams.Test()
			ran := false
			cmd := ui.NewCmd(&deps.Deps{IO: ios}, verbs, func(context.Context, *ui.Options) error { ran = true; return nil })
			err := cmdtest.Execute(cmd, append([]string{"ui"}, tc.argv...))
			if tc.wantErr == "" {
				if err != nil || !ran {
					t.Fatalf("err %v, ran %v", err, ran)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) || ran {
				t.Fatalf("err %v, want %q (ran %v)", err, tc.wantErr, ran)
			}
		})
	}
}

func TestUINeedsATerminal(t *testing.T) {
	t.Parallel()
	ios, _, out, errOut := iostreams.Test()
	opts := &ui.Options{IO: ios, Backend: func() (tui.Backend, error) { t.Fatal("backend opened"); return nil, nil }}
	err := ui.Run(context.Background(), opts)
	if exitcode.FromError(err) != exitcode.Usage || !strings.Contains(err.Error(), "needs a terminal") ||
		!strings.Contains(strings.Join(exitcode.Hints(err), " "), "connctl list") {
		t.Fatalf("err %v (code %d, hints %v)", err, exitcode.FromError(err), exitcode.Hints(err))
	}
	if out.Len()+errOut.Len() > 0 {
		t.Errorf("wrote %q %q", out, errOut)
	}
}

// newDeps returns deps over a config in a temporary directory, an
// in-memory keyring and an activity log, with no provider check.
func newDeps(t testing.TB) *deps.Deps {
	t.Helper()
	dir := t.TempDir()
	ios, _, _, _ := iostreams.Test()
	mem := secretstoretest.NewMemory()
	env := map[string]string{"XDG_STATE_HOME": filepath.Join(dir, "state"), "CONNCTL_CONFIG": filepath.Join(dir, "config.yaml")}
	d := &deps.Deps{IO: ios, Getenv: func(k string) string { return env[k] }, Now: func() time.Time { return time.Date(2026, 12, 5, 9, 0, 0, 0, time.UTC) },
		HTTP: func() *http.Client { return http.DefaultClient }, SkipVerify: true}
	d.Catalog = sync.OnceValue(all.Catalogue)
	d.Config = sync.OnceValues(func() (configstore.Config, error) {
		return configstore.Open(filepath.Join(dir, "config.yaml"), d.Getenv)
	})
	d.Secrets = func() (secretstore.Store, error) { return mem, nil }
	d.SecretBackend = func(string) (secretstore.Store, error) { return mem, nil }
	d.Activities = sync.OnceValues(func() (activitylog.Log, error) {
		return activitylog.Open(filepath.Join(dir, "state", "connctl", activitylog.FileName), activitylog.WithClock(d.Now))
	})
	return d
}

// The backend runs the verbs: what the page does is what the command line does.
func TestBackendRunsTheVerbs(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	d := newDeps(t)
	b, err := ui.NewBackend(d, verbs)
	if err != nil {
		t.Fatal(err)
	}
	var progress []string
	line, err := b.Submit(ctx, tui.ActCreate, "", tui.Submission{Connector: "freshdesk", Auth: "api_key", Name: "support",
		Fields: map[string]string{"domain": "acme"}, Secrets: map[string]string{"api_key": "fd-key-1"}}, func(s string) { progress = append(progress, s) })
	if err != nil || !strings.Contains(line, "Created connection support") {
		t.Fatalf("create: %q, %v (progress %v)", line, err, progress)
	}
	rows, err := b.Connections(ctx)
	if err != nil || len(rows) != 1 || rows[0].Name != "support" || rows[0].Fields["domain"] != "acme.freshdesk.com" && rows[0].Fields["domain"] != "acme" || rows[0].OAuth {
		t.Fatalf("rows %+v, %v", rows, err)
	}
	line, err = b.Submit(ctx, tui.ActCreateJob, "support", tui.Submission{Name: "tickets", Source: "tickets",
		Fields: map[string]string{"dest": filepath.Join(t.TempDir(), "t.ndjson"), "schedule": "daily"}}, nil)
	if err != nil {
		t.Fatalf("create job: %q, %v", line, err)
	}
	if js, err := b.Jobs(ctx, "support"); err != nil || len(js) != 1 || js[0].Name != "tickets" || js[0].Schedule != "daily" {
		t.Fatalf("jobs %+v, %v", js, err)
	}
	what, err := b.Describe(ctx, tui.ActDelete, "support")
	if err != nil || what != "connection support (freshdesk) with its secrets, and job(s) tickets" {
		t.Errorf("describe delete: %q, %v", what, err)
	}
	if line, err = b.Submit(ctx, tui.ActEdit, "support", tui.Submission{Name: "desk", Fields: map[string]string{}}, nil); err != nil {
		t.Fatalf("edit: %q %v", line, err)
	}
	if line, err = b.Do(ctx, tui.ActRevoke, "desk", func(string) {}); err != nil || !strings.Contains(line, "Revoked connection desk") {
		t.Fatalf("revoke: %q %v", line, err)
	}
	// A run that cannot start fails with the command line's error (no network here).
	if _, err := b.RunJob(ctx, "tickets", func(string) {}); err == nil {
		t.Errorf("a job of a revoked connection ran")
	}
	acts, err := b.Activities(ctx, "desk")
	if err != nil || len(acts) < 2 {
		t.Errorf("activities %+v, %v", acts, err)
	}
	// An error comes back with the command line's hint.
	_, err = b.Do(ctx, tui.ActRevoke, "nope", func(string) {})
	if err == nil || !strings.Contains(err.Error(), `connection "nope" not found`) || len(b.Hints(err)) == 0 {
		t.Errorf("unknown connection: %v, hints %v", err, b.Hints(err))
	}
	if _, err = b.Do(ctx, tui.ActDelete, "desk", func(string) {}); err != nil {
		t.Fatal(err)
	}
	if rows, _ = b.Connections(ctx); len(rows) != 0 {
		t.Errorf("after delete: %+v", rows)
	}
	if cs := b.Connectors(); len(cs) < 10 {
		t.Errorf("%d connectors", len(cs))
	}
	if b.ValidName("") == nil {
		t.Errorf("an empty name is valid")
	}
}

// Lines on stderr while the page is up (a warning, a debug trace) are held
// and printed once it has closed, so that they do not tear the screen.
func TestStderrHeldWhileThePageRuns(t *testing.T) {
	t.Parallel()
	ios, _, out, errOut := iostreams.Test()
	ios.SetTTY(true, true, true)
	d := newDeps(t)
	ran := false
	opts := &ui.Options{IO: ios, Now: d.Now,
		Backend: func() (tui.Backend, error) { return ui.NewBackend(d, verbs) },
		Program: func(_ context.Context, m *tui.Model) error {
			ran = m != nil
			ios.Warnf("cannot read the activity log")
			if errOut.Len() > 0 {
				t.Errorf("stderr written while the page runs: %q", errOut)
			}
			return nil
		}}
	if err := ui.Run(context.Background(), opts); err != nil || !ran {
		t.Fatalf("run: %v (ran %v)", err, ran)
	}
	if errOut.String() != "warning: cannot read the activity log\n" || out.Len() != 0 {
		t.Errorf("after the page: stderr %q, stdout %q", errOut, out)
	}
}

// BenchmarkLoad10k: the page's rows at 10,000 connections, read as a
// reload does (`connctl list -o json` in-process over the open config,
// then decoded), before the first frame (docs/performance.md).
func BenchmarkLoad10k(b *testing.B) {
	d := newDeps(b)
	cfg, err := d.Config()
	if err != nil {
		b.Fatal(err)
	}
	now := d.Now()
	err = cfg.Update(context.Background(), func(doc *configstore.Document) error {
		for i := range 10000 {
			doc.Connections = append(doc.Connections, configstore.Connection{
				ID: fmt.Sprintf("conn_%016x", i), Name: fmt.Sprintf("conn-%05d", i), Connector: "freshdesk", Auth: "api_key",
				Fields: map[string]string{"domain": "acme"}, Secrets: []string{"api_key"}, SecretBackend: "keyring",
				Status: configstore.StatusAuthorized, CreatedAt: now.Add(-time.Duration(i) * time.Minute), UpdatedAt: now,
			})
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	be, err := ui.NewBackend(d, verbs)
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		rows, err := be.Connections(context.Background())
		if err != nil || len(rows) != 10000 {
			b.Fatalf("%d rows, %v", len(rows), err)
		}
	}
}
